// `npm run bench:models` (node bench/models.ts): the model targets of issue 19, against an
// in-process Wharf on loopback with its data on the local disk.
//  1. Push of a model directory (default 4 GiB in 8 shards) with `wharf model push`'s client:
//     MB/s, next to a raw monolithic blob upload of one shard (one PUT, streamed).
//  2. Pull of the same with parallel Range streams, against a single stream per file.
//  3. A second push of a fine-tune sharing all shards but one: bytes sent and time.
//  4. One large layer (default 2 GiB) pushed in chunks with the registry restarted half way: it
//     resumes, commits with the right digest, and pulls back exactly with parallel Range streams;
//     the process's peak RSS is printed before and after (it holds client and server).
// Options: --gib N (4), --shards N (8), --streams N (4), --restart-gib N (2; 0 skips it).
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startTestRegistry } from '../test/support/registry-fixture.ts';
import { loadConfig } from '../src/config/config.ts';
import { extensionsFor } from '../src/server/extensions.ts';
import { listen } from '../src/server/http-server.ts';
import { createLogger } from '../src/server/logger.ts';
import { createRegistryApp } from '../src/server/registry-app.ts';
import { RegistryClient } from '../src/client/registry-client.ts';
import { pullModel, pushModel } from '../src/client/models.ts';

const { values } = parseArgs({ options: {
  gib: { type: 'string', default: '4' }, shards: { type: 'string', default: '8' }, streams: { type: 'string', default: '4' }, 'restart-gib': { type: 'string', default: '2' },
} });
const RESTART_BYTES = Math.round(Number(values['restart-gib']) * 1024 ** 3);
const TOTAL = Math.round(Number(values.gib) * 1024 ** 3), SHARDS = Number(values.shards), STREAMS = Number(values.streams);
const SHARD = Math.floor(TOTAL / SHARDS);
const MB = 1e6;

async function writeShard(path: string, seed: number, size = SHARD): Promise<void> {
  const block = randomBytes(16 * 1024 * 1024);
  const handle = await open(path, 'w');
  try {
    for (let written = 0; written < size; written += block.length) {
      block.writeUInt32LE(seed, 0); block.writeUInt32LE(written / block.length, 4); // every block differs, so does every shard
      await handle.write(block, 0, Math.min(block.length, size - written));
    }
  } finally { await handle.close(); }
}

const folder = await mkdtemp(join(tmpdir(), 'wharf-bench-models-'));
const registry = await startTestRegistry();
try {
  const host = new URL(registry.url).host;
  const client = new RegistryClient(host);
  const base = join(folder, 'base'), tuned = join(folder, 'tuned');
  await mkdir(base); await mkdir(tuned);
  console.log(`generating ${SHARDS} shards of ${(SHARD / MB).toFixed(0)} MB …`);
  for (let shard = 0; shard < SHARDS; shard++) await writeShard(join(base, `model-${String(shard + 1).padStart(5, '0')}-of-${String(SHARDS).padStart(5, '0')}.bin`), shard);
  await writeFile(join(base, 'LICENSE'), 'MIT License\n');
  await writeFile(join(base, 'README.md'), '---\nlicense: mit\n---\n# bench model\n');

  // Raw upload baseline: one shard in one streamed monolithic POST, as `npm run bench` uploads blobs.
  const rawPath = join(folder, 'raw.bin');
  await writeShard(rawPath, 999);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(rawPath)) hash.update(chunk as Buffer);
  const rawDigest = `sha256:${hash.digest('hex')}`;
  let started = performance.now();
  const raw = await fetch(`${registry.url}/v2/bench/raw/blobs/uploads/?digest=${rawDigest}`, {
    method: 'POST', body: Readable.toWeb(createReadStream(rawPath, { highWaterMark: 1024 * 1024 })) as ReadableStream, headers: { 'content-type': 'application/octet-stream', 'content-length': String(SHARD) }, duplex: 'half',
  } as RequestInit);
  if (raw.status !== 201) throw new Error(`raw upload: ${raw.status} ${await raw.text()}`);
  const rawSeconds = (performance.now() - started) / 1000;
  console.log(`raw blob upload (1 × ${(SHARD / MB).toFixed(0)} MB, one request): ${(SHARD / MB / rawSeconds).toFixed(0)} MB/s`);

  started = performance.now();
  const pushed = await pushModel(client, 'bench/model', 'v1', base, { concurrency: 4 });
  const pushSeconds = (performance.now() - started) / 1000;
  console.log(`model push (${SHARDS} shards, ${(TOTAL / MB).toFixed(0)} MB, 4 layers in parallel, chunked): ${pushSeconds.toFixed(1)} s, ${(pushed.bytesSent / MB / pushSeconds).toFixed(0)} MB/s (hashing included)`);

  for (const streams of [STREAMS, 1]) {
    const target = join(folder, `pull-${streams}`);
    started = performance.now();
    const pulled = await pullModel(client, 'bench/model', 'v1', target, { streams, concurrency: 2, ...(streams === 1 ? { partSize: SHARD } : {}) });
    const seconds = (performance.now() - started) / 1000;
    console.log(`model pull, ${streams} Range stream(s) per file, 2 files at once: ${seconds.toFixed(1)} s, ${(pulled.bytesReceived / MB / seconds).toFixed(0)} MB/s (digest verification included)`);
    await rm(target, { recursive: true, force: true });
  }

  // The fine-tune: the same shards but the last, which changed.
  for (let shard = 0; shard < SHARDS - 1; shard++) {
    const name = `model-${String(shard + 1).padStart(5, '0')}-of-${String(SHARDS).padStart(5, '0')}.bin`;
    await copyFile(join(base, name), join(tuned, name));
  }
  await writeShard(join(tuned, `model-${String(SHARDS).padStart(5, '0')}-of-${String(SHARDS).padStart(5, '0')}.bin`), 4242);
  await copyFile(join(base, 'LICENSE'), join(tuned, 'LICENSE'));
  await copyFile(join(base, 'README.md'), join(tuned, 'README.md'));
  started = performance.now();
  const second = await pushModel(client, 'bench/model', 'v2-finetune', tuned, { concurrency: 4 });
  const secondSeconds = (performance.now() - started) / 1000;
  console.log(`fine-tune push (${SHARDS - 1} of ${SHARDS} shards shared): ${(second.bytesSent / MB).toFixed(0)} MB sent of ${(TOTAL / MB).toFixed(0)} MB, ${second.skippedFiles} files skipped, ${secondSeconds.toFixed(1)} s (hashing the directory included)`);
} finally {
  await registry.close();
}

async function startOn(dataDir: string, port: number) {
  const config = loadConfig({ env: { WHARF_LISTEN: `127.0.0.1:${port}`, WHARF_DATA: dataDir, WHARF_LOG_LEVEL: 'silent' } });
  const app = await createRegistryApp(config, createLogger(config.log.level), await extensionsFor(config));
  const server = await listen(app, config.listen.host, config.listen.port);
  return { url: server.url, async stop() { await server.stop(100); await app.close(); } };
}

try {
  if (RESTART_BYTES > 0) {
    const modelDir = join(folder, 'large'), dataDir = join(folder, 'restart-data');
    await mkdir(modelDir);
    await writeShard(join(modelDir, 'model.bin'), 77, RESTART_BYTES);
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(join(modelDir, 'model.bin'), { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
    const digest = `sha256:${hash.digest('hex')}`;
    const rssBefore = process.resourceUsage().maxRSS;
    let server = await startOn(dataDir, 0);
    const port = Number(new URL(server.url).port);
    const client = new RegistryClient(`127.0.0.1:${port}`);
    let sent = 0, restarted: Promise<void> | undefined;
    const started = performance.now();
    const progress = {
      start() {}, finish() {},
      advance(name: string, bytes: number) {
        if (name !== 'model.bin') return;
        sent += bytes;
        if (sent >= RESTART_BYTES / 2 && !restarted) restarted = (async () => { await server.stop(); server = await startOn(dataDir, port); })();
      },
    };
    const pushed = await pushModel(client, 'bench/large', 'v1', modelDir, { concurrency: 1, progress, retryDelayMs: 200 });
    await restarted;
    const pushSeconds = (performance.now() - started) / 1000;
    const head = await fetch(`${server.url}/v2/bench/large/blobs/${digest}`, { method: 'HEAD' });
    console.log(`${(RESTART_BYTES / 1024 ** 3).toFixed(1)} GiB layer, registry restarted half way: ${pushSeconds.toFixed(1)} s, ${(pushed.bytesSent / MB).toFixed(0)} MB sent for ${(RESTART_BYTES / MB).toFixed(0)} MB, blob ${head.status === 200 ? 'committed with the right digest' : `MISSING (${head.status})`}`);
    const pullStarted = performance.now();
    const pulled = await pullModel(client, 'bench/large', 'v1', join(folder, 'large-pull'), { streams: STREAMS });
    console.log(`pulled back with ${STREAMS} Range streams in ${((performance.now() - pullStarted) / 1000).toFixed(1)} s: ${pulled.files[0]?.status === 'downloaded' ? 'identical (digest verified)' : 'FAILED'}`);
    console.log(`peak RSS of the process (client + server): ${(rssBefore / 1024).toFixed(0)} MiB before, ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB after`);
    await server.stop();
  }
} finally {
  await rm(folder, { recursive: true, force: true });
}
