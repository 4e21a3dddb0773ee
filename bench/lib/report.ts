// Turns the rounds into the side-by-side table: the median of each figure per registry, the ratio
// Wharf/Distribution, and PASS/MISS against the targets set in issue 2.
import type { WorkloadResult } from './workload.ts';

type Metric = keyof WorkloadResult;

interface Target {
  metric: Metric;
  label: string;
  /** Ratio Wharf/Distribution must be at least this (higher is better)... */
  minRatio?: number;
  /** ...or at most this (lower is better: latency). */
  maxRatio?: number;
  /** Absolute ceiling for Wharf's own figure (memory). */
  maxCandidate?: number;
  digits: number;
}

export const TARGETS: Target[] = [
  { metric: 'manifestRequestsPerSecond', label: 'manifest GET by tag (req/s)', minRatio: 3, digits: 0 },
  { metric: 'manifestP99Milliseconds', label: 'manifest GET p99 latency (ms)', maxRatio: 1, digits: 2 },
  { metric: 'uploadMonolithicMBps', label: 'blob upload, monolithic (MB/s)', minRatio: 2, digits: 0 },
  { metric: 'uploadChunkedMBps', label: 'blob upload, 8 MiB chunks (MB/s)', minRatio: 2, digits: 0 },
  { metric: 'downloadMBps', label: 'blob download (MB/s)', minRatio: 1, digits: 0 },
  { metric: 'burstImagesPerSecond', label: 'push burst, 16 clients (images/s)', minRatio: 1.5, digits: 1 },
  { metric: 'peakRssMiB', label: 'peak RSS, VmHWM (MiB)', maxCandidate: 200, digits: 0 },
];

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function targetText(target: Target): string {
  if (target.minRatio !== undefined) return `ratio >= ${target.minRatio}`;
  if (target.maxRatio !== undefined) return `ratio <= ${target.maxRatio}`;
  return `<= ${target.maxCandidate} MiB`;
}

function meets(target: Target, candidate: number, ratio: number): boolean {
  if (target.minRatio !== undefined) return ratio >= target.minRatio;
  if (target.maxRatio !== undefined) return ratio <= target.maxRatio;
  return candidate <= (target.maxCandidate ?? Infinity);
}

/**
 * The median of the per-round ratios. The two registries of one round run back to back, so they
 * share the machine's load at that moment; pairing them cancels much of the noise a shared
 * two-core machine adds, which a ratio of the two overall medians would not.
 */
export function pairedRatio(candidateRounds: WorkloadResult[], referenceRounds: WorkloadResult[], metric: Metric): number {
  const rounds = Math.min(candidateRounds.length, referenceRounds.length);
  const ratios = Array.from({ length: rounds }, (_, index) => candidateRounds[index]![metric] / referenceRounds[index]![metric]);
  return median(ratios);
}

/** Renders a Markdown table, so it can go straight into a closing note. */
export function renderTable(
  candidateName: string,
  candidateRounds: WorkloadResult[],
  referenceRounds: WorkloadResult[],
): { table: string; misses: number } {
  const header = `| metric | ${candidateName} | Distribution 2.8 | ${candidateName}/Distribution (paired) | target | result |`;
  const lines = [header, '|---|---:|---:|---:|---|---|'];
  let misses = 0;
  for (const target of TARGETS) {
    const candidate = median(candidateRounds.map((round) => round[target.metric]));
    const reference = median(referenceRounds.map((round) => round[target.metric]));
    const ratio = pairedRatio(candidateRounds, referenceRounds, target.metric);
    const passed = meets(target, candidate, ratio);
    if (!passed) misses++;
    lines.push(
      `| ${target.label} | ${candidate.toFixed(target.digits)} | ${reference.toFixed(target.digits)} | ` +
        `${ratio.toFixed(2)}x | ${targetText(target)} | ${passed ? 'PASS' : 'MISS'} |`,
    );
  }
  return { table: lines.join('\n'), misses };
}

/** One line per round and registry, so the spread behind each median stays visible. */
export function renderRounds(name: string, rounds: WorkloadResult[]): string {
  return rounds
    .map((round, index) =>
      `${name} round ${index + 1}: ` +
      TARGETS.map((target) => `${target.metric}=${round[target.metric].toFixed(target.digits)}`).join(' '),
    )
    .join('\n');
}
