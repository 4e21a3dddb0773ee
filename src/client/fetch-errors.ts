/**
 * Node's fetch reports every transport failure as "fetch failed", with the reason buried in
 * `cause`. These helpers say which URL could not be reached and why (connection refused, a name
 * that does not resolve, a TLS problem, a timeout), which is what a person needs to fix it.
 */

/** A request that never got an HTTP answer. */
export class UnreachableError extends Error {
  readonly url: string;
  readonly code: string | undefined;
  constructor(url: string, code: string | undefined, message: string, options?: ErrorOptions) {
    super(message, options);
    this.url = url;
    this.code = code;
  }
}

const EXPLANATIONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused: nothing listens there (is the server running, on that port?)',
  ECONNRESET: 'the connection was reset by the other side',
  ENOTFOUND: 'the host name does not resolve (DNS)',
  EAI_AGAIN: 'the host name could not be resolved now (DNS is unreachable or failing)',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'the network is unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  UND_ERR_SOCKET: 'the connection closed unexpectedly',
  UND_ERR_HEADERS_TIMEOUT: 'the server sent no answer in time',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS: the server\'s certificate is self-signed and not trusted (set NODE_EXTRA_CA_CERTS to trust it)',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS: the server\'s certificate chain ends in an untrusted root (set NODE_EXTRA_CA_CERTS to trust it)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS: the server\'s certificate cannot be verified (missing intermediate or untrusted CA)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'TLS: the issuer of the server\'s certificate is not trusted here (set NODE_EXTRA_CA_CERTS to trust it)',
  CERT_HAS_EXPIRED: 'TLS: the server\'s certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS: the server\'s certificate is not for this host name',
  ERR_SSL_WRONG_VERSION_NUMBER: 'TLS: the server does not speak TLS there (plain HTTP? try http:// or --plain-http)',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'TLS: the server does not speak TLS there (plain HTTP? try http:// or --plain-http)',
};

/** The innermost error with a code, looking through `cause` and AggregateError's `errors`. */
function rootCause(error: unknown, depth = 0): { code?: string; message?: string } | undefined {
  if (typeof error !== 'object' || error === null || depth > 5) return undefined;
  const err = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  const inner = rootCause(err.cause, depth + 1) ?? (Array.isArray(err.errors) ? rootCause(err.errors[0], depth + 1) : undefined);
  if (inner?.code) return inner;
  if (typeof err.code === 'string') return { code: err.code, message: typeof err.message === 'string' ? err.message : undefined };
  return inner ?? (typeof err.message === 'string' ? { message: err.message } : undefined);
}

/** Turns a fetch rejection into an UnreachableError naming the URL and the reason. */
export function describeFetchFailure(url: string | URL, error: unknown): Error {
  if (error instanceof UnreachableError) return error;
  // An abort by the caller (a timeout signal) is the caller's to report.
  if ((error as Error)?.name === 'AbortError' || (error as Error)?.name === 'TimeoutError') {
    return new UnreachableError(String(url), 'ETIMEDOUT', `cannot reach ${String(url)}: no answer in time`, { cause: error });
  }
  const cause = rootCause(error);
  const code = cause?.code;
  const reason = (code && EXPLANATIONS[code]) ?? cause?.message ?? String(error);
  const withCode = code && !reason.includes(code) ? `${reason} (${code})` : reason;
  return new UnreachableError(String(url), code, `cannot reach ${String(url)}: ${withCode}`, { cause: error });
}

/** fetch, with transport failures reported by URL and reason. */
export async function fetchOrExplain(url: string | URL, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    throw describeFetchFailure(url, error);
  }
}
