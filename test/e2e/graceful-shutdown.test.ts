// SIGTERM stops accepting connections but lets a request in flight finish; then Wharf exits 0.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { startWharf } from './harness.ts';
import { targetRegistryKind } from './target-registry.ts';

const skip = targetRegistryKind() === 'wharf' ? false : 'graceful shutdown is a property of Wharf itself';

describe('graceful shutdown', { skip }, () => {
  it('finishes an upload in flight after SIGTERM, refuses new connections, and exits 0', async () => {
    const wharf = await startWharf();
    const body = Buffer.alloc(256 * 1024, 3);
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    const target = new URL(wharf.url);
    const finished = new Promise<number>((resolve, reject) => {
      const req = request({
        host: target.hostname, port: target.port, method: 'POST',
        // Expect: 100-continue, so the client knows when the server has taken the request in (a
        // connection whose request was not read yet is idle, and shutdown may rightly close it).
        path: `/v2/graceful/app/blobs/uploads/?digest=${digest}`, headers: { 'content-length': body.length, expect: '100-continue' },
      }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.on('error', reject);
      req.on('continue', () => {
        req.write(body.subarray(0, 1000), () => {
          process.kill(wharf.pid, 'SIGTERM');
          setTimeout(() => req.end(body.subarray(1000)), 300);
        });
      });
    });
    assert.equal(await finished, 201, 'the in-flight upload completed');
    await assert.rejects(fetch(`${wharf.url}/v2/`), 'no new connections after SIGTERM');
    assert.deepEqual(await wharf.stop(), { code: 0, signal: null });
  });
});
