// Requests crafted to abuse the connection rather than the credentials: hostile Host headers that
// would end up in the challenge, and huge bodies trickled in behind a refusal.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { startAuthRegistry, type AuthRegistry } from '../../test/support/auth-fixture.ts';

/** GET `path` with exactly this Host header; the status, the challenge and the body. */
function getWithHost(url: string, path: string, host: string): Promise<{ status: number; challenge?: string; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: target.hostname, port: target.port, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, challenge: res.headers['www-authenticate'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Sends `head` (request line and headers), then trickles body bytes until the server closes the
 * connection or `patienceMs` passes; returns what the server sent and whether it closed.
 */
function trickleBody(url: string, head: string, patienceMs: number, chunkBytes = 1024): Promise<{ received: string; closed: boolean; ms: number }> {
  const target = new URL(url);
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(Number(target.port), target.hostname);
    let received = '';
    let trickle: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      clearInterval(trickle);
      clearTimeout(patience);
      socket.destroy();
      resolve({ received, closed, ms: performance.now() - started });
    };
    const patience = setTimeout(() => finish(false), patienceMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => { received += chunk; });
    socket.on('error', () => {});
    socket.on('close', () => finish(true));
    socket.on('end', () => finish(true));
    socket.on('connect', () => {
      socket.write(head);
      trickle = setInterval(() => { if (socket.writable) socket.write(Buffer.alloc(chunkBytes, 0x61)); }, 50);
    });
  });
}

describe('hostile requests', () => {
  let registry: AuthRegistry;
  before(async () => {
    registry = await startAuthRegistry();
  });
  after(() => registry.close());

  it('derives the token realm only from a well-formed Host, and refuses any other with 400', async () => {
    for (const [host, realm] of [
      ['registry.example.test:5000', 'http://registry.example.test:5000/token'],
      ['[::1]:5000', 'http://[::1]:5000/token'],
      ['10.1.2.3', 'http://10.1.2.3/token'],
      ['my_registry', 'http://my_registry/token'],
    ]) {
      const response = await getWithHost(registry.url, '/v2/team-a/app/manifests/v1', host!);
      assert.equal(response.status, 401, host);
      assert.equal(response.challenge, `Bearer realm="${realm}",service="wharf",scope="repository:team-a/app:pull"`);
    }
    for (const host of ['evil.test",error="x', 'a.test,b.test', 'a.test/token?x=', 'user@a.test', 'a test', 'a.test:port', '[::1', 'a.test:123456']) {
      const response = await getWithHost(registry.url, '/v2/', host);
      assert.equal(response.status, 400, host);
      assert.equal(response.challenge, undefined, host);
      assert.equal(JSON.parse(response.body).errors[0].code, 'BAD_REQUEST', host);
    }
  });

  for (const method of ['PUT', 'PATCH']) {
    it(`answers an unauthenticated ${method} with a huge declared body with 401 and closes the connection`, async () => {
      const path = method === 'PUT'
        ? `/v2/team-a/app/blobs/uploads/00000000-0000-4000-8000-000000000000?digest=sha256:${'0'.repeat(64)}`
        : '/v2/team-a/app/blobs/uploads/00000000-0000-4000-8000-000000000000';
      const head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000000000\r\n\r\n`;
      const result = await trickleBody(registry.url, head, 3000);
      assert.match(result.received, /^HTTP\/1\.1 401 /);
      assert.match(result.received, /\r\nconnection: close\r\n/i);
      assert.ok(result.closed, `the connection was still open after ${Math.round(result.ms)} ms`);
    });
  }

  it('keeps the connection of a request whose body was read to its end', async () => {
    const target = new URL(registry.url);
    const status = await new Promise<{ status: number; connection?: string }>((resolve, reject) => {
      const req = httpRequest({
        host: target.hostname, port: target.port, method: 'POST', path: '/token', agent: false,
        headers: { 'content-type': 'application/x-www-form-urlencoded', connection: 'keep-alive' },
      }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
      });
      req.on('error', reject);
      req.end('grant_type=password&username=nobody&password=wrong&service=wharf');
    });
    assert.deepEqual(status, { status: 400, connection: 'keep-alive' });
  });

  it('closes the connection of a token request whose form trickles in for longer than a few seconds', async () => {
    const head = 'POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 65000\r\n\r\n';
    // 50 bytes every 50 ms: the 65,000 bytes would take over a minute.
    const result = await trickleBody(registry.url, head, 8000, 50);
    assert.ok(result.closed, 'closed');
    assert.match(result.received, /^HTTP\/1\.1 408 /);
  });
});
