import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeBlobStore } from './blob-store.contract.ts';
import { FilesystemBlobStore } from './filesystem-blob-store.ts';

async function fixture(directIO: boolean) {
  const root = await mkdtemp(join(tmpdir(), 'wharf-blobs-'));
  const store = new FilesystemBlobStore(root, { directIO });
  await store.init();
  return { store, cleanup: () => rm(root, { recursive: true, force: true }) };
}

describeBlobStore('filesystem, direct I/O for large bodies', () => fixture(true));
describeBlobStore('filesystem, page cache only', () => fixture(false));

describe('FilesystemBlobStore direct I/O', () => {
  it('is used where the filesystem takes it, and never when turned off', async (t) => {
    const direct = await fixture(true);
    const plain = await fixture(false);
    t.after(() => Promise.all([direct.cleanup(), plain.cleanup()]));
    // Linux filesystems backed by a disk (ext4, xfs, btrfs) take O_DIRECT; tmpfs does not.
    if (process.platform === 'linux' && !(await isTmpfs(tmpdir()))) assert.ok(direct.store.directBuffers, 'expected direct I/O on this filesystem');
    assert.equal(plain.store.directBuffers, undefined);
  });
});

describe('FilesystemBlobStore under concurrent uploads', () => {
  for (const directIO of [false, true]) {
    it(`stores every body exactly when more uploads run than the buffer rings serve${directIO ? ', direct I/O' : ''}`, async (t) => {
      const { store, cleanup } = await fixture(directIO);
      t.after(cleanup);
      // Six at once: with direct I/O, four get rings of pooled buffers and the others the plain stream.
      const bodies = Array.from({ length: 6 }, () => randomBytes(5 * 1024 * 1024 + 777));
      async function* slowly(bytes: Buffer): AsyncIterable<Uint8Array> {
        for (let offset = 0; offset < bytes.length; offset += 65_536) {
          await new Promise((resolve) => setImmediate(resolve));
          yield bytes.subarray(offset, offset + 65_536);
        }
      }
      const sizes = await Promise.all(bodies.map((bytes, index) => store.append(`concurrent-${index}`, 0, slowly(bytes))));
      assert.deepEqual(sizes, bodies.map((bytes) => bytes.length));
      for (const [index, bytes] of bodies.entries()) {
        const staged: Buffer[] = [];
        for await (const chunk of (await store.readStaged(`concurrent-${index}`))!) staged.push(chunk as Buffer);
        assert.ok(Buffer.concat(staged).equals(bytes), `upload ${index}`);
      }
    });
  }
});

describe('FilesystemBlobStore start-up', () => {
  it('lists only upload data as staged, never files such as a probe left behind by a crash', async (t) => {
    const { store, cleanup } = await fixture(true);
    t.after(cleanup);
    await writeFile(join(store.root, '_uploads', '.direct-io-probe'), 'x');
    await store.append('real-upload', 0, (async function* () { yield Buffer.from('data'); })());
    assert.deepEqual((await store.listStaged()).map((entry) => entry.id), ['real-upload']);
  });
});

async function isTmpfs(path: string): Promise<boolean> {
  const { statfs } = await import('node:fs/promises');
  const TMPFS_MAGIC = 0x01021994;
  return (await statfs(path)).type === TMPFS_MAGIC;
}
