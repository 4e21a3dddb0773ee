/**
 * Metric families whose children are plain objects kept by the caller: a request counts with one
 * field increment and a histogram observation with a short loop, with no label object, hash or
 * string built per request (prom-client's children rebuild and hash their label set on every
 * call). Exposition is in exposition.ts; prom-client still supplies the process metrics.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface Sample {
  /** Full sample name (`…_bucket`, `…_total`). */
  readonly name: string;
  readonly labels: readonly (readonly [string, string])[];
  readonly value: number;
}

export interface Family {
  /** The family's name; a counter's ends in `_total` (OpenMetrics drops it from the family line). */
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  samples(): Sample[];
}

/** Children keyed by their label values; created once per label set, then held by the caller. */
abstract class Labelled<Child> {
  readonly #children = new Map<string, { values: readonly string[]; child: Child }>();
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  constructor(name: string, help: string, labelNames: readonly string[]) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  /** The child for these label values (in the order of labelNames), created on first use. */
  child(...values: string[]): Child {
    if (values.length !== this.labelNames.length) throw new Error(`${this.name} takes labels ${this.labelNames.join(', ')}`);
    const key = values.join('\u0000');
    let entry = this.#children.get(key);
    if (!entry) this.#children.set(key, (entry = { values, child: this.create() }));
    return entry.child;
  }

  /** Drops every child (gauges recomputed from scratch at each scrape). */
  reset(): void {
    this.#children.clear();
  }

  protected abstract create(): Child;

  protected entries(): { labels: [string, string][]; child: Child }[] {
    return [...this.#children.values()].map(({ values, child }) => ({
      labels: this.labelNames.map((name, index) => [name, values[index]!] as [string, string]),
      child,
    }));
  }
}

export interface CounterChild { value: number }

export class CounterFamily extends Labelled<CounterChild> implements Family {
  readonly type = 'counter';
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    if (!name.endsWith('_total')) throw new Error(`counter ${name} must end in _total`);
    super(name, help, labelNames);
  }
  protected create(): CounterChild {
    return { value: 0 };
  }
  samples(): Sample[] {
    return this.entries().map(({ labels, child }) => ({ name: this.name, labels, value: child.value }));
  }
}

export interface GaugeChild { value: number }

export class GaugeFamily extends Labelled<GaugeChild> implements Family {
  readonly type = 'gauge';
  protected create(): GaugeChild {
    return { value: 0 };
  }
  samples(): Sample[] {
    return this.entries().map(({ labels, child }) => ({ name: this.name, labels, value: child.value }));
  }
}

export class HistogramChild {
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last slot is above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  readonly bounds: readonly number[];
  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(value: number): void {
    const bounds = this.bounds;
    let slot = 0;
    while (slot < bounds.length && value > bounds[slot]!) slot++;
    this.counts[slot]!++;
    this.sum += value;
    this.count++;
  }
}

export class HistogramFamily extends Labelled<HistogramChild> implements Family {
  readonly type = 'histogram';
  readonly bounds: readonly number[];
  constructor(name: string, help: string, labelNames: readonly string[], bounds: readonly number[]) {
    super(name, help, labelNames);
    this.bounds = bounds;
  }
  protected create(): HistogramChild {
    return new HistogramChild(this.bounds);
  }
  samples(): Sample[] {
    const samples: Sample[] = [];
    for (const { labels, child } of this.entries()) {
      let cumulative = 0;
      this.bounds.forEach((bound, index) => {
        cumulative += child.counts[index]!;
        samples.push({ name: `${this.name}_bucket`, labels: [...labels, ['le', formatBound(bound)]], value: cumulative });
      });
      samples.push({ name: `${this.name}_bucket`, labels: [...labels, ['le', '+Inf']], value: child.count });
      samples.push({ name: `${this.name}_sum`, labels, value: child.sum });
      samples.push({ name: `${this.name}_count`, labels, value: child.count });
    }
    return samples;
  }
}

/** `le` values as Prometheus clients write them (1 → "1", 0.005 → "0.005"). */
function formatBound(bound: number): string {
  return String(bound);
}
