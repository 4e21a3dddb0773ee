// Blobs are verified against their digest when they are read in full: a blob whose bytes changed
// on disk is never delivered whole (the transfer is cut off before its end, so the client sees a
// truncated body rather than a clean end), it is set aside so that HEAD and GET say 404 and a
// client pushes it again, and /readyz and the log name it. HEAD and GET agree on a missing file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { errorCodes, pushBlob, startTestRegistry, type TestRegistry } from '../../test/support/registry-fixture.ts';

function blobFile(registry: TestRegistry, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(registry.dataDir, 'blobs', 'sha256', hex.slice(0, 2), hex);
}

/** Flips one bit of the byte at `position` in the file, as a failing disk would. */
async function flipBit(path: string, position: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, position);
    byte[0]! ^= 0x10;
    await handle.write(byte, 0, 1, position);
  } finally {
    await handle.close();
  }
}

for (const directIO of [false, true]) {
  describe(`blob integrity, ${directIO ? 'direct I/O' : 'page cache'}`, () => {
    let registry: TestRegistry;
    let url: string;
    before(async () => {
      registry = await startTestRegistry({ WHARF_STORAGE_DIRECT_IO: String(directIO) });
      url = registry.url;
    });
    after(() => registry.close());

    const cases: [string, number, (size: number) => number][] = [
      ['a small blob with a bit flipped in the middle', 1000, (size) => size >> 1],
      ['a large blob with a bit flipped near its start', 9 * 1024 * 1024 + 777, () => 10],
      ['a large blob with a bit flipped in its last byte', 9 * 1024 * 1024 + 777, (size) => size - 1],
    ];
    for (const [name, size, where] of cases) {
      it(`never delivers ${name}, then answers 404 until it is pushed again`, async () => {
        const repository = `integrity/${directIO ? 'direct' : 'cached'}`;
        const bytes = randomBytes(size);
        const { digest } = await pushBlob(url, repository, bytes);
        // Pulled whole and verified once: the file's change must still be noticed on the next pull.
        const intact = await fetch(`${url}/v2/${repository}/blobs/${digest}`);
        assert.ok(Buffer.from(await intact.arrayBuffer()).equals(bytes));
        await flipBit(blobFile(registry, digest), where(size));

        // Cut off before the end: the body (or, when nothing was sent yet, the response) fails.
        const pulled = fetch(`${url}/v2/${repository}/blobs/${digest}`).then((response) => response.arrayBuffer());
        await assert.rejects(pulled, 'the transfer is cut off, not ended cleanly');

        for (const method of ['HEAD', 'GET']) {
          const again = await fetch(`${url}/v2/${repository}/blobs/${digest}`, { method });
          assert.equal(again.status, 404, `${method} after the corruption was found`);
          if (method === 'GET') assert.deepEqual(await errorCodes(again), ['BLOB_UNKNOWN']);
        }
        const ready = await fetch(`${url}/readyz`);
        assert.equal(ready.status, 200, 'one bad blob does not take the registry out of service');
        assert.match(await ready.text(), new RegExp(`${digest}.*failed digest verification`));

        await pushBlob(url, repository, bytes);
        const repaired = await fetch(`${url}/v2/${repository}/blobs/${digest}`);
        assert.equal(repaired.status, 200);
        assert.ok(Buffer.from(await repaired.arrayBuffer()).equals(bytes), 'a push of the same bytes repairs it');
      });
    }

    it('serves intact blobs whole and byte ranges of them, pulled again and again', async () => {
      const bytes = randomBytes(5 * 1024 * 1024 + 3);
      const { digest } = await pushBlob(url, 'integrity/intact', bytes);
      for (let pull = 0; pull < 3; pull++) {
        const whole = await fetch(`${url}/v2/integrity/intact/blobs/${digest}`);
        assert.ok(Buffer.from(await whole.arrayBuffer()).equals(bytes), `pull ${pull}`);
      }
      const part = await fetch(`${url}/v2/integrity/intact/blobs/${digest}`, { headers: { range: 'bytes=5-' } });
      assert.ok(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(5)));
    });

    it('answers HEAD as GET does for a blob whose file is gone', async () => {
      const { digest } = await pushBlob(url, 'integrity/gone', randomBytes(2000));
      await unlink(blobFile(registry, digest));
      for (const method of ['HEAD', 'GET']) {
        const response = await fetch(`${url}/v2/integrity/gone/blobs/${digest}`, { method });
        assert.equal(response.status, 404, method);
      }
    });
  });
}
