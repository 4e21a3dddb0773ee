/**
 * Configuration keys of metrics (`metrics.*`) and traces (`tracing.*`), part of CONFIG_KEYS.
 */
import type { KeySpec, Parsed } from '../../config/keys.ts';
import { parseBoolean } from '../../config/parsers.ts';

export interface MetricsConfig {
  readonly enabled: boolean;
  /** HOST:PORT of a listener of its own for /metrics; empty: /metrics is served on the main listener. */
  readonly listen: string;
  /** Bearer token a scraper must send; empty: none. */
  readonly token: string;
}

export interface TracingConfig {
  /** OTLP/HTTP traces URL (…/v1/traces); empty: tracing is off and nothing of OpenTelemetry is loaded. */
  readonly otlpEndpoint: string;
  readonly serviceName: string;
}

function hostPortOrEmpty(value: unknown): Parsed {
  if (typeof value !== 'string') return { ok: false, reason: 'must be a string HOST:PORT' };
  const trimmed = value.trim();
  if (trimmed === '') return { ok: true, value: '' };
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(trimmed);
  if (!match || Number(match[3]) > 65535) return { ok: false, reason: `"${value}" is not HOST:PORT with a port from 0 to 65535` };
  return { ok: true, value: trimmed };
}

function httpUrlOrEmpty(value: unknown): Parsed {
  if (typeof value !== 'string') return { ok: false, reason: 'must be an http(s) URL' };
  const trimmed = value.trim();
  if (trimmed === '') return { ok: true, value: '' };
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return { ok: false, reason: `"${value}" is not a URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: `"${value}" is not an http(s) URL` };
  // A collector's base address (http://collector:4318) means its standard traces path.
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/traces';
  return { ok: true, value: url.toString() };
}

function anyString(value: unknown): Parsed {
  return typeof value === 'string' ? { ok: true, value: value.trim() } : { ok: false, reason: 'must be a string' };
}

export const OBSERVABILITY_KEYS = {
  'metrics.enabled': {
    default: true,
    description: 'Serve Prometheus metrics at GET /metrics (request counts and durations by route, bytes, uploads, cache, storage per namespace, policy decisions, authentication failures, process).',
    parse: parseBoolean,
  },
  'metrics.listen': {
    default: '',
    description: 'HOST:PORT of a separate listener for /metrics (then not served on the main one); empty: the main listener, where with auth.enabled only metrics.token or an administrator may read it.',
    parse: hostPortOrEmpty,
  },
  'metrics.token': {
    default: '',
    description: 'Bearer token that GET /metrics requires (Prometheus `authorization: {credentials: …}`); empty: none.',
    parse: anyString,
  },
  'tracing.otlpEndpoint': {
    default: '',
    description: 'OTLP/HTTP (JSON) traces URL of an OpenTelemetry collector, e.g. http://127.0.0.1:4318/v1/traces; empty: tracing off (nothing of it is loaded).',
    parse: httpUrlOrEmpty,
  },
  'tracing.serviceName': {
    default: 'wharf',
    description: 'service.name of the exported spans.',
    parse: (value) => (typeof value === 'string' && value.trim() !== '' ? { ok: true, value: value.trim() } : { ok: false, reason: 'must be a non-empty string' }),
  },
} as const satisfies Record<string, KeySpec>;
