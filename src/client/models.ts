/**
 * Models as OCI artifacts against any registry: a directory packed as a CNCF ModelPack artifact
 * (one layer per file, a config derived from what the files' headers say, the README as model
 * card), uploaded in parallel in chunks with resume; pulled file by file in parallel Range
 * streams with digest verification and resume of partial files; inspected without downloading
 * weights.
 */
import { UnreachableError } from './fetch-errors.ts';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { inspectModel, licenseFromText, type BlobRangeRead, type ModelFacts } from '../content/models/inspect-model.ts';
import {
  MODELPACK_ARTIFACT_TYPE, MODELPACK_CODE_RAW, MODELPACK_CONFIG, MODELPACK_DOC_RAW, MODELPACK_FILEPATH_ANNOTATION, MODELPACK_WEIGHT_CONFIG_RAW,
  MODELPACK_WEIGHT_RAW, OCI_TITLE_ANNOTATION,
} from '../content/models/model-media-types.ts';
import { wildcardMatch } from '../content/wildcard.ts';
import { RegistryError, type RegistryClient } from './registry-client.ts';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** Files of this name in the model directory are Wharf's own bookkeeping, never packed. */
export const PUSH_STATE_FILE = '.wharf-push-state.json';

export interface LocalFile {
  readonly path: string;
  readonly absolute: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly digest: string;
  readonly mediaType: string;
}

export interface ProgressSink {
  start(name: string, total: number): void;
  advance(name: string, bytes: number): void;
  finish(name: string, note: string): void;
}

const SILENT: ProgressSink = { start() {}, advance() {}, finish() {} };

// ─── packing ────────────────────────────────────────────────────────────────────────────────

function mediaTypeFor(path: string): string {
  const name = path.split('/').pop()!.toLowerCase();
  if (/^(readme|license|licence|copying|notice)(\.|$)/.test(name) || name.endsWith('.md')) return MODELPACK_DOC_RAW;
  if (name.endsWith('.py') || name.endsWith('.ipynb')) return MODELPACK_CODE_RAW;
  if (/\.(json|yaml|yml|txt|model|tiktoken|jinja)$/.test(name) && !/\.(safetensors|gguf)$/.test(name)) return MODELPACK_WEIGHT_CONFIG_RAW;
  return MODELPACK_WEIGHT_RAW;
}

async function walk(dir: string, root: string, out: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue; // .git, editor files, our own state
    const absolute = join(dir, entry.name);
    // Hugging Face snapshots are symlinks into a blob cache: follow links to files (not to directories, which could loop).
    const kind = entry.isSymbolicLink() ? await stat(absolute).then((info) => (info.isFile() ? 'file' : 'other'), () => 'other') : entry.isDirectory() ? 'directory' : entry.isFile() ? 'file' : 'other';
    if (kind === 'directory') await walk(absolute, root, out);
    else if (kind === 'file') out.push(absolute);
  }
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

interface PushState {
  files: Record<string, { size: number; mtimeMs: number; digest: string }>;
  uploads: Record<string, string>;
}

async function readState(path: string): Promise<PushState> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as Partial<PushState>;
    return { files: value.files ?? {}, uploads: value.uploads ?? {} };
  } catch {
    return { files: {}, uploads: {} };
  }
}

/** Every regular file under `dir` (dot files aside) with its digest; unchanged files reuse the digest of an earlier run. */
export async function scanModelDirectory(dir: string, state: PushState = { files: {}, uploads: {} }): Promise<LocalFile[]> {
  const absolutes: string[] = [];
  await walk(dir, dir, absolutes);
  absolutes.sort();
  const files: LocalFile[] = [];
  for (const absolute of absolutes) {
    const path = relative(dir, absolute).split(sep).join('/');
    const info = await stat(absolute);
    const known = state.files[path];
    const digest = known && known.size === info.size && known.mtimeMs === info.mtimeMs ? known.digest : await hashFile(absolute);
    state.files[path] = { size: info.size, mtimeMs: info.mtimeMs, digest };
    files.push({ path, absolute, size: info.size, mtimeMs: info.mtimeMs, digest, mediaType: mediaTypeFor(path) });
  }
  return files;
}

/** Ranged reads of local files by digest, for reading their headers with the registry's own readers. */
function localRangeRead(files: readonly LocalFile[]): BlobRangeRead {
  const byDigest = new Map(files.map((file) => [file.digest, file]));
  return async (digest, start, length) => {
    const file = byDigest.get(digest);
    if (!file) return `no local file with digest ${digest}`;
    const handle = await open(file.absolute, 'r');
    try {
      const buffer = Buffer.alloc(Math.max(0, Math.min(length, file.size - start)));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  };
}

/** The `key: value` lines of a model card's YAML front matter (Hugging Face style). */
export function modelCardFacts(readme: string): Record<string, string> {
  const match = /^---\r?\n([\s\S]*?)\r?\n---/.exec(readme);
  const facts: Record<string, string> = {};
  if (!match) return facts;
  for (const line of match[1]!.split(/\r?\n/)) {
    const pair = /^([A-Za-z_][\w-]*):\s*(.+?)\s*$/.exec(line);
    if (pair) facts[pair[1]!] = pair[2]!.replace(/^["']|["']$/g, '');
  }
  return facts;
}

export interface PackedModel {
  readonly files: readonly LocalFile[];
  readonly config: Buffer;
  readonly manifest: Buffer;
  readonly facts: ModelFacts;
}

function humanCount(count: number): string {
  for (const [scale, suffix] of [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'K']] as const) {
    if (count >= scale) return `${Number((count / scale).toFixed(2))}${suffix}`;
  }
  return String(count);
}

/** The ModelPack manifest and config for a scanned directory. */
export async function packModel(files: readonly LocalFile[], name: string, version: string | undefined, now = new Date()): Promise<PackedModel> {
  const layers = files.map((file) => ({
    mediaType: file.mediaType, digest: file.digest, size: file.size,
    annotations: { [MODELPACK_FILEPATH_ANNOTATION]: file.path, [OCI_TITLE_ANNOTATION]: file.path },
  }));
  const read = localRangeRead(files);
  // The registry's own readers, on the local files: what Wharf will read is what the config says.
  const facts = (await inspectModel({ artifactType: MODELPACK_ARTIFACT_TYPE, layers }, read))!;
  const readme = files.find((file) => /^readme\.md$/i.test(file.path));
  const card = readme ? modelCardFacts(await readFile(readme.absolute, 'utf8')) : {};
  const hfConfig = files.find((file) => file.path === 'config.json' && file.size < 1024 * 1024);
  let hf: Record<string, unknown> = {};
  if (hfConfig) try { hf = JSON.parse(await readFile(hfConfig.absolute, 'utf8')) as Record<string, unknown>; } catch { /* not JSON: ignored */ }
  const licenses = new Set<string>(facts.licenses);
  if (card['license']) licenses.add(card['license']);
  for (const file of files) {
    if (/^(license|licence|copying)(\.|$)/i.test(file.path.split('/').pop()!) && !card['license']) licenses.add(licenseFromText(await readFile(file.absolute, 'utf8').then((text) => text.slice(0, 4096))));
  }
  const architectures = Array.isArray(hf['architectures']) ? hf['architectures'].filter((item) => typeof item === 'string') : [];
  const architecture = facts.architecture ?? (typeof hf['model_type'] === 'string' ? hf['model_type'] : undefined) ?? architectures[0];
  const precision = facts.precision ?? (typeof hf['torch_dtype'] === 'string' ? hf['torch_dtype'] : undefined);
  const config = {
    descriptor: {
      createdAt: now.toISOString(), name: card['model_name'] ?? name, ...(version ? { version } : {}),
      ...(card['base_model'] ? { family: card['base_model'] } : {}), licenses: [...licenses],
      ...(readme ? { description: `model card: ${readme.path}` } : {}),
    },
    config: {
      ...(architecture ? { architecture } : {}), ...(facts.format ? { format: facts.format } : {}),
      ...(facts.parameters !== null ? { paramSize: humanCount(facts.parameters) } : {}),
      ...(precision ? { precision } : {}), ...(facts.quantization ? { quantization: facts.quantization } : {}),
    },
    modelfs: { type: 'layers', diffIds: files.map((file) => file.digest) },
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const manifest = {
    schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: MODELPACK_ARTIFACT_TYPE,
    config: { mediaType: MODELPACK_CONFIG, digest: `sha256:${createHash('sha256').update(configBytes).digest('hex')}`, size: configBytes.length },
    layers,
    annotations: { 'org.opencontainers.image.created': now.toISOString(), 'org.opencontainers.image.title': card['model_name'] ?? name },
  };
  return { files, config: configBytes, manifest: Buffer.from(JSON.stringify(manifest)), facts };
}

// ─── push ───────────────────────────────────────────────────────────────────────────────────

export interface PushOptions {
  readonly concurrency?: number;
  /** Fixed chunk size; by default sized to the blob (between 8 and 64 MiB). */
  readonly chunkSize?: number;
  /** Where upload sessions and digests are kept between runs (default: DIR/.wharf-push-state.json). */
  readonly statePath?: string;
  readonly progress?: ProgressSink;
  /** Attempts per chunk when the connection or the registry fails (it may be restarting). */
  readonly retries?: number;
  readonly retryDelayMs?: number;
}

export interface PushResult {
  readonly digest: string;
  readonly files: number;
  readonly uploadedFiles: number;
  readonly skippedFiles: number;
  readonly bytesSent: number;
  readonly resumedFiles: number;
  readonly facts: ModelFacts;
}

export function chunkSizeFor(size: number): number {
  const MiB = 1024 * 1024;
  return Math.min(64 * MiB, Math.max(8 * MiB, Math.ceil(size / 64 / MiB) * MiB));
}

/** Runs `work` over `items`, at most `limit` at a time; the first failure rejects. */
export async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function pushModel(client: RegistryClient, repository: string, tag: string, dir: string, options: PushOptions = {}): Promise<PushResult> {
  const statePath = options.statePath ?? join(dir, PUSH_STATE_FILE);
  const state = await readState(statePath);
  const files = await scanModelDirectory(dir, state);
  const name = repository.split('/').pop()!;
  const packed = await packModel(files, name, tag);
  let saving = Promise.resolve();
  const save = () => (saving = saving.then(() => writeFile(statePath, JSON.stringify(state))).catch(() => undefined));
  await save();
  const progress = options.progress ?? SILENT;
  const scope = `repository:${repository}:pull,push`;
  let bytesSent = 0, uploadedFiles = 0, skippedFiles = 0, resumedFiles = 0;
  const retries = options.retries ?? 8, retryDelay = options.retryDelayMs ?? 500;

  const exists = async (digest: string) => {
    const head = await client.request('HEAD', `/v2/${repository}/blobs/${digest}`, { scope });
    await head.arrayBuffer();
    return head.ok;
  };

  /** Where an upload session stands: the next byte to send, or undefined when the session is gone. */
  const uploadOffset = async (location: string): Promise<number | undefined> => {
    const response = await client.request('GET', location, { scope });
    await response.arrayBuffer();
    if (response.status !== 204) return undefined;
    const range = /^(?:bytes=)?0-(\d+)$/.exec(response.headers.get('range') ?? '');
    return range ? Number(range[1]) + 1 : 0;
  };

  const startUpload = async (): Promise<string> => {
    const response = await client.request('POST', `/v2/${repository}/blobs/uploads/`, { scope });
    await response.arrayBuffer();
    if (response.status !== 202) throw new RegistryError(`starting an upload in ${repository}: ${response.status}`, response.status);
    return absoluteLocation(client, response.headers.get('location'));
  };

  /** Uploads one blob; false when the registry had it already. */
  const uploadFile = async (file: LocalFile | { path: string; digest: string; size: number; bytes: Buffer }): Promise<boolean> => {
    if (await exists(file.digest)) { progress.finish(file.path, 'already in the registry'); return false; }
    progress.start(file.path, file.size);
    let location = state.uploads[file.digest];
    let offset = location ? await retrying(() => uploadOffset(location!), retries, retryDelay) : undefined;
    if (location && offset !== undefined) { resumedFiles++; progress.advance(file.path, offset); } else { location = await startUpload(); offset = 0; }
    state.uploads[file.digest] = location;
    await save();
    const chunkSize = options.chunkSize ?? chunkSizeFor(file.size);
    const handle = 'absolute' in file ? await open(file.absolute, 'r') : undefined;
    try {
      while (offset < file.size) {
        const length = Math.min(chunkSize, file.size - offset);
        const chunk = handle ? Buffer.alloc(length) : (file as { bytes: Buffer }).bytes.subarray(offset, offset + length);
        if (handle) await handle.read(chunk, 0, length, offset);
        const sent: { location: string; offset: number } = await retrying(async () => {
          const response = await client.request('PATCH', location!, {
            headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset! + length - 1}` }, body: chunk, scope,
          });
          const text = await response.text();
          if (response.status === 202) return { location: absoluteLocation(client, response.headers.get('location') ?? location!), offset: offset! + length };
          // The registry has a different idea of where we are (a chunk it acknowledged but we missed, or it lost one): ask it.
          if (response.status === 416 || response.status >= 500) {
            const current = await uploadOffset(location!);
            if (current !== undefined && current !== offset) return { location: location!, offset: current };
            throw new RetryableError(`PATCH ${file.path}: ${response.status} ${text}`);
          }
          throw new RegistryError(`uploading ${file.path}: ${response.status} ${text}`, response.status);
        }, retries, retryDelay, async () => {
          // After a connection failure the chunk may have landed: resume from the registry's offset.
          const current = await uploadOffset(location!).catch(() => undefined);
          return current !== undefined && current !== offset ? { location: location!, offset: current } : undefined;
        });
        if (sent.offset > offset) { bytesSent += sent.offset - offset; progress.advance(file.path, sent.offset - offset); }
        location = sent.location;
        offset = sent.offset;
        state.uploads[file.digest] = location;
        await save();
      }
    } finally {
      await handle?.close();
    }
    const url = new URL(location);
    url.searchParams.set('digest', file.digest);
    const done = await retrying(async () => {
      const response = await client.request('PUT', url.toString(), { headers: { 'content-type': 'application/octet-stream' }, scope });
      const text = await response.text();
      if (response.status === 201) return response;
      if (response.status >= 500) throw new RetryableError(`committing ${file.path}: ${response.status} ${text}`);
      throw new RegistryError(`committing ${file.path}: ${response.status} ${text}`, response.status);
    }, retries, retryDelay);
    void done;
    delete state.uploads[file.digest];
    await save();
    progress.finish(file.path, 'uploaded');
    return true;
  };

  await inParallel(files, options.concurrency ?? 4, async (file) => { if (await uploadFile(file)) uploadedFiles++; else skippedFiles++; });
  const config = JSON.parse(packed.manifest.toString()).config as { digest: string; size: number };
  await uploadFile({ path: '(config)', digest: config.digest, size: config.size, bytes: packed.config });
  const digest = await client.putManifest(repository, tag, packed.manifest, OCI_MANIFEST);
  await saving;
  return { digest, files: files.length, uploadedFiles, skippedFiles, bytesSent, resumedFiles, facts: packed.facts };
}

function absoluteLocation(client: RegistryClient, location: string | null): string {
  if (!location) throw new RegistryError('the registry answered an upload without a Location', 502);
  return new URL(location, client.baseUrl).toString();
}

class RetryableError extends Error {}

/** Retries connection failures, 5xx and RetryableError with a growing delay; `recover` may settle the attempt from the registry's state. */
async function retrying<T>(attempt: () => Promise<T>, retries: number, delayMs: number, recover?: () => Promise<T | undefined>): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      // A registry that cannot be reached (restarting, say) is worth another try, as a retryable answer is.
      const transient = error instanceof RetryableError || error instanceof UnreachableError || (error instanceof TypeError && /fetch failed/.test(error.message));
      if (!transient || tries >= retries) throw error;
      await delay(delayMs * Math.min(8, 2 ** tries));
      const recovered = recover ? await recover().catch(() => undefined) : undefined;
      if (recovered !== undefined) return recovered;
    }
  }
}

// ─── pull ───────────────────────────────────────────────────────────────────────────────────

export interface PullOptions {
  readonly include?: readonly string[];
  /** Parallel Range streams per file. */
  readonly streams?: number;
  /** Files fetched at once. */
  readonly concurrency?: number;
  readonly partSize?: number;
  readonly progress?: ProgressSink;
}

export interface RemoteFile {
  readonly path: string;
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
}

export interface PullResult {
  readonly digest: string;
  readonly files: readonly { path: string; size: number; status: 'downloaded' | 'resumed' | 'present' }[];
  readonly skipped: number;
  readonly bytesReceived: number;
}

/** A layer's file path must stay inside the target directory. */
export function safeRelativePath(path: string): string | undefined {
  if (path.length === 0 || path.length > 4096 || path.includes('\0') || path.includes('\\') || path.startsWith('/')) return undefined;
  const parts = path.split('/');
  if (parts.some((part) => part === '..' || part === '.' || part === '')) return undefined;
  return path;
}

export function filesOf(manifest: unknown): RemoteFile[] {
  const layers = (manifest as { layers?: unknown })?.layers;
  if (!Array.isArray(layers)) return [];
  return layers.flatMap((layer: Record<string, unknown>) => {
    const annotations = (layer?.['annotations'] ?? {}) as Record<string, unknown>;
    const path = annotations[MODELPACK_FILEPATH_ANNOTATION] ?? annotations[OCI_TITLE_ANNOTATION];
    if (typeof path !== 'string' || typeof layer['digest'] !== 'string' || typeof layer['size'] !== 'number') return [];
    return [{ path, digest: layer['digest'], size: layer['size'], mediaType: String(layer['mediaType'] ?? '') }];
  });
}

interface PartialState { digest: string; size: number; partSize: number; done: number[] }

export async function pullModel(client: RegistryClient, repository: string, reference: string, dir: string, options: PullOptions = {}): Promise<PullResult> {
  const fetched = await client.getManifest(repository, reference);
  if (!fetched) throw new RegistryError(`${repository}:${reference} not found`, 404);
  const all = filesOf(JSON.parse(fetched.bytes.toString('utf8')));
  const include = options.include ?? [];
  const selected = all.filter((file) => include.length === 0 || include.some((pattern) => wildcardMatch(pattern, file.path) || wildcardMatch(pattern, file.path.split('/').pop()!)));
  for (const file of selected) if (!safeRelativePath(file.path)) throw new RegistryError(`refusing file path "${file.path}": it would leave the target directory`, 400);
  const progress = options.progress ?? SILENT;
  const scope = `repository:${repository}:pull`;
  const results: { path: string; size: number; status: 'downloaded' | 'resumed' | 'present' }[] = [];
  let bytesReceived = 0;

  const fetchFile = async (file: RemoteFile) => {
    const target = join(dir, ...file.path.split('/'));
    await mkdir(dirname(target), { recursive: true });
    const existing = await stat(target).catch(() => undefined);
    if (existing?.size === file.size && await hashFile(target) === file.digest) { results.push({ path: file.path, size: file.size, status: 'present' }); progress.finish(file.path, 'already present'); return; }
    const partial = `${target}.partial`, metaPath = `${target}.partial.json`;
    const partSize = options.partSize ?? Math.max(4 * 1024 * 1024, Math.ceil(file.size / (options.streams ?? 4) / 16));
    let meta: PartialState = { digest: file.digest, size: file.size, partSize, done: [] };
    try {
      const stored = JSON.parse(await readFile(metaPath, 'utf8')) as PartialState;
      if (stored.digest === file.digest && stored.size === file.size && (await stat(partial)).size === file.size) meta = stored;
    } catch { /* no partial download to resume */ }
    const resumed = meta.done.length > 0;
    if (!resumed) { await writeFile(partial, ''); }
    const handle = await open(partial, 'r+');
    let saving = Promise.resolve();
    try {
      await handle.truncate(file.size);
      const parts = Math.max(1, Math.ceil(file.size / meta.partSize));
      const done = new Set(meta.done);
      progress.start(file.path, file.size);
      for (const part of done) progress.advance(file.path, Math.min(meta.partSize, file.size - part * meta.partSize));
      const todo = Array.from({ length: parts }, (_, index) => index).filter((index) => !done.has(index));
      let rangesHonoured = true;
      await inParallel(todo, options.streams ?? 4, async (part) => {
        if (!rangesHonoured || file.size === 0) return;
        const start = part * meta.partSize, end = Math.min(file.size, start + meta.partSize) - 1;
        const response = await client.request('GET', `/v2/${repository}/blobs/${file.digest}`, { headers: { range: `bytes=${start}-${end}` }, scope });
        if (response.status === 200) { rangesHonoured = false; await response.body?.cancel(); return; }
        if (response.status !== 206) throw new RegistryError(`GET ${file.path} bytes ${start}-${end}: ${response.status}`, response.status);
        let position = start;
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          if (position + chunk.byteLength > end + 1) throw new RegistryError(`GET ${file.path}: more bytes than the range asked for`, 502);
          await handle.write(chunk, 0, chunk.byteLength, position);
          position += chunk.byteLength;
          bytesReceived += chunk.byteLength;
          progress.advance(file.path, chunk.byteLength);
        }
        if (position !== end + 1) throw new RegistryError(`GET ${file.path}: range ${start}-${end} ended at ${position}`, 502);
        done.add(part);
        meta.done = [...done];
        saving = saving.then(() => writeFile(metaPath, JSON.stringify(meta)));
        await saving;
      });
      if (!rangesHonoured) {
        // A registry that ignores Range: one stream from the start.
        const response = await client.request('GET', `/v2/${repository}/blobs/${file.digest}`, { scope });
        if (!response.ok) throw new RegistryError(`GET ${file.path}: ${response.status}`, response.status);
        let position = 0;
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          await handle.write(chunk, 0, chunk.byteLength, position);
          position += chunk.byteLength;
          bytesReceived += chunk.byteLength;
          progress.advance(file.path, chunk.byteLength);
        }
      }
    } finally {
      await saving.catch(() => undefined);
      await handle.close();
    }
    const digest = await hashFile(partial);
    if (digest !== file.digest) {
      await rm(partial, { force: true });
      await rm(metaPath, { force: true });
      throw new RegistryError(`${file.path}: downloaded bytes have digest ${digest}, the manifest says ${file.digest}`, 502);
    }
    await rename(partial, target);
    await rm(metaPath, { force: true });
    results.push({ path: file.path, size: file.size, status: resumed ? 'resumed' : 'downloaded' });
    progress.finish(file.path, resumed ? 'resumed, verified' : 'verified');
  };

  await inParallel(selected, options.concurrency ?? 2, fetchFile);
  results.sort((a, b) => a.path.localeCompare(b.path));
  return { digest: fetched.digest, files: results, skipped: all.length - selected.length, bytesReceived };
}

// ─── inspect ────────────────────────────────────────────────────────────────────────────────

export interface InspectResult {
  readonly digest: string;
  readonly facts: ModelFacts | undefined;
  /** "registry": Wharf's trust document; "client": read here through Range requests of the headers. */
  readonly source: 'registry' | 'client';
  readonly trust?: Record<string, unknown>;
}

export async function inspectRemoteModel(client: RegistryClient, repository: string, reference: string): Promise<InspectResult> {
  const fetched = await client.getManifest(repository, reference);
  if (!fetched) throw new RegistryError(`${repository}:${reference} not found`, 404);
  const scope = `repository:${repository}:pull`;
  const trustResponse = await client.request('GET', `/api/v1/repositories/${repository}/manifests/${fetched.digest}/trust`, { scope }).catch(() => undefined);
  if (trustResponse?.ok) {
    const trust = await trustResponse.json().catch(() => undefined) as Record<string, unknown> | undefined;
    if (trust && trust['model'] && typeof trust['model'] === 'object') return { digest: fetched.digest, facts: trust['model'] as ModelFacts, source: 'registry', trust };
  } else {
    await trustResponse?.arrayBuffer().catch(() => undefined);
  }
  // Any other registry: the same readers, over Range requests of each file's first bytes.
  const read: BlobRangeRead = async (digest, start, length) => {
    if (length <= 0) return Buffer.alloc(0);
    const response = await client.request('GET', `/v2/${repository}/blobs/${digest}`, { headers: { range: `bytes=${start}-${start + length - 1}` }, scope });
    if (response.status === 206) return Buffer.from(await response.arrayBuffer());
    await response.body?.cancel();
    return response.status === 200 ? `the registry ignores Range requests: ${digest} not read` : `GET ${digest}: ${response.status}`;
  };
  return { digest: fetched.digest, facts: await inspectModel(JSON.parse(fetched.bytes.toString('utf8')), read), source: 'client' };
}
