// `node bench/s3-blobs.ts [--mib 256] [--rounds 3]`: a quick measure of the S3 blob store against
// the Ceph RGW of ../shared/s3 (started and stopped here): one upload in a single append (a
// monolithic push), one in 8 MiB appends (a chunked push), then a full read and a read through a
// presigned URL. Prints MiB/s per round and the median. Not part of `npm run bench`.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { startCephS3, stopCephS3 } from '../test/support/ceph-s3.ts';
import { S3BlobStore } from '../src/storage/blobs/s3-blob-store.ts';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '256' }, rounds: { type: 'string', default: '3' } } });
const MiB = 1024 * 1024;
const size = Number(values.mib) * MiB;
const rounds = Number(values.rounds);

async function* pieces(bytes: Buffer, from: number, to: number): AsyncIterable<Uint8Array> {
  for (let offset = from; offset < to; offset += 65_536) yield bytes.subarray(offset, Math.min(to, offset + 65_536));
}

const s3 = await startCephS3();
if ('unavailable' in s3) throw new Error(s3.unavailable);
const store = new S3BlobStore({
  endpoint: s3.endpoint, region: s3.region, bucket: 'bench', accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey,
  forcePathStyle: true, prefix: 'bench', minPartBytes: 8 * MiB, presignedRedirectSeconds: 300, createBucket: true,
});
const results: Record<string, number[]> = { 'upload, one append': [], 'upload, 8 MiB appends': [], 'download (open)': [], 'download (presigned URL)': [] };
const timed = async (name: string, work: () => Promise<void>) => {
  const started = performance.now();
  await work();
  const rate = size / MiB / ((performance.now() - started) / 1000);
  results[name]!.push(rate);
  console.log(`${name}: ${rate.toFixed(0)} MiB/s`);
};
try {
  await store.init();
  for (let round = 0; round < rounds; round++) {
    const bytes = randomBytes(size);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await timed('upload, one append', async () => {
      const id = randomUUID();
      await store.append(id, 0, pieces(bytes, 0, size));
      await store.commit(id, digest);
    });
    await timed('download (open)', async () => {
      for await (const _ of (await store.open(digest))!) { /* drain */ }
    });
    await timed('download (presigned URL)', async () => {
      const response = await fetch((await store.presignedUrl(digest))!);
      for await (const _ of response.body!) { /* drain */ }
    });
    await store.delete(digest);
    await timed('upload, 8 MiB appends', async () => {
      const id = randomUUID();
      for (let offset = 0; offset < size; offset += 8 * MiB) await store.append(id, offset, pieces(bytes, offset, Math.min(size, offset + 8 * MiB)));
      await store.commit(id, digest);
    });
    await store.delete(digest);
  }
  const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
  console.log(`\n| ${values.mib} MiB blob | median MiB/s | rounds |\n|---|---|---|`);
  for (const [name, list] of Object.entries(results)) console.log(`| ${name} | ${median(list).toFixed(0)} | ${list.map((rate) => rate.toFixed(0)).join(', ')} |`);
} finally {
  store.close();
  await stopCephS3(s3);
}
