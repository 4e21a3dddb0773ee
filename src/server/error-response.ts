/**
 * The one place that turns a thrown error into an HTTP response. Registry errors become the OCI
 * envelope `{errors:[{code,message,detail}]}` with their status; anything else is a bug or an
 * I/O failure, logged with its stack and answered without leaking internals.
 */
import type { ServerResponse } from 'node:http';
import { RegistryError, registryError } from '../distribution/errors.ts';
import { StorageFullError, StorageUnavailableError } from '../storage/storage-errors.ts';

/** A client that went away mid-request: nothing to answer, nothing to log as a failure. */
export function isClientAbort(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE' || code === 'ECONNABORTED'
    || (error as Error)?.message === 'aborted';
}

/**
 * A full disk is the operator's to fix, not the client's fault nor a bug: 507 Insufficient
 * Storage, which clients treat as a server error worth retrying later. The path stays in the log.
 */
function insufficientStorage(): RegistryError {
  return registryError('UNAVAILABLE', {
    status: 507,
    message: 'insufficient storage: the registry\'s storage is full (no space left)',
    detail: { reason: 'no space left on the registry\'s storage; retry once space was freed' },
  });
}

export function writeError(res: ServerResponse, error: unknown): { status: number; internal: boolean } {
  const registry = error instanceof RegistryError ? error
    : error instanceof StorageFullError ? insufficientStorage()
    : error instanceof StorageUnavailableError ? registryError('UNAVAILABLE', {
      message: 'storage temporarily unavailable, retry', headers: { 'retry-after': String(error.retryAfterSeconds) },
    })
    : undefined;
  const status = registry?.status ?? (isClientAbort(error) ? 400 : 500);
  // An unavailable database is answered like a registry error but logged like a failure.
  const internal = (!registry && !isClientAbort(error)) || error instanceof StorageUnavailableError;
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return { status, internal };
  }
  const body = registry
    ? { errors: [{ code: registry.code, message: registry.message, detail: registry.detail ?? {} }] }
    : { errors: [{ code: status === 400 ? 'BLOB_UPLOAD_INVALID' : 'UNKNOWN', message: status === 400 ? 'request body ended early' : 'internal error', detail: {} }] };
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    ...registry?.headers,
    // A body left unread (an upload refused half-way) must not be taken for the next request.
    ...(res.req?.complete === false ? { connection: 'close' } : {}),
    'content-type': 'application/json',
    'content-length': bytes.byteLength,
  });
  res.end(bytes);
  return { status, internal };
}
