/**
 * Failures of a storage engine that is a service (PostgreSQL): the request was fine, the engine
 * could not be reached or asked to retry. The HTTP layer answers 503 UNAVAILABLE with
 * Retry-After, which registry clients retry, rather than 500.
 */
export class StorageUnavailableError extends Error {
  readonly retryAfterSeconds: number;

  constructor(message: string, options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, { cause: options.cause });
    this.name = 'StorageUnavailableError';
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
  }
}
