/**
 * The two text formats a Prometheus server reads: the classic text format (0.0.4) and OpenMetrics
 * 1.0, chosen by the scraper's Accept header. They differ in three places: OpenMetrics names a
 * counter family without `_total` (its samples keep it), escapes `"` in help text, and ends with
 * `# EOF`.
 */
import type { Family, MetricType, Sample } from './families.ts';

export const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_TEXT = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export type ExpositionFormat = 'prometheus' | 'openmetrics';

/** OpenMetrics when the scraper lists it (Prometheus does, preferring it), else the classic format. */
export function formatFor(accept: string | undefined): ExpositionFormat {
  if (!accept) return 'prometheus';
  for (const part of accept.split(',')) {
    const [type, ...parameters] = part.split(';').map((piece) => piece.trim().toLowerCase());
    if (type !== 'application/openmetrics-text') continue;
    const quality = parameters.find((parameter) => parameter.startsWith('q='));
    if (quality === undefined || Number(quality.slice(2)) > 0) return 'openmetrics';
  }
  return 'prometheus';
}

export function contentTypeOf(format: ExpositionFormat): string {
  return format === 'openmetrics' ? OPENMETRICS_TEXT : PROMETHEUS_TEXT;
}

/** A family described by already-collected samples (process metrics taken from prom-client). */
export interface CollectedFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly samples: readonly Sample[];
}

export function expose(families: readonly (Family | CollectedFamily)[], format: ExpositionFormat): string {
  const lines: string[] = [];
  for (const family of families) {
    const samples = typeof family.samples === 'function' ? family.samples() : family.samples;
    const familyName = format === 'openmetrics' && family.type === 'counter' ? family.name.replace(/_total$/, '') : family.name;
    lines.push(`# HELP ${familyName} ${escapeHelp(family.help, format)}`);
    lines.push(`# TYPE ${familyName} ${family.type}`);
    for (const sample of samples) lines.push(sampleLine(sample));
  }
  if (format === 'openmetrics') lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}

function sampleLine(sample: Sample): string {
  const labels = sample.labels.length === 0 ? '' : `{${sample.labels.map(([name, value]) => `${name}="${escapeLabel(value)}"`).join(',')}}`;
  return `${sample.name}${labels} ${formatValue(sample.value)}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(help: string, format: ExpositionFormat): string {
  const escaped = help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return format === 'openmetrics' ? escaped.replace(/"/g, '\\"') : escaped;
}
