/**
 * Storage failures that the registry answers for what they are, instead of as internal errors:
 * a full disk (507, and /readyz says so), a data folder that cannot be used (the server refuses
 * to start, naming the path and the reason), and a storage engine that is a service (PostgreSQL)
 * which could not be reached or asked to retry (503 UNAVAILABLE with Retry-After, which registry
 * clients retry).
 */

/** SQLite's primary result code for "database or disk is full" (extended codes keep it in the low byte). */
const SQLITE_FULL = 13;

/** The filesystem holding `path` had no room (or quota) left for a write. */
export class StorageFullError extends Error {
  /** The store's folder or file on the full filesystem (what /readyz names and watches). */
  readonly path: string;

  constructor(path: string, cause: unknown) {
    super(`storage full at ${path}: ${describeCause(cause)}`, { cause });
    this.name = 'StorageFullError';
    this.path = path;
  }
}

/** Whether `error` is a write that failed for lack of space: ENOSPC, EDQUOT, or SQLite's SQLITE_FULL. */
export function isNoSpace(error: unknown): boolean {
  if (error instanceof StorageFullError) return true;
  const { code, errcode } = (error ?? {}) as { code?: unknown; errcode?: unknown };
  if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  return code === 'ERR_SQLITE_ERROR' && typeof errcode === 'number' && (errcode & 0xff) === SQLITE_FULL;
}

/** `error` as a StorageFullError at `path` when it is a lack of space, else unchanged (for `throw`). */
export function asStorageError(error: unknown, path: string): unknown {
  if (error instanceof StorageFullError || !isNoSpace(error)) return error;
  return new StorageFullError(path, error);
}

/** The data folder cannot be used: not writable, not a folder, or held by another server. */
export class DataFolderError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'DataFolderError';
  }
}

function describeCause(cause: unknown): string {
  const { code, message } = (cause ?? {}) as { code?: unknown; message?: unknown };
  if (code === 'ENOSPC') return 'no space left on device (ENOSPC)';
  if (code === 'EDQUOT') return 'disk quota exceeded (EDQUOT)';
  if (code === 'ERR_SQLITE_ERROR') return `${String(message)} (SQLITE_FULL)`;
  return typeof message === 'string' ? message : String(cause);
}

/** The engine could not be reached or asked to retry; the request itself was fine. */
export class StorageUnavailableError extends Error {
  readonly retryAfterSeconds: number;

  constructor(message: string, options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, { cause: options.cause });
    this.name = 'StorageUnavailableError';
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
  }
}
