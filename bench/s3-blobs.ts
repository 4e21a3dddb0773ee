// `node bench/s3-blobs.ts [--mib 256] [--rounds 3]`: a quick measure of the S3 blob store against
// the Ceph RGW of ../shared/s3 (started and stopped here): one upload in a single append (a
// monolithic push), one in 8 MiB appends (a chunked push), then a full read and a read through a
// presigned URL; then the same through HTTP: a Wharf on S3 and a Wharf on the filesystem, each
// taking a monolithic push (POST + PUT with the body) and a pull (GET). Prints MiB/s per round and
// the medians. Not part of `npm run bench`.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { startCephS3, stopCephS3 } from '../test/support/ceph-s3.ts';
import { S3BlobStore } from '../src/storage/blobs/s3-blob-store.ts';
import { startWharf, type RunningRegistry } from '../test/e2e/harness.ts';

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
const results: Record<string, number[]> = {
  'upload, one append': [], 'upload, 8 MiB appends': [], 'download (open)': [], 'download (presigned URL)': [],
  'HTTP push, Wharf on S3': [], 'HTTP pull, Wharf on S3': [], 'HTTP push, Wharf on filesystem': [], 'HTTP pull, Wharf on filesystem': [],
};

/** A monolithic push: POST for a session, then PUT ?digest= with the whole body. */
async function push(registry: RunningRegistry, bytes: Buffer, digest: string): Promise<void> {
  const started = await fetch(`${registry.url}/v2/bench/blob/blobs/uploads/`, { method: 'POST' });
  if (started.status !== 202) throw new Error(`POST answered ${started.status}`);
  const location = new URL(started.headers.get('location')!, registry.url);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`PUT answered ${put.status}: ${await put.text()}`);
}

async function pull(registry: RunningRegistry, digest: string): Promise<void> {
  const response = await fetch(`${registry.url}/v2/bench/blob/blobs/${digest}`);
  if (response.status !== 200) throw new Error(`GET answered ${response.status}`);
  for await (const _ of response.body!) { /* drain */ }
}
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
  const onS3 = await startWharf({ env: {
    WHARF_STORAGE_BACKEND: 's3', WHARF_STORAGE_S3_ENDPOINT: s3.endpoint, WHARF_STORAGE_S3_BUCKET: 'bench', WHARF_STORAGE_S3_REGION: s3.region,
    WHARF_STORAGE_S3_ACCESS_KEY: s3.accessKey, WHARF_STORAGE_S3_SECRET_KEY: s3.secretKey, WHARF_STORAGE_S3_FORCE_PATH_STYLE: 'true',
    WHARF_STORAGE_S3_PREFIX: 'bench-http', WHARF_LOG_LEVEL: 'warn',
  } });
  const onDisk = await startWharf({ env: { WHARF_LOG_LEVEL: 'warn' } });
  try {
    for (let round = 0; round < rounds; round++) {
      for (const [registry, where] of [[onS3, 'S3'], [onDisk, 'filesystem']] as const) {
        const bytes = randomBytes(size);
        const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
        await timed(`HTTP push, Wharf on ${where}`, () => push(registry, bytes, digest));
        await timed(`HTTP pull, Wharf on ${where}`, () => pull(registry, digest));
      }
    }
  } finally {
    await Promise.all([onS3.stop(), onDisk.stop()]);
  }
  const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
  console.log(`\n| ${values.mib} MiB blob | median MiB/s | rounds |\n|---|---|---|`);
  for (const [name, list] of Object.entries(results)) console.log(`| ${name} | ${median(list).toFixed(0)} | ${list.map((rate) => rate.toFixed(0)).join(', ')} |`);
} finally {
  store.close();
  await stopCephS3(s3);
}
