/**
 * Configuration keys of the TUF extension, part of CONFIG_KEYS.
 */
import type { KeySpec } from './keys.ts';
import { integerAtLeast, parseBoolean } from './parsers.ts';

export interface TufConfig {
  readonly enabled: boolean;
  readonly timestampExpirySeconds: number;
  readonly snapshotExpirySeconds: number;
  readonly refreshIntervalSeconds: number;
}

export const TUF_KEYS = {
  'tuf.enabled': {
    default: true,
    description: 'Serve per-namespace TUF repositories under /api/v1/tuf/ (wharf tuf).',
    parse: parseBoolean,
  },
  'tuf.timestampExpirySeconds': {
    default: 86_400,
    description: 'Lifetime of a TUF timestamp; the registry signs a new one at half-life, so clients refuse a registry frozen for longer.',
    parse: integerAtLeast(60),
  },
  'tuf.snapshotExpirySeconds': {
    default: 7 * 86_400,
    description: 'Lifetime of a TUF snapshot; re-signed when less than one timestamp lifetime remains.',
    parse: integerAtLeast(120),
  },
  'tuf.refreshIntervalSeconds': {
    default: 300,
    description: 'How often the registry looks for TUF timestamps and snapshots due for re-signing.',
    parse: integerAtLeast(1),
  },
} as const satisfies Record<string, KeySpec>;
