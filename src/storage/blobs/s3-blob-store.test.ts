import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { skipReason, startCephS3, stopCephS3, type CephS3Start } from '../../../test/support/ceph-s3.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDigest } from '../../content/digest.ts';
import { UploadService } from '../../distribution/upload-service.ts';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.ts';
import { OffsetMismatchError } from './blob-store.ts';
import { describeBlobStore } from './blob-store.contract.ts';
import { partSizeAt, S3BlobStore, type S3BlobStoreOptions } from './s3-blob-store.ts';

const MiB = 1024 * 1024;
const BUCKET = 'wharf-test';

const s3: CephS3Start = await startCephS3();
after(() => stopCephS3(s3));
const skip = skipReason(s3);

/** A store on its own prefix of the shared bucket, so every test starts empty. */
async function makeStore(overrides: Partial<S3BlobStoreOptions> = {}, prefix = `t-${randomUUID()}`): Promise<S3BlobStore> {
  if ('unavailable' in s3) throw new Error(s3.unavailable);
  const store = new S3BlobStore({
    endpoint: s3.endpoint, region: s3.region, bucket: BUCKET, accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey,
    forcePathStyle: true, prefix, minPartBytes: 5 * MiB, presignedRedirectSeconds: 0, createBucket: true, ...overrides,
  });
  await store.init();
  return store;
}

async function keysUnder(store: S3BlobStore, prefix: string): Promise<string[]> {
  const page = await store.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (page.Contents ?? []).map((object) => object.Key!);
}

async function* pieces(bytes: Buffer, size: number): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

async function readBytes(stream: AsyncIterable<Uint8Array> | undefined): Promise<Buffer> {
  assert.ok(stream, 'expected a stream');
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

describe('S3 part sizes', () => {
  it('keeps the minimum for small uploads and fits 100 GB within 10,000 parts of at most 5 GiB', () => {
    assert.equal(partSizeAt(0, 8 * MiB), 8 * MiB);
    assert.equal(partSizeAt(0, 1 * MiB), 5 * MiB, 'S3 refuses parts under 5 MiB except the last');
    let offset = 0;
    let parts = 0;
    while (offset < 100e9) {
      offset += partSizeAt(offset, 8 * MiB);
      parts++;
    }
    assert.ok(parts < 10_000, `${parts} parts`);
    assert.ok(partSizeAt(100e9, 8 * MiB) <= 5 * 1024 * MiB);
  });
});

describe('S3BlobStore on Ceph RGW', { skip }, () => {
  describeBlobStore('S3 (Ceph RGW)', async () => {
    const store = await makeStore();
    return { store, cleanup: async () => store.close() };
  });

  it('continues an upload on another replica, resuming the digest from the saved state', async () => {
    const prefix = `t-${randomUUID()}`;
    const first = await makeStore({}, prefix);
    const second = await makeStore({}, prefix);
    after(() => { first.close(); second.close(); });
    const bytes = randomBytes(12 * MiB + 333);
    // Small chunk, then one that fills a part, then the rest: pieces, parts and a tail.
    assert.equal(await first.append('moving', 0, pieces(bytes.subarray(0, 1000), 1000)), 1000);
    assert.equal(await second.append('moving', 1000, pieces(bytes.subarray(1000, 7 * MiB), 65_536)), 7 * MiB);
    assert.equal(await first.append('moving', 7 * MiB, pieces(bytes.subarray(7 * MiB), 65_536)), bytes.length);
    const resumed = await second.resumeSha256('moving');
    assert.equal(`sha256:${resumed!.digest()}`, sha256(bytes));
    await second.commit('moving', sha256(bytes));
    assert.deepEqual(await readBytes(await first.open(sha256(bytes))), bytes);
    // Range across the first part boundary.
    assert.deepEqual(await readBytes(await first.open(sha256(bytes), { start: 5 * MiB - 10, end: 5 * MiB + 9 })), bytes.subarray(5 * MiB - 10, 5 * MiB + 10));
  });

  it('lets an upload service on another replica finish a chunked upload without reading the staged parts back', async () => {
    const prefix = `t-${randomUUID()}`;
    const [storeA, storeB] = [await makeStore({}, prefix), await makeStore({}, prefix)];
    // Two replicas: their own upload services and metadata connections, one database and bucket.
    const dir = await mkdtemp(join(tmpdir(), 'wharf-s3-replicas-'));
    const [metadataA, metadataB] = [new SqliteMetadataStore(join(dir, 'metadata.db')), new SqliteMetadataStore(join(dir, 'metadata.db'))];
    await metadataA.migrate();
    await metadataB.migrate();
    after(async () => {
      storeA.close();
      storeB.close();
      await metadataA.close();
      await metadataB.close();
      await rm(dir, { recursive: true, force: true });
    });
    const [replicaA, replicaB] = [new UploadService(storeA, metadataA), new UploadService(storeB, metadataB)];
    const bytes = randomBytes(11 * MiB + 17);
    const id = await replicaA.start('team/app');
    assert.equal(await replicaA.append(id, pieces(bytes.subarray(0, 6 * MiB), 65_536), 0, 6 * MiB), 6 * MiB);
    // The first part (5 MiB) is in the multipart upload now, where S3 cannot read it back.
    await assert.rejects(storeB.readStaged(id), /cannot be read back/);
    assert.equal(await replicaB.append(id, pieces(bytes.subarray(6 * MiB), 65_536), 6 * MiB, bytes.length - 6 * MiB), bytes.length);
    assert.equal(await replicaB.complete('team/app', id, parseDigest(sha256(bytes))!), bytes.length);
    assert.deepEqual(await readBytes(await storeA.open(sha256(bytes))), bytes);
    // A wrong digest is still refused after a move.
    const other = await replicaA.start('team/app');
    await replicaA.append(other, pieces(bytes.subarray(0, 6 * MiB), 65_536), 0, 6 * MiB);
    await assert.rejects(replicaB.complete('team/app', other, parseDigest(sha256(Buffer.from('not it')))!), /DIGEST_INVALID|digest/i);
  });

  it('lets one of two replicas appending at the same offset win, and refuses the other', async () => {
    const prefix = `t-${randomUUID()}`;
    const [first, second] = [await makeStore({}, prefix), await makeStore({}, prefix)];
    after(() => { first.close(); second.close(); });
    for (const offset of [0, 3]) {
      const id = `race${offset}`;
      if (offset > 0) await first.append(id, 0, pieces(Buffer.from('abc'), 3));
      // Both read the upload's state before either body arrives.
      async function* late(text: string): AsyncIterable<Uint8Array> {
        await new Promise((resolve) => setTimeout(resolve, 300));
        yield Buffer.from(text);
      }
      const outcomes = await Promise.allSettled([first.append(id, offset, late('from-first')), second.append(id, offset, late('from-second!'))]);
      const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      assert.equal(won.length, 1, `exactly one append stands at offset ${offset}`);
      const lost = outcomes.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult;
      assert.ok(lost.reason instanceof OffsetMismatchError, String(lost.reason));
      const winner = outcomes[0]!.status === 'fulfilled' ? 'from-first' : 'from-second!';
      const staged = Buffer.from(`${offset > 0 ? 'abc' : ''}${winner}`);
      assert.equal(await first.stagedSize(id), staged.length);
      assert.equal((await first.readStaged(id).then(readBytes)).toString(), staged.toString());
      assert.equal(`sha256:${(await second.resumeSha256(id))!.digest()}`, sha256(staged));
    }
  });

  it('cleans up or finishes a commit that stopped between completing the data and writing its pointer', async () => {
    const prefix = `t-${randomUUID()}`;
    const crashing = await makeStore({}, prefix);
    const survivor = await makeStore({}, prefix);
    after(() => { crashing.close(); survivor.close(); });
    // The process "dies" when it writes the pointer (the only conditional PutObject of a commit).
    crashing.client.middlewareStack.add((next, context) => async (args) => {
      const input = args.input as { IfNoneMatch?: string; Key?: string };
      if (context.commandName === 'PutObjectCommand' && input.IfNoneMatch === '*' && input.Key?.includes('/blobs/')) throw new Error('killed');
      return next(args);
    }, { step: 'initialize' });
    for (const [id, finish] of [['abandoned', 'discard'], ['retried', 'commit']] as const) {
      const bytes = randomBytes(6 * MiB + 5);
      await crashing.append(id, 0, pieces(bytes, MiB));
      await assert.rejects(crashing.commit(id, sha256(bytes)), /killed/);
      assert.equal((await keysUnder(survivor, `${prefix}/data/`)).length, 1, 'the completed data object');
      if (finish === 'discard') {
        // Purging the abandoned upload removes the data object no pointer names.
        await survivor.discard(id);
        assert.deepEqual(await keysUnder(survivor, `${prefix}/data/`), []);
        assert.equal(await survivor.stat(sha256(bytes)), undefined);
      } else {
        await survivor.commit(id, sha256(bytes));
        assert.deepEqual(await readBytes(await survivor.open(sha256(bytes))), bytes);
        // A later purge of what is left of the upload keeps the blob.
        await survivor.discard(id);
        assert.equal(await survivor.stat(sha256(bytes)), bytes.length);
      }
      assert.deepEqual(await keysUnder(survivor, `${prefix}/uploads/`), []);
    }
  });

  it('writes a large blob in place with CompleteMultipartUpload and points the content key at it, copying nothing', async () => {
    const store = await makeStore();
    after(() => store.close());
    const bytes = randomBytes(11 * MiB);
    await store.append('big', 0, pieces(bytes, 256 * 1024));
    await store.commit('big', sha256(bytes));
    const hex = sha256(bytes).slice(7);
    const [contentKey] = await keysUnder(store, `${store.prefix}blobs/sha256/${hex.slice(0, 2)}/${hex}`);
    const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: contentKey }));
    assert.equal(head.ContentLength, 0, 'the content key is a pointer');
    const data = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: head.Metadata!['wharf-data'] }));
    assert.equal(data.ContentLength, bytes.length);
    assert.match(data.ETag ?? '', /-3"$/, 'three parts of a multipart upload (5 + 5 + 1 MiB)');
    // Nothing staged remains, and no multipart upload is left open.
    assert.deepEqual(await keysUnder(store, `${store.prefix}uploads/`), []);
    const open = await store.client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: store.prefix }));
    assert.deepEqual(open.Uploads ?? [], []);
  });

  it('keeps one copy when two replicas commit the same large digest', async () => {
    const prefix = `t-${randomUUID()}`;
    const first = await makeStore({}, prefix);
    const second = await makeStore({}, prefix);
    after(() => { first.close(); second.close(); });
    const bytes = randomBytes(6 * MiB);
    await first.append('a', 0, pieces(bytes, MiB));
    await second.append('b', 0, pieces(bytes, MiB));
    await Promise.all([first.commit('a', sha256(bytes)), second.commit('b', sha256(bytes))]);
    assert.deepEqual(await readBytes(await second.open(sha256(bytes))), bytes);
    const data = await keysUnder(first, `${prefix}/data/`);
    assert.equal(data.length, 1, `one data object, not ${data.length}`);
  });

  it('aborts the multipart upload a failed first append began', async () => {
    const store = await makeStore();
    after(() => store.close());
    async function* brokenAfterAPart(): AsyncIterable<Uint8Array> {
      yield randomBytes(6 * MiB);
      throw new Error('client went away');
    }
    await assert.rejects(store.append('broken', 0, brokenAfterAPart()), /client went away/);
    assert.equal(await store.stagedSize('broken'), undefined);
    const open = await store.client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: store.prefix }));
    assert.deepEqual(open.Uploads ?? [], []);
  });

  it('deletes many blobs, pointers and data, in batches', async () => {
    const store = await makeStore();
    after(() => store.close());
    const digests: string[] = [];
    for (let index = 0; index < 12; index++) {
      const bytes = index === 0 ? randomBytes(6 * MiB) : Buffer.from(`blob ${index}`);
      await store.append(`u${index}`, 0, pieces(bytes, MiB));
      await store.commit(`u${index}`, sha256(bytes));
      digests.push(sha256(bytes));
    }
    await store.deleteMany([...digests, sha256(Buffer.from('never stored'))]);
    for (const digest of digests) assert.equal(await store.stat(digest), undefined);
    assert.deepEqual(await keysUnder(store, store.prefix), []);
  });

  it('presigns blob URLs that serve the bytes and byte ranges without the registry', async () => {
    const store = await makeStore({ presignedRedirectSeconds: 300 });
    after(() => store.close());
    const bytes = randomBytes(7 * MiB);
    await store.append('signed', 0, pieces(bytes, MiB));
    await store.commit('signed', sha256(bytes));
    const url = await store.presignedUrl(sha256(bytes));
    assert.ok(url?.startsWith('http://127.0.0.1:'), `not a loopback URL: ${url}`);
    const whole = await fetch(url!);
    assert.deepEqual(Buffer.from(await whole.arrayBuffer()), bytes);
    const ranged = await fetch(url!, { headers: { range: 'bytes=10-19' } });
    assert.equal(ranged.status, 206);
    assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), bytes.subarray(10, 20));
    const unsigned = await makeStore();
    after(() => unsigned.close());
    assert.equal(await unsigned.presignedUrl(sha256(bytes)), undefined, 'no redirects unless configured');
  });
});

