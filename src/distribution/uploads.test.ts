import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { errorCodes, pushBlob, sha256, startTestRegistry, type TestRegistry } from '../../test/support/registry-fixture.ts';

describe('blob uploads', () => {
  let registry: TestRegistry;
  let url: string;
  before(async () => {
    registry = await startTestRegistry();
    url = registry.url;
  });
  after(() => registry.close());

  /** Staged upload data that no open session owns: what an upload must never leave behind. */
  const unownedStagedData = async () => {
    const sessions = new Set((await registry.app.deps.metadata.listUploads()).map((session) => session.id));
    return (await registry.app.deps.blobs.listStaged()).filter((staged) => !sessions.has(staged.id));
  };

  const start = async (repository: string) => {
    const response = await fetch(`${url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    assert.equal(response.status, 202);
    assert.equal(response.headers.get('range'), '0-0');
    assert.ok(response.headers.get('docker-upload-uuid'));
    return `${url}${response.headers.get('location')}`;
  };

  it('takes a monolithic POST with ?digest= and serves the blob back', async () => {
    const { digest } = await pushBlob(url, 'mono/app', 'monolithic body');
    const response = await fetch(`${url}/v2/mono/app/blobs/${digest}`);
    assert.equal(await response.text(), 'monolithic body');
  });

  it('takes a chunked upload with Content-Range, reports progress, and completes with PUT', async () => {
    const location = await start('chunked/app');
    const first = await fetch(location, { method: 'PATCH', body: 'hello ', headers: { 'content-range': '0-5', 'content-type': 'application/octet-stream' } });
    assert.equal(first.status, 202);
    assert.equal(first.headers.get('range'), '0-5');
    const status = await fetch(location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-5');
    const second = await fetch(`${url}${first.headers.get('location')}`, { method: 'PATCH', body: 'world', headers: { 'content-range': '6-10' } });
    assert.equal(second.headers.get('range'), '0-10');
    const digest = sha256('hello world');
    const done = await fetch(`${location}?digest=${digest}`, { method: 'PUT' });
    assert.equal(done.status, 201);
    assert.equal(done.headers.get('docker-content-digest'), digest);
    assert.equal(done.headers.get('location'), `/v2/chunked/app/blobs/${digest}`);
    assert.equal(await (await fetch(`${url}/v2/chunked/app/blobs/${digest}`)).text(), 'hello world');
    assert.equal((await fetch(location)).status, 404, 'a completed session is gone');
  });

  it('accepts a final chunk in the completing PUT and streamed PATCHes without Content-Range', async () => {
    const location = await start('stream/app');
    await fetch(location, { method: 'PATCH', body: 'abc' });
    const digest = sha256('abcdef');
    const done = await fetch(`${location}?digest=${digest}`, { method: 'PUT', body: 'def', headers: { 'content-range': '3-5' } });
    assert.equal(done.status, 201);
  });

  it('answers 416 to a chunk out of order and keeps the upload intact', async () => {
    const location = await start('order/app');
    await fetch(location, { method: 'PATCH', body: 'abc', headers: { 'content-range': '0-2' } });
    const skipped = await fetch(location, { method: 'PATCH', body: 'xyz', headers: { 'content-range': '10-12' } });
    assert.equal(skipped.status, 416);
    assert.equal(skipped.headers.get('range'), '0-2');
    assert.deepEqual(await errorCodes(skipped), ['BLOB_UPLOAD_INVALID']);
    const repeated = await fetch(location, { method: 'PATCH', body: 'abc', headers: { 'content-range': '0-2' } });
    assert.equal(repeated.status, 416);
    assert.equal((await fetch(location)).headers.get('range'), '0-2');
  });

  it('answers 416 to a bogus Content-Range or one that disagrees with Content-Length', async () => {
    const location = await start('bogus/app');
    for (const range of ['abc', '5-2', '-1-3', '0-']) {
      const response = await fetch(location, { method: 'PATCH', body: 'abc', headers: { 'content-range': range } });
      assert.equal(response.status, 416, range);
    }
    const mismatch = await fetch(location, { method: 'PATCH', body: 'abc', headers: { 'content-range': '0-9' } });
    assert.equal(mismatch.status, 416);
    assert.equal((await fetch(location)).headers.get('range'), '0-0');
  });

  it('refuses a digest that does not match and stores nothing', async () => {
    const wrong = sha256('something else');
    const response = await fetch(`${url}/v2/digest/app/blobs/uploads/?digest=${wrong}`, { method: 'POST', body: 'content' });
    assert.equal(response.status, 400);
    assert.deepEqual(await errorCodes(response), ['DIGEST_INVALID']);
    assert.equal((await fetch(`${url}/v2/digest/app/blobs/${wrong}`, { method: 'HEAD' })).status, 404);
    assert.equal((await fetch(`${url}/v2/digest/app/blobs/${sha256('content')}`, { method: 'HEAD' })).status, 404);
  });

  it('refuses malformed or missing digests on completion', async () => {
    const location = await start('baddigest/app');
    for (const query of ['', '?digest=sha256:nothex', `?digest=md5:${'a'.repeat(32)}`]) {
      const response = await fetch(`${location}${query}`, { method: 'PUT' });
      assert.equal(response.status, 400, query);
      assert.deepEqual(await errorCodes(response), ['DIGEST_INVALID']);
    }
  });

  it('supports sha512 digests', async () => {
    const { createHash } = await import('node:crypto');
    const digest = `sha512:${createHash('sha512').update('five twelve').digest('hex')}`;
    const response = await fetch(`${url}/v2/sha512/app/blobs/uploads/?digest=${digest}`, { method: 'POST', body: 'five twelve' });
    assert.equal(response.status, 201);
    assert.equal(await (await fetch(`${url}/v2/sha512/app/blobs/${digest}`)).text(), 'five twelve');
  });

  it('cancels an upload with DELETE', async () => {
    const location = await start('cancel/app');
    await fetch(location, { method: 'PATCH', body: 'abc' });
    assert.equal((await fetch(location, { method: 'DELETE' })).status, 204);
    const after = await fetch(location);
    assert.equal(after.status, 404);
    assert.deepEqual(await errorCodes(after), ['BLOB_UPLOAD_UNKNOWN']);
  });

  it('answers BLOB_UPLOAD_UNKNOWN for unknown ids, ids of another repository and hostile ids', async () => {
    const location = await start('owner/app');
    const id = location.split('/').pop()!;
    for (const target of [`${url}/v2/owner/app/blobs/uploads/not-an-upload`, `${url}/v2/thief/app/blobs/uploads/${id}`, `${url}/v2/owner/app/blobs/uploads/..%2F..%2Fetc`]) {
      for (const method of ['GET', 'PATCH', 'PUT', 'DELETE']) {
        const response = await fetch(target, { method, body: method === 'PATCH' ? 'x' : undefined });
        assert.equal(response.status, method === 'PUT' ? 404 : 404, `${method} ${target}`);
        assert.deepEqual(await errorCodes(response), ['BLOB_UPLOAD_UNKNOWN']);
      }
    }
  });

  it('mounts a blob from a repository that holds it, and falls back to an upload otherwise', async () => {
    const { digest } = await pushBlob(url, 'source/app', 'shared layer');
    const mounted = await fetch(`${url}/v2/target/app/blobs/uploads/?mount=${digest}&from=source/app`, { method: 'POST' });
    assert.equal(mounted.status, 201);
    assert.equal(mounted.headers.get('docker-content-digest'), digest);
    assert.equal(await (await fetch(`${url}/v2/target/app/blobs/${digest}`)).text(), 'shared layer');
    const fallback = await fetch(`${url}/v2/target2/app/blobs/uploads/?mount=${digest}&from=nowhere/app`, { method: 'POST' });
    assert.equal(fallback.status, 202);
    assert.ok(fallback.headers.get('location')?.startsWith('/v2/target2/app/blobs/uploads/'));
    const noFrom = await fetch(`${url}/v2/target3/app/blobs/uploads/?mount=${digest}`, { method: 'POST' });
    assert.equal(noFrom.status, 202, 'no mount without naming a source repository');
  });

  it('keeps nothing of a body that stops half-way', async () => {
    const digest = sha256('x'.repeat(1000));
    await new Promise<void>((resolve) => {
      const req = request(`${url}/v2/halfway/app/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: { 'content-length': 1000 } });
      req.on('error', () => resolve());
      req.write('x'.repeat(300), () => setTimeout(() => { req.destroy(); resolve(); }, 50));
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await fetch(`${url}/v2/halfway/app/blobs/${digest}`, { method: 'HEAD' })).status, 404);
    assert.deepEqual(await unownedStagedData(), [], 'the aborted one-shot upload left no staged data');
    const sessions = await registry.app.deps.metadata.listUploads();
    assert.ok(!sessions.some((session) => session.repository === 'halfway/app'), 'nor a session');
  });

  it('keeps a chunked session at its last complete chunk when a PATCH body stops half-way', async () => {
    const location = await start('halfchunk/app');
    await fetch(location, { method: 'PATCH', body: 'abc' });
    await new Promise<void>((resolve) => {
      const req = request(location, { method: 'PATCH', headers: { 'content-length': 1000, 'content-range': '3-1002' } });
      req.on('error', () => resolve());
      req.write('y'.repeat(200), () => setTimeout(() => { req.destroy(); resolve(); }, 50));
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await fetch(location)).headers.get('range'), '0-2');
    const digest = sha256('abcdef');
    assert.equal((await fetch(`${location}?digest=${digest}`, { method: 'PUT', body: 'def' })).status, 201);
  });

  it('stores one copy when many clients push the same blob at once', async () => {
    const body = 'popular layer '.repeat(1000);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pushBlob(url, `crowd/app${i % 4}`, body)));
    assert.ok(results.every((result) => result.digest === sha256(body)));
    assert.equal(await registry.app.deps.blobs.stat(sha256(body)), body.length);
    assert.deepEqual(await unownedStagedData(), []);
  });
});
