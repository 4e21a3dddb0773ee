/**
 * The guarantees of BlobStore, as tests any implementation runs:
 * `describeBlobStore('filesystem', async () => ({ store, cleanup }))`.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { OffsetMismatchError, type BlobStore } from './blob-store.ts';

export interface BlobStoreFixture {
  readonly store: BlobStore;
  cleanup(): Promise<void>;
}

const digestOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

async function* chunks(...parts: string[]): AsyncIterable<Uint8Array> {
  for (const part of parts) yield Buffer.from(part);
}

async function* failingAfter(part: string): AsyncIterable<Uint8Array> {
  yield Buffer.from(part);
  throw new Error('client went away');
}

/** Random bytes: no block repeats, so a misplaced, repeated or overwritten block shows up. */
function randomBody(size: number): Buffer {
  return randomBytes(size);
}

/** `bytes` in pieces of the given sizes, cycling, as a request body arrives from a socket. */
async function* inPieces(bytes: Buffer, sizes: readonly number[]): AsyncIterable<Uint8Array> {
  let offset = 0;
  for (let index = 0; offset < bytes.length; index++) {
    const size = sizes[index % sizes.length]!;
    yield bytes.subarray(offset, offset + size);
    offset += size;
  }
}

async function readBytes(stream: AsyncIterable<Uint8Array> | undefined): Promise<Buffer> {
  assert.ok(stream, 'expected a stream');
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

/**
 * The staged bytes are `bytes`: read back, or, for a store that keeps a resumable digest instead
 * (its multipart parts cannot be read), that digest resumed from the saved state.
 */
async function assertStaged(store: BlobStore, uploadId: string, bytes: Buffer): Promise<void> {
  if (store.resumeSha256) {
    const resumed = await store.resumeSha256(uploadId);
    assert.ok(resumed, 'expected a saved hash state');
    assert.equal(resumed.length, bytes.length);
    assert.equal(resumed.digest(), createHash('sha256').update(bytes).digest('hex'));
    return;
  }
  assert.deepEqual(await readBytes(await store.readStaged(uploadId)), bytes);
}

async function readAll(stream: AsyncIterable<Uint8Array> | undefined): Promise<string> {
  assert.ok(stream, 'expected a stream');
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts).toString();
}

export function describeBlobStore(name: string, make: () => Promise<BlobStoreFixture>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let fixture: BlobStoreFixture;
    let store: BlobStore;
    beforeEach(async () => {
      fixture = await make();
      store = fixture.store;
    });
    afterEach(() => fixture.cleanup());

    it('makes a blob readable only after commit', async () => {
      const digest = digestOf('hello world');
      assert.equal(await store.append('u1', 0, chunks('hello', ' world')), 11);
      assert.equal(await store.stat(digest), undefined);
      assert.equal(await store.open(digest), undefined);
      await store.commit('u1', digest);
      assert.equal(await store.stat(digest), 11);
      assert.equal(await readAll(await store.open(digest)), 'hello world');
      assert.equal(await store.stagedSize('u1'), undefined);
    });

    it('reads byte ranges inclusively', async () => {
      const digest = digestOf('0123456789');
      await store.append('u1', 0, chunks('0123456789'));
      await store.commit('u1', digest);
      assert.equal(await readAll(await store.open(digest, { start: 2, end: 4 })), '234');
    });

    it('appends in several calls and refuses an append at the wrong offset', async () => {
      await store.append('u1', 0, chunks('abc'));
      await assert.rejects(store.append('u1', 1, chunks('x')), OffsetMismatchError);
      assert.equal(await store.append('u1', 3, chunks('def')), 6);
      assert.equal(await readAll(await store.readStaged('u1')), 'abcdef');
    });

    it('rolls a failed append back to where it started', async () => {
      await store.append('u1', 0, chunks('abc'));
      await assert.rejects(store.append('u1', 3, failingAfter('partial')), /client went away/);
      assert.equal(await store.stagedSize('u1'), 3);
    });

    it('lets the hash observer see every byte written, once and in order', async () => {
      const seen: Buffer[] = [];
      await store.append('u1', 0, chunks('ab', 'cd'), (bytes) => { seen.push(Buffer.from(bytes)); });
      assert.equal(Buffer.concat(seen).toString(), 'abcd');
      const bytes = randomBody(9 * 1024 * 1024 + 77);
      const large: Buffer[] = [];
      await store.append('u2', 0, inPieces(bytes.subarray(0, 4099), [4099]), (piece) => { large.push(Buffer.from(piece)); });
      await store.append('u2', 4099, inPieces(bytes.subarray(4099), [65_536, 3]), (piece) => { large.push(Buffer.from(piece)); });
      assert.ok(Buffer.concat(large).equals(bytes));
    });

    it('waits for an observer that reads the bytes later before it reuses their memory', async () => {
      // An observer on another thread reads the bytes after `observe` returns: model it by
      // hashing them only once the returned promise settles, later.
      const bytes = randomBody(13 * 1024 * 1024 + 5);
      // The promises chain, so the pieces are hashed in order, as a thread hashes them.
      const hash = createHash('sha256');
      let reading = Promise.resolve();
      const observe = (piece: Uint8Array) => (reading = reading.then(() => new Promise<void>((resolve) => setTimeout(() => { hash.update(piece); resolve(); }, 15))));
      await store.append('late', 0, inPieces(bytes, [65_536]), observe);
      await reading; // what a hashing thread does before it answers for the digest
      assert.equal(hash.digest('hex'), createHash('sha256').update(bytes).digest('hex'));
    });

    it('keeps one copy when the same digest is committed twice', async () => {
      const digest = digestOf('same');
      await store.append('a', 0, chunks('same'));
      await store.append('b', 0, chunks('same'));
      await store.commit('a', digest);
      await store.commit('b', digest);
      assert.equal(await readAll(await store.open(digest)), 'same');
      assert.deepEqual(await store.listStaged(), []);
    });

    it('commits an empty upload that never received bytes', async () => {
      const digest = digestOf('');
      await store.commit('empty', digest);
      assert.equal(await store.stat(digest), 0);
    });

    it('discards staged data and deletes blobs', async () => {
      const digest = digestOf('gone');
      await store.append('u1', 0, chunks('gone'));
      await store.append('u2', 0, chunks('x'));
      await store.discard('u2');
      assert.deepEqual((await store.listStaged()).map((entry) => entry.id), ['u1']);
      await store.commit('u1', digest);
      await store.delete(digest);
      assert.equal(await store.stat(digest), undefined);
    });

    it('refuses upload ids that could name another path', async () => {
      await assert.rejects(store.append('../escape', 0, chunks('x')));
      await assert.rejects(store.stagedSize('a/b'));
    });

    it('stores large bodies byte for byte, appended at odd offsets in odd pieces', async () => {
      // Several MiB with sizes and offsets that are not multiples of any block size.
      const bytes = randomBody(9 * 1024 * 1024 + 1234);
      const cuts = [3 * 1024 * 1024 + 5, 5 * 1024 * 1024 - 11, bytes.length];
      let offset = 0;
      for (const cut of cuts) {
        offset = await store.append('big', offset, inPieces(bytes.subarray(offset, cut), [65_536, 1, 700_001]));
        assert.equal(offset, cut);
      }
      await assertStaged(store, 'big', bytes);
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      await store.commit('big', digest);
      assert.equal(await store.stat(digest), bytes.length);
      assert.deepEqual(await readBytes(await store.open(digest)), bytes);
      assert.deepEqual(await readBytes(await store.open(digest, { start: 4097, end: 6 * 1024 * 1024 })), bytes.subarray(4097, 6 * 1024 * 1024 + 1));
    });

    it('rolls back a large append that fails half-way', async () => {
      const bytes = randomBody(6 * 1024 * 1024 + 3);
      await store.append('big', 0, inPieces(bytes.subarray(0, 1001), [1001]));
      async function* brokenAfterMiBs(): AsyncIterable<Uint8Array> {
        yield* inPieces(bytes.subarray(1001, 5 * 1024 * 1024), [65_536]);
        throw new Error('client went away');
      }
      await assert.rejects(store.append('big', 1001, brokenAfterMiBs()), /client went away/);
      assert.equal(await store.stagedSize('big'), 1001);
      assert.equal(await store.append('big', 1001, inPieces(bytes.subarray(1001), [65_536])), bytes.length);
      await assertStaged(store, 'big', bytes);
    });

    it('reports readiness', async () => {
      await store.check();
    });
  });
}
