/**
 * The listening socket and its lifecycle: start, and a graceful stop that refuses new connections,
 * lets in-flight requests finish for a bounded time, then closes whatever is left.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { RegistryApp } from './registry-app.ts';

export interface RunningServer {
  readonly url: string;
  readonly server: Server;
  stop(timeoutMs: number): Promise<void>;
}

export async function listen(app: RegistryApp, host: string, port: number, tls?: { cert: string; key: string }): Promise<RunningServer> {
  const options = {
    keepAliveTimeout: 65_000,
    // Large blob uploads may legitimately take long; a stalled one is still cut off. Bodies are
    // read only once a request is authorized, and a refusal closes the connection (below).
    requestTimeout: 30 * 60_000,
    // Headers are a few hundred bytes: whoever cannot send them in 20 s is holding a connection.
    headersTimeout: 20_000,
    connectionsCheckingInterval: 5_000,
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    closeIfAnsweredBeforeBody(req, res);
    app.handle(req, res);
  };
  const secure = tls !== undefined && tls.cert !== '';
  const server: Server = secure
    ? createTlsServer({ ...options, cert: readTlsFile('tls.cert', tls.cert), key: readTlsFile('tls.key', tls.key) }, handle)
    : createServer(options, handle);
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${secure ? 'https' : 'http'}://${shownHost}:${address.port}`,
    server,
    stop: (timeoutMs) => stopGracefully(server, timeoutMs),
  };
}

/**
 * A response sent before the request body has been read to its end (a refusal: 401, 403, 413, 429
 * …) says `Connection: close` and the connection closes once it is sent. Otherwise Node would read
 * and discard the rest of the body to reuse the connection, which is whatever the client declared
 * (a gigabyte, trickled in) for up to the request timeout.
 */
function closeIfAnsweredBeforeBody(req: IncomingMessage, res: ServerResponse): void {
  const declaresBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0')
    || req.headers['transfer-encoding'] !== undefined;
  if (!declaresBody || !res.shouldKeepAlive) return;
  res.shouldKeepAlive = false;
  // Registered before any handler reads the body, so it runs before a handler that has read it all answers.
  req.once('end', () => {
    if (!res.headersSent) res.shouldKeepAlive = true;
  });
}

function readTlsFile(key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`config key ${key}: cannot read ${path}: ${(error as Error).message}`);
  }
}

async function stopGracefully(server: Server, timeoutMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const deadline = setTimeout(() => server.closeAllConnections(), timeoutMs);
  await closed;
  clearTimeout(deadline);
}
