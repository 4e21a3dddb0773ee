/**
 * Wharf's one typed configuration. Every key can come from, in rising precedence: its default,
 * the YAML file given with --config, a WHARF_* environment variable, and a command-line flag.
 * The environment name of a key is WHARF_ + its path in upper snake case:
 * `limits.maxManifestBytes` → WHARF_LIMITS_MAX_MANIFEST_BYTES.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { CONFIG_KEYS, type ConfigKey, type KeySpec } from './keys.ts';
import type { SupplyChainConfig } from './supplychain-keys.ts';
import type { MetricsConfig, TracingConfig } from '../observability/metrics/observability-keys.ts';
import type { TufConfig } from './tuf-keys.ts';
import type { QueryConfig, UsageConfig } from './usage-keys.ts';

export interface WharfConfig {
  readonly listen: { readonly host: string; readonly port: number };
  readonly data: string;
  readonly storage: {
    readonly directIO: boolean;
    readonly backend: 'filesystem' | 's3';
    readonly s3: {
      readonly endpoint: string;
      readonly bucket: string;
      readonly region: string;
      readonly accessKey: string;
      readonly secretKey: string;
      readonly forcePathStyle: boolean;
      readonly prefix: string;
      readonly minPartMebibytes: number;
      readonly presignedRedirectSeconds: number;
    };
  };
  readonly metadata: { readonly postgres: { readonly url: string; readonly maxConnections: number } };
  readonly log: { readonly level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent' };
  readonly limits: { readonly maxManifestBytes: number };
  readonly uploads: {
    readonly abandonAfterSeconds: number;
    readonly maxSessionsPerAccount: number;
    readonly maxSessionsPerNamespace: number;
    readonly maxStagedBytesPerAccount: number;
    readonly maxStagedBytesPerNamespace: number;
  };
  readonly shutdown: { readonly timeoutSeconds: number };
  readonly auth: {
    readonly enabled: boolean;
    readonly allowAnonymous: boolean;
    readonly service: string;
    readonly issuer: string;
    readonly realm: string;
    readonly tokenTtlSeconds: number;
    readonly maxFailedLogins: number;
  };
  readonly tls: { readonly cert: string; readonly key: string };
  readonly policy: { readonly failureMode: 'closed' | 'open'; readonly timeoutMs: number };
  readonly admission: { readonly registryHosts: string; readonly timeoutMs: number; readonly failurePolicy: 'Fail' | 'Ignore' };
  readonly supplychain: SupplyChainConfig;
  readonly metrics: MetricsConfig;
  readonly tracing: TracingConfig;
  readonly tuf: TufConfig;
  readonly observability: { readonly retentionDays: number; readonly usage: UsageConfig; readonly query: QueryConfig };
}

export class ConfigError extends Error {}

export interface ConfigSources {
  readonly file?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Values from flags, by key path. */
  readonly flags?: Partial<Record<ConfigKey, string>>;
}

/**
 * The keys that `wharf serve` also takes as a flag, and the flag's name: errors about a value
 * name the flag the user actually typed. Every other key comes from the file or the environment.
 */
export const FLAG_NAMES: Partial<Record<ConfigKey, string>> = {
  listen: '--listen',
  data: '--data-dir',
  'log.level': '--log-level',
  'tls.cert': '--tls-cert',
  'tls.key': '--tls-key',
  'auth.allowAnonymous': '--allow-anonymous',
};

export function loadConfig(sources: ConfigSources = {}): WharfConfig {
  const raw = new Map<ConfigKey, { value: unknown; origin: string }>();
  if (sources.file) {
    for (const [key, value] of flatten(readConfigFile(sources.file))) raw.set(key, { value, origin: sources.file });
  }
  const env = sources.env ?? {};
  for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
    const name = envName(key);
    if (env[name] !== undefined) raw.set(key, { value: env[name], origin: name });
  }
  for (const [key, value] of Object.entries(sources.flags ?? {}) as [ConfigKey, string | undefined][]) {
    if (value !== undefined) raw.set(key, { value, origin: FLAG_NAMES[key] ?? `flag for ${key}` });
  }
  const config: Record<string, unknown> = {};
  for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
    const spec: KeySpec = CONFIG_KEYS[key];
    const given = raw.get(key);
    setPath(config, key, given === undefined ? spec.default : convert(key, spec, given.value, given.origin));
  }
  const result = config as unknown as WharfConfig;
  if ((result.tls.cert === '') !== (result.tls.key === '')) {
    throw new ConfigError('config key tls.cert/tls.key: give both the certificate and the key, or neither');
  }
  if (result.storage.backend === 's3' && result.storage.s3.bucket.trim() === '') {
    throw new ConfigError('config key storage.s3.bucket: required when storage.backend is s3');
  }
  if ((result.storage.s3.accessKey === '') !== (result.storage.s3.secretKey === '')) {
    throw new ConfigError('config key storage.s3.accessKey/storage.s3.secretKey: give both, or neither (the AWS SDK\'s default credentials)');
  }
  // The key table and the WharfConfig type must describe the same tree of keys.
  return result;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
  node[parts.at(-1)!] = value;
}

export function envName(key: string): string {
  return 'WHARF_' + key.replace(/\./g, '_').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = parseYaml(text, { prettyErrors: true });
  } catch (error) {
    throw new ConfigError(`${path}: invalid YAML: ${(error as Error).message}`);
  }
  if (document === null || document === undefined) return {};
  if (typeof document !== 'object' || Array.isArray(document)) throw new ConfigError(`${path}: the top level must be a mapping of keys`);
  return document as Record<string, unknown>;
}

/** Turns nested YAML into key paths, rejecting keys Wharf does not know (typos fail loudly). */
function flatten(document: Record<string, unknown>, prefix = ''): [ConfigKey, unknown][] {
  const entries: [ConfigKey, unknown][] = [];
  for (const [name, value] of Object.entries(document)) {
    const path = prefix + name;
    if (path in CONFIG_KEYS) entries.push([path as ConfigKey, value]);
    else if (value !== null && typeof value === 'object' && !Array.isArray(value) && isSectionPrefix(path)) {
      entries.push(...flatten(value as Record<string, unknown>, `${path}.`));
    } else {
      throw new ConfigError(`config key ${path}: unknown key (known keys: ${Object.keys(CONFIG_KEYS).join(', ')})`);
    }
  }
  return entries;
}

function isSectionPrefix(path: string): boolean {
  return Object.keys(CONFIG_KEYS).some((key) => key.startsWith(`${path}.`));
}

function convert(key: ConfigKey, spec: KeySpec, value: unknown, origin: string): unknown {
  const problem = (reason: string) => new ConfigError(`config key ${key} (from ${origin}): ${reason}`);
  const result = spec.parse(value);
  if (!result.ok) throw problem(result.reason);
  return result.value;
}
