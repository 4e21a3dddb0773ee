/**
 * A finding's severity: the highest CVSS v4 or v3 base score of the record (or of the affected
 * package), computed with ae-cvss-calculator; failing that, the record's own label (GHSA's
 * database_specific.severity). Scores map to the usual CVSS bands.
 */
import cvss from 'ae-cvss-calculator';
import type { OsvAffected, OsvRecord, OsvSeverity } from './osv-record.ts';

export type SeverityLevel = 'critical' | 'high' | 'medium' | 'low' | 'none' | 'unknown';
export const SEVERITY_ORDER: readonly SeverityLevel[] = ['critical', 'high', 'medium', 'low', 'none', 'unknown'];

export interface Severity {
  readonly level: SeverityLevel;
  readonly score?: number;
  readonly source: string;
}

const { Cvss3P0, Cvss3P1, Cvss4P0 } = cvss as unknown as Record<string, new (vector: string) => { calculateScores(): { base?: number; overall?: number } }>;

export function cvssBaseScore(vector: string): number | undefined {
  try {
    const calculator = vector.startsWith('CVSS:4.0/') ? new Cvss4P0!(vector) : vector.startsWith('CVSS:3.1/') ? new Cvss3P1!(vector) : vector.startsWith('CVSS:3.0/') ? new Cvss3P0!(vector) : undefined;
    const score = calculator?.calculateScores().base;
    return typeof score === 'number' && Number.isFinite(score) ? score : undefined;
  } catch {
    return undefined;
  }
}

export function levelForScore(score: number): SeverityLevel {
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  if (score > 0) return 'low';
  return 'none';
}

function levelForLabel(label: string): SeverityLevel | undefined {
  const normalised = label.trim().toLowerCase();
  if (normalised === 'moderate') return 'medium';
  return (SEVERITY_ORDER as readonly string[]).includes(normalised) ? normalised as SeverityLevel : undefined;
}

function bestScore(entries: readonly OsvSeverity[]): { score: number; source: string } | undefined {
  let best: { score: number; source: string } | undefined;
  for (const entry of entries) {
    if (entry.type !== 'CVSS_V3' && entry.type !== 'CVSS_V4') continue;
    const score = cvssBaseScore(entry.score);
    if (score !== undefined && (!best || score > best.score)) best = { score, source: entry.type };
  }
  return best;
}

export function severityOf(record: OsvRecord, affected?: OsvAffected): Severity {
  const scored = bestScore([...(affected?.severity ?? []), ...record.severity]);
  if (scored) return { level: levelForScore(scored.score), score: scored.score, source: scored.source };
  for (const label of [affected?.label, record.severityLabel]) {
    const level = label ? levelForLabel(label) : undefined;
    if (level) return { level, source: 'label' };
  }
  return { level: 'unknown', source: 'none' };
}
