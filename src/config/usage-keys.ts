/**
 * Configuration keys of usage telemetry and queries (src/observability/usage), part of CONFIG_KEYS.
 */
import type { KeySpec } from './keys.ts';
import { integerAtLeast, parseBoolean } from './parsers.ts';

export interface UsageConfig {
  readonly enabled: boolean;
  readonly flushIntervalMs: number;
  readonly flushRecords: number;
  readonly measureIntervalSeconds: number;
}

export interface QueryConfig {
  readonly timeoutMs: number;
  readonly maxRows: number;
}

export const USAGE_KEYS = {
  'observability.retentionDays': {
    default: 90,
    description: 'Days of usage telemetry (pulls, pushes, decisions, daily storage) kept for queries; older rows are deleted at each measurement (observability.usage.measureIntervalSeconds).',
    parse: integerAtLeast(1),
  },
  'observability.usage.enabled': {
    default: true,
    description: 'Record pulls, pushes, policy decisions and daily storage per namespace in <data>/telemetry.db and serve POST /api/v1/query.',
    parse: parseBoolean,
  },
  'observability.usage.flushIntervalMs': {
    default: 1000,
    description: 'Pull and push records are kept in memory and written together this often; a crash loses at most this many milliseconds of them.',
    parse: integerAtLeast(10),
  },
  'observability.usage.flushRecords': {
    default: 1000,
    description: 'Write the waiting pull and push records at once when this many have gathered.',
    parse: integerAtLeast(1),
  },
  'observability.usage.measureIntervalSeconds': {
    default: 3600,
    description: 'How often storage per namespace and the artifact inventory are measured and old telemetry is pruned.',
    parse: integerAtLeast(1),
  },
  'observability.query.timeoutMs': {
    default: 10_000,
    description: 'A usage query running longer is stopped (its process is killed) and answered with an error.',
    parse: integerAtLeast(100),
  },
  'observability.query.maxRows': {
    default: 10_000,
    description: 'Most rows a usage query returns; a longer result is cut and marked truncated.',
    parse: integerAtLeast(1),
  },
} as const satisfies Record<string, KeySpec>;
