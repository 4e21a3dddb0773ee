import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDigest } from '../content/digest.ts';
import { AlignedBufferPool } from '../storage/blobs/direct-io.ts';
import { FilesystemBlobStore } from '../storage/blobs/filesystem-blob-store.ts';
import { SqliteMetadataStore } from '../storage/metadata/sqlite-metadata-store.ts';
import { HashThread } from './hash-thread.ts';
import { UploadService } from './upload-service.ts';

const MIB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function* inPieces(bytes: Buffer, size: number): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

describe('HashThread', () => {
  it('hashes shared regions in place and copied bytes, for interleaved sessions', async (t) => {
    const pool = new AlignedBufferPool(MIB, 2);
    const thread = new HashThread(pool.memory);
    t.after(() => thread.close());
    const [shared] = pool.take(1)!;
    const first = thread.start('sha256');
    const second = thread.start('sha512');
    const copied = randomBytes(3 * MIB + 17);
    shared!.set(randomBytes(MIB));
    await first.update(shared!);
    for (let offset = 0; offset < copied.length; offset += 65_536) await second.update(copied.subarray(offset, offset + 65_536));
    await first.update(copied.subarray(5, 99));
    assert.equal(await first.digest(), sha256(Buffer.concat([shared!, copied.subarray(5, 99)])));
    assert.equal(await second.digest(), createHash('sha512').update(copied).digest('hex'));
  });

  it('hashes copies right when many sessions wait for its few scratch slots, pieces larger than a slot too', async (t) => {
    const thread = new HashThread(new AlignedBufferPool(MIB, 1).memory);
    t.after(() => thread.close());
    const bodies = Array.from({ length: 6 }, () => randomBytes(3 * MIB + 1234));
    const digests = await Promise.all(bodies.map(async (body, index) => {
      const hash = thread.start('sha256');
      const piece = index % 2 === 0 ? 65_536 : 300 * 1024 + 7;
      for (let offset = 0; offset < body.length; offset += piece) await hash.update(body.subarray(offset, offset + piece));
      return hash.digest();
    }));
    assert.deepEqual(digests, bodies.map(sha256));
  });

  it('keeps one hash in order when copies are sent without waiting for each other', async (t) => {
    const thread = new HashThread();
    t.after(() => thread.close());
    const body = randomBytes(12 * MIB + 5);
    const hash = thread.start('sha256');
    const sending: (Promise<void> | void)[] = [];
    for (let offset = 0; offset < body.length; offset += 300 * 1024) sending.push(hash.update(body.subarray(offset, offset + 300 * 1024)));
    await Promise.all(sending);
    assert.equal(await hash.digest(), sha256(body));
  });

  it('fails the hashes of a thread that stopped, and starts a new thread for the next upload', async (t) => {
    const pool = new AlignedBufferPool(MIB, 1);
    const thread = new HashThread(pool.memory);
    t.after(() => thread.close());
    const orphan = thread.start('sha256');
    await orphan.update(Buffer.from('before'));
    await thread.close();
    assert.equal(orphan.usable, false);
    assert.equal(orphan.update(Buffer.from('after')), undefined, 'bytes for a lost hash are dropped, not refused');
    await assert.rejects(orphan.digest(), /stopped/);
    const next = thread.start('sha256');
    await next.update(Buffer.from('fresh'));
    assert.equal(await next.digest(), sha256(Buffer.from('fresh')));
  });
});

describe('UploadService with a hashing thread', () => {
  /** As the registry wires it: the thread reads the store's shared buffers when it has them. */
  async function setup(directIO = true) {
    const root = await mkdtemp(join(tmpdir(), 'wharf-hash-thread-'));
    const blobs = new FilesystemBlobStore(join(root, 'blobs'), { directIO });
    await blobs.init();
    const metadata = new SqliteMetadataStore(join(root, 'metadata.db'));
    await metadata.migrate();
    const thread = new HashThread(blobs.directBuffers?.memory);
    const uploads = new UploadService(blobs, metadata, { hashThread: thread });
    return { uploads, thread, cleanup: async () => { await thread.close(); await metadata.close(); await rm(root, { recursive: true, force: true }); } };
  }

  it('commits large chunked uploads whose digest was computed on the thread', async (t) => {
    const { uploads, cleanup } = await setup();
    t.after(cleanup);
    const bytes = randomBytes(11 * MIB + 4321);
    const id = await uploads.start('thread/app');
    await uploads.append(id, inPieces(bytes.subarray(0, 6 * MIB + 1), 65_536), 0);
    await uploads.append(id, inPieces(bytes.subarray(6 * MIB + 1), 65_536), 6 * MIB + 1);
    assert.equal(await uploads.complete('thread/app', id, parseDigest(`sha256:${sha256(bytes)}`)!), bytes.length);
  });

  it('re-hashes the staged bytes when the thread died during the upload', async (t) => {
    const { uploads, thread, cleanup } = await setup();
    t.after(cleanup);
    const bytes = randomBytes(9 * MIB + 3);
    const id = await uploads.start('thread/app');
    await uploads.append(id, inPieces(bytes, 65_536), 0);
    await thread.close();
    assert.equal(await uploads.complete('thread/app', id, parseDigest(`sha256:${sha256(bytes)}`)!), bytes.length);
  });

  it('finishes an upload whose thread dies while its body streams in, then hashes the staged bytes', async (t) => {
    const { uploads, thread, cleanup } = await setup();
    t.after(cleanup);
    const bytes = randomBytes(13 * MIB + 5);
    async function* dyingMidway(): AsyncIterable<Uint8Array> {
      for (let offset = 0; offset < bytes.length; offset += 65_536) {
        if (offset === 6 * MIB) await thread.close();
        yield bytes.subarray(offset, offset + 65_536);
      }
    }
    const id = await uploads.start('thread/app');
    assert.equal(await uploads.append(id, dyingMidway(), 0), bytes.length);
    assert.equal(await uploads.complete('thread/app', id, parseDigest(`sha256:${sha256(bytes)}`)!), bytes.length);
  });

  it('goes on with a chunked upload whose hash was lost with its thread', async (t) => {
    const { uploads, thread, cleanup } = await setup();
    t.after(cleanup);
    const bytes = randomBytes(7 * MIB + 11);
    const id = await uploads.start('thread/app');
    await uploads.append(id, inPieces(bytes.subarray(0, 3 * MIB), 65_536), 0);
    await thread.close();
    await uploads.append(id, inPieces(bytes.subarray(3 * MIB), 65_536), 3 * MIB);
    assert.equal(await uploads.complete('thread/app', id, parseDigest(`sha256:${sha256(bytes)}`)!), bytes.length);
  });

  it('hashes a large upload through the page cache on a thread that has no shared buffers', async (t) => {
    const { uploads, cleanup } = await setup(false);
    t.after(cleanup);
    const bytes = randomBytes(6 * MIB + 99);
    const id = await uploads.start('thread/plain');
    await uploads.append(id, inPieces(bytes, 65_536), 0);
    assert.equal(await uploads.complete('thread/plain', id, parseDigest(`sha256:${sha256(bytes)}`)!), bytes.length);
  });

  it('refuses a wrong digest computed on the thread', async (t) => {
    const { uploads, cleanup } = await setup();
    t.after(cleanup);
    const bytes = randomBytes(5 * MIB);
    const id = await uploads.start('thread/app');
    await uploads.append(id, inPieces(bytes, 65_536), 0);
    await assert.rejects(uploads.complete('thread/app', id, parseDigest(`sha256:${sha256(Buffer.from('other'))}`)!), /DIGEST_INVALID|digest/i);
  });
});
