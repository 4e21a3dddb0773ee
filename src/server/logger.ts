/** Structured JSON logs (pino), written asynchronously so logging never blocks a request. */
import pino, { type Logger } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type { Logger };

export function createLogger(level: LogLevel): Logger {
  const destination = pino.destination({ dest: 2, sync: false, minLength: 4096 });
  return pino({
    level,
    base: undefined,
    // Never log credentials, whatever a caller passes in.
    redact: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token', '*.secret'],
  }, destination);
}
