/**
 * Every configuration key: its default, how a value is checked, and what it means. The README's
 * configuration reference is written from this table (a test keeps the two in step).
 */
import { integerAtLeast, nonEmptyString, oneOf, parseBoolean, type Parsed } from './parsers.ts';
import { SUPPLY_CHAIN_KEYS } from './supplychain-keys.ts';
import { OBSERVABILITY_KEYS } from '../observability/metrics/observability-keys.ts';
import { TUF_KEYS } from './tuf-keys.ts';
import { USAGE_KEYS } from './usage-keys.ts';

export type { Parsed };

export interface KeySpec {
  readonly default: unknown;
  readonly description: string;
  readonly parse: (value: unknown) => Parsed;
}

const CORE_KEYS = {
  listen: {
    default: { host: '127.0.0.1', port: 5000 },
    description: 'HOST:PORT to serve on (IPv6 as [::1]:PORT). Loopback by default.',
    parse: parseListen,
  },
  data: {
    default: './wharf-data',
    description: 'Folder of the embedded storage: blobs and the SQLite metadata database.',
    parse: (value) => (typeof value === 'string' && value.trim() !== '' ? { ok: true, value } : { ok: false, reason: 'must be a non-empty path' }),
  },
  'metadata.postgres.url': {
    default: '',
    description: 'PostgreSQL URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE) for the registry metadata and the policy store, shared by every replica; empty: SQLite in the data folder. See "Running at scale".',
    parse: parsePostgresUrl,
  },
  'metadata.postgres.maxConnections': {
    default: 10,
    description: 'Most connections one Wharf process opens to PostgreSQL for registry metadata (plus one that listens for tag changes).',
    parse: integerAtLeast(1),
  },
  'log.level': {
    default: 'info',
    description: 'trace, debug, info (one line per request), warn, error or silent.',
    parse: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'silent']),
  },
  'storage.directIO': {
    default: false,
    description: 'For push-heavy registries: write blobs of 2 MiB and more with direct I/O, past the page cache; a large blob is then read past the cache on its first pull and through it once pulled again. Pushes get much faster, first pulls of large blobs come from the disk. Filesystems that refuse O_DIRECT (tmpfs) always use the page cache.',
    parse: parseBoolean,
  },
  'storage.backend': {
    default: 'filesystem',
    description: 'Where blobs live: filesystem (under data/blobs) or s3 (an S3-compatible object store, storage.s3.*), which several replicas can share.',
    parse: oneOf(['filesystem', 's3']),
  },
  'storage.s3.endpoint': {
    default: '',
    description: 'S3 endpoint URL (Ceph RGW, MinIO, ...). Empty: AWS S3 in storage.s3.region.',
    parse: anyString('must be a URL string'),
  },
  'storage.s3.bucket': {
    default: '',
    description: 'Bucket of the blobs; required with storage.backend s3.',
    parse: anyString('must be a bucket name'),
  },
  'storage.s3.region': {
    default: 'us-east-1',
    description: 'Region the requests are signed for.',
    parse: nonEmptyString,
  },
  'storage.s3.accessKey': {
    default: '',
    description: 'Access key id; give it (and the secret) through the environment. Empty: the AWS SDK\'s default chain (AWS_ACCESS_KEY_ID, profiles, instance roles).',
    parse: anyString('must be a string'),
  },
  'storage.s3.secretKey': {
    default: '',
    description: 'Secret access key, with storage.s3.accessKey; through the environment, not the config file.',
    parse: anyString('must be a string'),
  },
  'storage.s3.forcePathStyle': {
    default: false,
    description: 'Address the bucket in the path (http://host/bucket/key) instead of a virtual host: Ceph RGW without rgw_dns_name and MinIO need it.',
    parse: parseBoolean,
  },
  'storage.s3.prefix': {
    default: '',
    description: 'Key prefix of everything Wharf stores in the bucket, so registries can share one.',
    parse: anyString('must be a string'),
  },
  'storage.s3.minPartMebibytes': {
    default: 8,
    description: 'Smallest part of a multipart upload in MiB (S3 allows no less than 5). Parts grow with the upload, so 100 GB fit in S3\'s 10,000 parts; each upload in flight holds up to 3 parts in memory.',
    parse: integerAtLeast(5),
  },
  'storage.s3.presignedRedirectSeconds': {
    default: 0,
    description: 'Answer blob GETs with a 307 redirect to a presigned URL valid this many seconds, so clients download straight from the object store. 0: the registry streams blobs itself.',
    parse: integerAtLeast(0),
  },
  'limits.maxManifestBytes': {
    default: 4 * 1024 * 1024,
    description: 'Largest manifest accepted, in bytes (larger pushes get 413 SIZE_INVALID).',
    parse: integerAtLeast(1024),
  },
  'uploads.abandonAfterSeconds': {
    default: 24 * 3600,
    description: 'An upload session untouched for this long is purged with its staged data.',
    parse: integerAtLeast(60),
  },
  'uploads.maxSessionsPerAccount': {
    default: 200,
    description: 'Open upload sessions one account may have at once; more get 429 TOOMANYREQUESTS. 0: no limit. Anonymous callers (authentication off) are counted per namespace only.',
    parse: integerAtLeast(0),
  },
  'uploads.maxSessionsPerNamespace': {
    default: 1000,
    description: 'Open upload sessions all callers together may have in one namespace; more get 429 TOOMANYREQUESTS. 0: no limit.',
    parse: integerAtLeast(0),
  },
  'uploads.maxStagedBytesPerAccount': {
    default: 256 * 1024 ** 3,
    description: 'Bytes one account may have staged in unfinished uploads (sessions and one-request uploads); a body that would pass it gets 429 TOOMANYREQUESTS and stages nothing. 0: no limit.',
    parse: integerAtLeast(0),
  },
  'uploads.maxStagedBytesPerNamespace': {
    default: 512 * 1024 ** 3,
    description: 'Bytes all callers together may have staged in unfinished uploads to one namespace; a body that would pass it gets 429 TOOMANYREQUESTS and stages nothing. 0: no limit.',
    parse: integerAtLeast(0),
  },
  'shutdown.timeoutSeconds': {
    default: 10,
    description: 'On SIGTERM/SIGINT, how long in-flight requests may take before connections are closed.',
    parse: integerAtLeast(0),
  },
  'auth.enabled': {
    default: false,
    description: 'Require authentication (token auth, Basic, robots, OIDC). Off: anonymous full access, allowed only on loopback.',
    parse: parseBoolean,
  },
  'auth.allowAnonymous': {
    default: false,
    description: 'Allow anonymous full access on a non-loopback address with authentication off (--allow-anonymous).',
    parse: parseBoolean,
  },
  'auth.service': {
    default: 'wharf',
    description: 'Service name in token challenges and the audience of issued tokens.',
    parse: nonEmptyString,
  },
  'auth.issuer': {
    default: 'wharf',
    description: 'Issuer (iss) of registry tokens.',
    parse: nonEmptyString,
  },
  'auth.realm': {
    default: '',
    description: 'URL of the token endpoint announced in challenges; empty: derived from the request (http[s]://HOST/token).',
    parse: (value) => (typeof value === 'string' ? { ok: true, value } : { ok: false, reason: 'must be a URL string' }),
  },
  'auth.tokenTtlSeconds': {
    default: 300,
    description: 'Lifetime of registry tokens.',
    parse: integerAtLeast(30),
  },
  'auth.maxFailedLogins': {
    default: 10,
    description: 'Failed or unfinished password logins of one account within 5 minutes before further attempts are refused (429); one client address may fail 5 times as often.',
    parse: integerAtLeast(1),
  },
  'policy.failureMode': {
    default: 'closed',
    description: 'What a policy that fails or times out means: closed (deny, the default) or open (allow, and log the error).',
    parse: oneOf(['closed', 'open']),
  },
  'policy.timeoutMs': {
    default: 1000,
    description: 'Time budget of one policy evaluation.',
    parse: integerAtLeast(1),
  },
  'admission.registryHosts': {
    default: '',
    description: 'Comma-separated host[:port] names under which clusters pull from this registry; admission resolves only their images.',
    parse: (value) => (typeof value === 'string' ? { ok: true, value } : { ok: false, reason: 'must be a comma-separated list of hosts' }),
  },
  'admission.timeoutMs': {
    default: 3000,
    description: 'Time budget of one admission review; past it the failure policy applies.',
    parse: integerAtLeast(1),
  },
  'admission.failurePolicy': {
    default: 'Fail',
    description: 'Fail (deny when the review cannot be completed, the default) or Ignore (allow), as in Kubernetes webhooks.',
    parse: oneOf(['Fail', 'Ignore']),
  },
  'tls.cert': {
    default: '',
    description: 'PEM certificate (chain) file: serve HTTPS (--tls-cert). Needs tls.key.',
    parse: (value) => (typeof value === 'string' ? { ok: true, value } : { ok: false, reason: 'must be a file path' }),
  },
  'tls.key': {
    default: '',
    description: 'PEM private key file for tls.cert (--tls-key).',
    parse: (value) => (typeof value === 'string' ? { ok: true, value } : { ok: false, reason: 'must be a file path' }),
  },
} as const satisfies Record<string, KeySpec>;

export const CONFIG_KEYS = { ...CORE_KEYS, ...SUPPLY_CHAIN_KEYS, ...OBSERVABILITY_KEYS, ...USAGE_KEYS, ...TUF_KEYS } as const satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof CONFIG_KEYS;

function anyString(reason: string): (value: unknown) => Parsed {
  return (value) => (typeof value === 'string' ? { ok: true, value } : { ok: false, reason });
}

function parsePostgresUrl(value: unknown): Parsed {
  if (value === '') return { ok: true, value };
  if (typeof value !== 'string' || !/^postgres(?:ql)?:\/\/[^\s]+$/.test(value)) {
    return { ok: false, reason: 'must be a postgres:// or postgresql:// URL, or empty for SQLite' };
  }
  try {
    new URL(value);
  } catch {
    return { ok: false, reason: 'is not a valid URL' };
  }
  return { ok: true, value };
}

function parseListen(value: unknown): Parsed {
  if (typeof value !== 'string') return { ok: false, reason: 'must be a string HOST:PORT' };
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) return { ok: false, reason: `"${value}" is not HOST:PORT with a port from 0 to 65535` };
  return { ok: true, value: { host: match[1] ?? match[2]!, port } };
}
