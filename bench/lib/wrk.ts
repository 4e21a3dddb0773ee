// Runs wrk against one URL and reads requests/s and the p99 latency from its `--latency` report.
import { execFile } from 'node:child_process';

export interface WrkOptions {
  connections: number;
  threads: number;
  seconds: number;
  headers: Record<string, string>;
}

export interface WrkResult {
  requestsPerSecond: number;
  p99Milliseconds: number;
  totalRequests: number;
}

const LATENCY_UNITS_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** Parses a wrk duration such as `812.00us`, `3.41ms` or `1.02s` into milliseconds. */
export function parseWrkDuration(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (match === null) throw new Error(`unrecognised wrk duration "${text}"`);
  return Number(match[1]) * LATENCY_UNITS_MS[match[2]!]!;
}

/**
 * Extracts the figures from wrk's report. A run with non-2xx responses or socket errors is
 * rejected: requests/s of failing requests would flatter the server.
 */
export function parseWrkReport(report: string): WrkResult {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(report);
  const p99 = /^\s+99%\s+(\S+)/m.exec(report);
  const total = /^\s+(\d+) requests in /m.exec(report);
  if (rps === null || p99 === null || total === null) throw new Error(`could not parse wrk report:\n${report}`);
  const failures = /Non-2xx or 3xx responses:\s+(\d+)/.exec(report);
  if (failures !== null) throw new Error(`wrk saw ${failures[1]} non-2xx/3xx responses:\n${report}`);
  // A handful of read errors when wrk tears down its connections at the end is normal; more than
  // one per thousand requests means the server dropped or timed out real requests.
  const socketErrors = /Socket errors: (.*)/.exec(report);
  const errorCount = socketErrors === null ? 0 : [...socketErrors[1]!.matchAll(/\d+/g)].reduce((sum, m) => sum + Number(m[0]), 0);
  if (errorCount > Number(total[1]) / 1000) throw new Error(`wrk saw socket errors (${socketErrors?.[1]}):\n${report}`);
  return {
    requestsPerSecond: Number(rps[1]),
    p99Milliseconds: parseWrkDuration(p99[1]!),
    totalRequests: Number(total[1]),
  };
}

export function runWrk(url: string, options: WrkOptions): Promise<WrkResult> {
  const args = [
    '--threads', String(options.threads),
    '--connections', String(options.connections),
    '--duration', `${options.seconds}s`,
    '--timeout', '5s',
    '--latency',
    ...Object.entries(options.headers).flatMap(([name, value]) => ['--header', `${name}: ${value}`]),
    url,
  ];
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { timeout: (options.seconds + 30) * 1000 }, (error, stdout, stderr) => {
      if (error !== null) return reject(new Error(`wrk failed: ${error.message}\n${stderr}`));
      try {
        resolve(parseWrkReport(stdout));
      } catch (parseError) {
        reject(parseError);
      }
    });
  });
}
