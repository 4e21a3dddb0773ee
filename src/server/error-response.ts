/**
 * The one place that turns a thrown error into an HTTP response. Registry errors become the OCI
 * envelope `{errors:[{code,message,detail}]}` with their status; anything else is a bug or an
 * I/O failure, logged with its stack and answered without leaking internals.
 */
import type { ServerResponse } from 'node:http';
import { RegistryError, registryError } from '../distribution/errors.ts';
import { StorageUnavailableError } from '../storage/storage-errors.ts';

/** A client that went away mid-request: nothing to answer, nothing to log as a failure. */
export function isClientAbort(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE' || code === 'ECONNABORTED'
    || (error as Error)?.message === 'aborted';
}

export function writeError(res: ServerResponse, error: unknown): { status: number; internal: boolean } {
  const registry = error instanceof RegistryError ? error
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
    'content-type': 'application/json',
    'content-length': bytes.byteLength,
  });
  res.end(bytes);
  return { status, internal };
}
