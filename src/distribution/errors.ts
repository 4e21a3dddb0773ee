/**
 * The error catalog of the registry API. Each code is registered once, with the HTTP status and
 * the message the OCI Distribution spec gives it; handlers throw `registryError(code, …)` and one
 * mapper (server/error-response.ts) writes the `{errors:[{code,message,detail}]}` envelope.
 * Codes are part of the API: never reuse a retired one.
 */
export const ERROR_CATALOG = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  TAG_INVALID: { status: 400, message: 'manifest tag did not match URI' },
  PAGINATION_NUMBER_INVALID: { status: 400, message: 'invalid number of results requested' },
  RANGE_INVALID: { status: 416, message: 'invalid content range' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  UNAVAILABLE: { status: 503, message: 'service unavailable' },
  // Codes of the management API (/api/v1/), in the same envelope.
  BAD_REQUEST: { status: 400, message: 'the request is invalid' },
  NOT_FOUND: { status: 404, message: 'no such resource' },
  CONFLICT: { status: 409, message: 'the resource is in a conflicting state' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class RegistryError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: unknown;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, options: { message?: string; detail?: unknown; status?: number; headers?: Record<string, string> } = {}) {
    super(options.message ?? ERROR_CATALOG[code].message);
    this.code = code;
    this.status = options.status ?? ERROR_CATALOG[code].status;
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }
}

/** Shorthand used by handlers: `throw registryError('BLOB_UNKNOWN', { detail: { digest } })`. */
export function registryError(
  code: ErrorCode,
  options?: { message?: string; detail?: unknown; status?: number; headers?: Record<string, string> },
): RegistryError {
  return new RegistryError(code, options);
}
