/**
 * Configuration keys of the supply-chain extension (merged into CONFIG_KEYS by the lead). Until
 * then the extension reads `config.supplychain` defensively and falls back to these defaults.
 */
import type { KeySpec, Parsed } from './keys.ts';

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

function integerAtLeast(minimum: number): (value: unknown) => Parsed {
  return (value) => {
    const number = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
    return typeof number === 'number' && Number.isSafeInteger(number) && number >= minimum
      ? { ok: true, value: number }
      : { ok: false, reason: `must be an integer of at least ${minimum}, not ${JSON.stringify(value)}` };
  };
}

function anyString(value: unknown): Parsed {
  return typeof value === 'string' ? { ok: true, value: value.trim() } : { ok: false, reason: 'must be a string' };
}

function boolean(value: unknown): Parsed {
  if (typeof value === 'boolean') return { ok: true, value };
  if (value === 'true' || value === '1') return { ok: true, value: true };
  if (value === 'false' || value === '0') return { ok: true, value: false };
  return { ok: false, reason: `must be true or false, not ${JSON.stringify(value)}` };
}

export const SUPPLY_CHAIN_KEYS = {
  'supplychain.enabled': {
    default: true,
    description: 'Index signatures, attestations, SBOMs and vulnerabilities on every push and serve /api/v1/trust.',
    parse: boolean,
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

export const DEFAULT_SUPPLY_CHAIN_CONFIG: SupplyChainConfig = {
  enabled: true, trustFile: '', registryHost: '',
  sbom: { maxBytes: 64 * 1024 * 1024, maxComponents: 200_000 },
  attachments: { maxBlobBytes: 16 * 1024 * 1024, maxLayers: 64 },
  vulns: { worstFindings: 10 },
};

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
