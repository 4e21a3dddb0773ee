/**
 * The little HTTP vocabulary the registry handlers share: the request context, body reading with
 * a limit, and response writers. Handlers write a response or throw a RegistryError; they never
 * write error bodies themselves.
 */
import type { IncomingMessage, ServerResponse, OutgoingHttpHeaders } from 'node:http';
import { registryError } from './errors.ts';

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** What the caller may do beyond the access checked for the route itself (e.g. the source of a mount). */
  readonly access?: AccessChecker;
  /** Who called, once authenticated (set on /api/v1/ requests when authentication is on). */
  readonly principal?: Principal;
}

export interface Principal {
  readonly subject: string;
  readonly admin: boolean;
  /** Registry-wide rights beyond repositories, such as `admission` (auth/roles.ts). */
  readonly capabilities?: readonly string[];
}

export interface AccessChecker {
  /** Who is asking, for policies and logs. */
  readonly requester: Requester;
  can(repository: string, action: 'pull' | 'push' | 'delete'): Promise<boolean>;
}

export interface Requester {
  /** `user:alice`, `robot:ci`, `oidc:<issuer>:<sub>` or `anonymous`. */
  readonly subject: string;
  readonly kind: 'user' | 'robot' | 'oidc' | 'anonymous';
  /** Verified claims of an OIDC caller. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

export const ANONYMOUS_REQUESTER: Requester = { subject: 'anonymous', kind: 'anonymous' };

/** Open mode (no authentication configured): everything is allowed. */
export const OPEN_ACCESS: AccessChecker = { requester: ANONYMOUS_REQUESTER, can: async () => true };

/** Reads a whole (small) body, refusing more than `limit` bytes with 413 SIZE_INVALID. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.byteLength;
    if (total > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

function tooLarge(limit: number) {
  return registryError('SIZE_INVALID', {
    status: 413,
    message: `body is larger than the limit of ${limit} bytes`,
    detail: { limit },
  });
}

/** Parses an optional non-negative integer header such as Content-Length. */
export function contentLength(req: IncomingMessage): number | undefined {
  const value = req.headers['content-length'];
  if (value === undefined) return undefined;
  const parsed = Number(value);
  return Number.isSafeInteger(parsed) && parsed >= 0 ? parsed : undefined;
}

export function sendEmpty(res: ServerResponse, status: number, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { ...headers, 'content-length': 0 });
  res.end();
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}, head = false): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', ...headers, 'content-length': bytes.byteLength });
  res.end(head ? undefined : bytes);
}

/** `?n=` and `?last=` of the paginated listings; undefined `limit` means everything. */
export function pageParameters(query: URLSearchParams): { limit?: number; last?: string } {
  const n = query.get('n');
  const last = query.get('last') ?? undefined;
  if (n === null || n === '') return { last };
  const limit = Number(n);
  if (!/^\d+$/.test(n) || !Number.isSafeInteger(limit)) {
    throw registryError('PAGINATION_NUMBER_INVALID', { detail: { n } });
  }
  return { limit, last };
}

/** RFC 8288 Link header to the next page, as the distribution spec's pagination prescribes. */
export function nextPageLink(path: string, limit: number, last: string): string {
  return `<${path}?n=${limit}&last=${encodeURIComponent(last)}>; rel="next"`;
}
