import { statfs } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { errorCodes, pushBlob, pushImage, sha256, startTestRegistry, type TestRegistry } from '../../test/support/registry-fixture.ts';
import { parseRange } from './blobs.ts';

describe('blobs', () => {
  let registry: TestRegistry;
  let url: string;
  before(async () => {
    registry = await startTestRegistry();
    url = registry.url;
  });
  after(() => registry.close());

  it('serves a blob with its digest, length and validators; HEAD has no body', async () => {
    const { digest } = await pushBlob(url, 'blob/app', '0123456789');
    const response = await fetch(`${url}/v2/blob/app/blobs/${digest}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('docker-content-digest'), digest);
    assert.equal(response.headers.get('content-length'), '10');
    assert.equal(response.headers.get('etag'), `"${digest}"`);
    assert.equal(await response.text(), '0123456789');
    const head = await fetch(`${url}/v2/blob/app/blobs/${digest}`, { method: 'HEAD' });
    assert.equal(head.headers.get('content-length'), '10');
    assert.equal(await head.text(), '');
  });

  it('answers a Range request with 206 and Content-Range, and 416 when unsatisfiable', async () => {
    const { digest } = await pushBlob(url, 'range/app', '0123456789');
    const cases: [string, string, string][] = [['bytes=2-4', '234', 'bytes 2-4/10'], ['bytes=7-', '789', 'bytes 7-9/10'], ['bytes=-2', '89', 'bytes 8-9/10'], ['bytes=8-100', '89', 'bytes 8-9/10']];
    for (const [range, body, contentRange] of cases) {
      const response = await fetch(`${url}/v2/range/app/blobs/${digest}`, { headers: { range } });
      assert.equal(response.status, 206, range);
      assert.equal(response.headers.get('content-range'), contentRange);
      assert.equal(await response.text(), body);
    }
    const unsatisfiable = await fetch(`${url}/v2/range/app/blobs/${digest}`, { headers: { range: 'bytes=20-30' } });
    assert.equal(unsatisfiable.status, 416);
    assert.equal(unsatisfiable.headers.get('content-range'), 'bytes */10');
    const ignored = await fetch(`${url}/v2/range/app/blobs/${digest}`, { headers: { range: 'pages=1-2' } });
    assert.equal(ignored.status, 200);
  });

  it('never serves a blob to a repository that does not reference it', async () => {
    const { digest } = await pushBlob(url, 'private/app', 'secret layer');
    for (const method of ['GET', 'HEAD']) {
      const response = await fetch(`${url}/v2/public/app/blobs/${digest}`, { method });
      assert.equal(response.status, 404);
    }
    const body = await fetch(`${url}/v2/public/app/blobs/${digest}`);
    assert.deepEqual(await errorCodes(body), ['BLOB_UNKNOWN']);
  });

  it('serves a manifest through the blob endpoint by its digest', async () => {
    const image = await pushImage(url, 'asblob/app', 'v1');
    const response = await fetch(`${url}/v2/asblob/app/blobs/${image.digest}`);
    assert.equal(response.status, 200);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), image.bytes);
  });

  it('deletes a blob from one repository only', async () => {
    const { digest } = await pushBlob(url, 'del/a', 'shared');
    await pushBlob(url, 'del/b', 'shared');
    assert.equal((await fetch(`${url}/v2/del/a/blobs/${digest}`, { method: 'DELETE' })).status, 202);
    assert.equal((await fetch(`${url}/v2/del/a/blobs/${digest}`)).status, 404);
    assert.equal((await fetch(`${url}/v2/del/b/blobs/${digest}`)).status, 200);
    const again = await fetch(`${url}/v2/del/a/blobs/${digest}`, { method: 'DELETE' });
    assert.deepEqual([again.status, await errorCodes(again)], [404, ['BLOB_UNKNOWN']]);
  });

  it('refuses malformed and unsupported digests', async () => {
    for (const digest of ['sha256:abc', 'latest', `md5:${'a'.repeat(32)}`, sha256('x').toUpperCase()]) {
      const response = await fetch(`${url}/v2/blob/app/blobs/${digest}`);
      assert.deepEqual([response.status, await errorCodes(response)], [400, ['DIGEST_INVALID']], digest);
    }
  });
});

describe('parseRange', () => {
  it('reads single byte ranges and ignores what it cannot use', () => {
    assert.deepEqual(parseRange('bytes=0-0', 5), { start: 0, end: 0 });
    assert.equal(parseRange(undefined, 5), undefined);
    assert.equal(parseRange('bytes=1-2,4-5', 5), undefined);
    assert.equal(parseRange('bytes=-', 5), undefined);
    assert.equal(parseRange('bytes=3-1', 5), 'unsatisfiable');
    assert.equal(parseRange('bytes=5-', 5), 'unsatisfiable');
    assert.equal(parseRange('bytes=-0', 5), 'unsatisfiable');
  });
});

for (const directIO of [false, true]) {
  describe(`large blobs, ${directIO ? 'direct I/O' : 'page cache'}`, () => {
    let registry: TestRegistry;
    let url: string;
    before(async () => {
      registry = await startTestRegistry({ WHARF_STORAGE_DIRECT_IO: String(directIO) });
      url = registry.url;
    });
    after(() => registry.close());

    // Linux disk filesystems take O_DIRECT; tmpfs (0x01021994) does not.
    const directIOAvailable = async () => directIO && process.platform === 'linux' && (await statfs(registry.dataDir)).type !== 0x01021994;

    it('uses direct I/O exactly when configured', async () => {
      const pool = registry.app.deps.blobs.directReadBuffers?.(sha256('probe'), 64 * 1024 * 1024);
      if (await directIOAvailable()) assert.ok(pool);
      else if (!directIO) assert.equal(pool, undefined);
    });

    // Every case pulls blobs nobody pulled before: with direct I/O, a first pull reads the disk
    // directly, and later pulls of the same blob go through the page cache.
    const pushLarge = async (repository: string, size: number) => {
      const bytes = randomBytes(size);
      return { bytes, ...(await pushBlob(url, repository, bytes)) };
    };
    const get = async (repository: string, digest: string, range?: string) => {
      const response = await fetch(`${url}/v2/${repository}/blobs/${digest}`, { headers: range ? { range } : {} });
      return { status: response.status, body: Buffer.from(await response.arrayBuffer()) };
    };

    it('serves large blobs and ranges of them exactly, on a first pull and on later ones', async () => {
      // Large enough for the direct-I/O path; sizes and range starts off every block boundary.
      const size = 10 * 1024 * 1024 + 333;
      const cases: [string | undefined, number, number][] = [[undefined, 0, size], ['bytes=4097-', 4097, size], ['bytes=1-5242881', 1, 5242882], ['bytes=-4194305', size - 4194305, size]];
      for (const [range, from, to] of cases) {
        const { bytes, digest } = await pushLarge('large/app', size);
        for (const pull of ['first', 'second', 'third']) {
          const response = await get('large/app', digest, range);
          assert.equal(response.status, range ? 206 : 200, `${range} ${pull}`);
          assert.ok(response.body.equals(bytes.subarray(from, to)), `${range} ${pull}`);
        }
      }
    });

    it('serves more first pulls at once than the aligned buffers cover (the rest read through the page cache)', async () => {
      const blobs = await Promise.all(Array.from({ length: 8 }, () => pushLarge('large/many', 6 * 1024 * 1024 + 1)));
      const pulled = await Promise.all(blobs.map(({ digest }) => get('large/many', digest)));
      pulled.forEach((response, index) => assert.ok(response.body.equals(blobs[index]!.bytes)));
    });

    it('reads a blob past the page cache on its first pull only', async () => {
      const store = registry.app.deps.blobs;
      const { digest } = await pushLarge('large/popular', 4 * 1024 * 1024);
      const first = store.directReadBuffers?.(digest, 4 * 1024 * 1024);
      const second = store.directReadBuffers?.(digest, 4 * 1024 * 1024);
      assert.equal(second, undefined, 'a blob pulled again is read through the page cache');
      if (await directIOAvailable()) assert.ok(first, 'a first pull reads past the page cache');
      else if (!directIO) assert.equal(first, undefined);
      assert.equal(store.directReadBuffers?.(sha256('small'), 1024), undefined, 'small blobs always use the page cache');
    });

    it('gets every buffer back from downloads that clients abandon half-way', async () => {
      const pool = registry.app.deps.blobs.directReadBuffers?.(sha256('pool'), 64 * 1024 * 1024);
      const idle = pool?.available;
      for (let attempt = 0; attempt < 6; attempt++) {
        const { digest } = await pushLarge('abandoned/app', 12 * 1024 * 1024);
        const controller = new AbortController();
        const response = await fetch(`${url}/v2/abandoned/app/blobs/${digest}`, { signal: controller.signal });
        const reader = response.body!.getReader();
        await reader.read();
        controller.abort();
        await reader.read().catch(() => undefined);
      }
      const { bytes, digest } = await pushLarge('abandoned/app', 12 * 1024 * 1024);
      assert.ok((await get('abandoned/app', digest)).body.equals(bytes));
      if (pool) {
        for (let waited = 0; pool.available !== idle && waited < 100; waited++) await new Promise((resolve) => setTimeout(resolve, 20));
        assert.equal(pool.available, idle);
      }
    });
  });
}
