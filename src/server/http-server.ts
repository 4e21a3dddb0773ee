/**
 * The listening socket and its lifecycle: start, and a graceful stop that refuses new connections,
 * lets in-flight requests finish for a bounded time, then closes whatever is left.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
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
    // Large blob uploads may legitimately take long; a stalled one is still cut off.
    requestTimeout: 30 * 60_000,
    headersTimeout: 60_000,
  };
  const secure = tls !== undefined && tls.cert !== '';
  const server: Server = secure
    ? createTlsServer({ ...options, cert: readTlsFile('tls.cert', tls.cert), key: readTlsFile('tls.key', tls.key) }, app.handle)
    : createServer(options, app.handle);
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
