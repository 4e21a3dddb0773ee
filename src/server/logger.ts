/**
 * Structured JSON logs (pino), written asynchronously so logging never blocks a request. Each line
 * is handed to the OS as soon as no earlier write is in flight (lines that arrive meanwhile go out
 * together), so `tail -f` shows a request as it is served; pino writes what is left at exit.
 */
import pino, { type Logger } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type { Logger };

export function createLogger(level: LogLevel): Logger {
  const destination = pino.destination({ dest: 2, sync: false, minLength: 0 });
  return pino({
    level,
    base: undefined,
    // Never log credentials, whatever a caller passes in.
    redact: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token', '*.secret'],
  }, destination);
}
