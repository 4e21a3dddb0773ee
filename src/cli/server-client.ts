/**
 * Talks to a running Wharf's management API (/api/v1) for the administration commands run with
 * --server. Credentials go as HTTP Basic, which the API accepts from administrators; errors come
 * back as the registry's error JSON and are shown as one line.
 */
import { fetchOrExplain } from '../client/fetch-errors.ts';
import { TargetError } from './admin-target.ts';

/** The routes of the identity API, which a server serves only with authentication on. */
const IDENTITY_ROUTE = /^\/api\/v1\/(users|teams|robots|issuers|audit|token-keys|namespaces\/[^/]+\/members)/;

export class ServerError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

export class ServerClient {
  readonly url: string;
  readonly #authorization: string | undefined;

  constructor(url: string, credentials: { username: string; password: string } | undefined) {
    this.url = url;
    this.#authorization = credentials ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` : undefined;
  }

  /** Sends one request; answers the parsed JSON body (undefined for 204). */
  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetchOrExplain(`${this.url}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(this.#authorization ? { authorization: this.#authorization } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    if (!response.ok) throw new ServerError(this.#explain(method, path, response.status, text), response.status);
    if (text === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new ServerError(`${method} ${this.url}${path}: the answer is not JSON (is ${this.url} a Wharf server?)`, 502);
    }
  }

  #explain(method: string, path: string, status: number, text: string): string {
    let detail = text.slice(0, 300);
    try {
      const parsed = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
      const first = parsed.errors?.[0];
      if (first) detail = [first.code, first.message].filter(Boolean).join(': ');
    } catch {
      // not the error JSON: keep the start of the text
    }
    if (status === 401) {
      return `${this.url} wants credentials (${detail}): run \`wharf login ${this.url}\` or set WHARF_USERNAME and WHARF_PASSWORD`;
    }
    if (status === 403) return `${this.url} refused ${method} ${path}: ${detail} (an administrator's credentials are needed)`;
    if (status === 404 && IDENTITY_ROUTE.test(path) && (detail === '' || detail.includes('no endpoint'))) {
      return `${this.url} has no identity API at ${path}: authentication is off on that server (identity administration needs auth.enabled), or it is not a Wharf`;
    }
    if (status === 404 && !path.includes('/', '/api/v1/'.length)) return `${this.url} has no ${path} (${detail}); is it a Wharf server?`;
    return `${this.url}: ${detail || `HTTP ${status}`}`;
  }
}

/** A path segment, escaped. */
export function segment(value: string | undefined, what: string): string {
  if (value === undefined || value === '') throw new TargetError(`missing ${what}`);
  return encodeURIComponent(value);
}
