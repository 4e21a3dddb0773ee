/**
 * Configuration keys of the supply-chain extension, part of CONFIG_KEYS.
 */
import type { KeySpec } from './keys.ts';
import { integerAtLeast, parseBoolean, type Parsed } from './parsers.ts';

export interface SupplyChainConfig {
  readonly enabled: boolean;
  /** JSON trust configuration applied at start-up when it changed since it was last applied. */
  readonly trustFile: string;
  /** This registry's host name as Notary trust-policy scopes spell it ("registry.example:5000"). */
  readonly registryHost: string;
  readonly sbom: { readonly maxBytes: number; readonly maxComponents: number };
  readonly attachments: { readonly maxBlobBytes: number; readonly maxLayers: number };
  readonly vulns: { readonly worstFindings: number };
}

function anyString(value: unknown): Parsed {
  return typeof value === 'string' ? { ok: true, value: value.trim() } : { ok: false, reason: 'must be a string' };
}

export const SUPPLY_CHAIN_KEYS = {
  'supplychain.enabled': {
    default: true,
    description: 'Index signatures, attestations, SBOMs and vulnerabilities on every push and serve /api/v1/trust.',
    parse: parseBoolean,
  },
  'supplychain.trustFile': {
    default: '',
    description: 'JSON trust configuration (cosign keys, keyless identities and trusted root, Notary trust stores and policy) applied at start-up when it changed; empty = only /api/v1/trust.',
    parse: anyString,
  },
  'supplychain.registryHost': {
    default: '',
    description: 'Host[:port] this registry is reached by, to match Notary trust-policy registry scopes; empty = scopes match on the repository path alone.',
    parse: anyString,
  },
  'supplychain.sbom.maxBytes': {
    default: 64 * 1024 * 1024,
    description: 'Largest SBOM document indexed, in bytes; larger ones are recorded as rejected with the reason.',
    parse: integerAtLeast(1024),
  },
  'supplychain.sbom.maxComponents': {
    default: 200_000,
    description: 'Most components an indexed SBOM may list; more is recorded as rejected with the reason.',
    parse: integerAtLeast(1),
  },
  'supplychain.attachments.maxBlobBytes': {
    default: 16 * 1024 * 1024,
    description: 'Largest signature, envelope or attestation blob read for indexing, in bytes.',
    parse: integerAtLeast(1024),
  },
  'supplychain.attachments.maxLayers': {
    default: 64,
    description: 'Most layers of one attachment manifest that are read (cosign appends one per signature).',
    parse: integerAtLeast(1),
  },
  'supplychain.vulns.worstFindings': {
    default: 10,
    description: 'How many of the worst vulnerability findings the /trust document lists.',
    parse: integerAtLeast(0),
  },
} as const satisfies Record<string, KeySpec>;

/** The defaults of the key table, as the nested settings object. */
export const DEFAULT_SUPPLY_CHAIN_CONFIG: SupplyChainConfig = (() => {
  const tree: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(SUPPLY_CHAIN_KEYS)) {
    const parts = key.split('.').slice(1);
    let node = tree;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[parts.at(-1)!] = spec.default;
  }
  return tree as unknown as SupplyChainConfig;
})();

/** The nested settings from a loaded configuration, defaults filling whatever is absent. */
export function supplyChainSettings(config: unknown): SupplyChainConfig {
  const given = (config as { supplychain?: Partial<SupplyChainConfig> } | undefined)?.supplychain ?? {};
  return {
    ...DEFAULT_SUPPLY_CHAIN_CONFIG, ...given,
    sbom: { ...DEFAULT_SUPPLY_CHAIN_CONFIG.sbom, ...given.sbom },
    attachments: { ...DEFAULT_SUPPLY_CHAIN_CONFIG.attachments, ...given.attachments },
    vulns: { ...DEFAULT_SUPPLY_CHAIN_CONFIG.vulns, ...given.vulns },
  };
}
