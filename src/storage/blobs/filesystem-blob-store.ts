/**
 * BlobStore on a local filesystem.
 *
 *   <root>/
 *     sha256/ab/abcdef…      committed blobs, named by digest, sharded by the first two hex digits
 *     sha512/…
 *     _uploads/<upload-id>   staged upload data, appended to in place
 *     _corrupt/<alg>-<hex>   blobs whose bytes failed their digest when read, set aside for inspection
 *
 * Commit = fsync the staged file, rename it to its content address (atomic on one filesystem),
 * fsync the directory. A crash before the rename leaves only staged data, which stays resumable.
 * Everything goes through the page cache by default. With the `directIO` option, large bodies are
 * written with direct I/O where the filesystem allows it (direct-io.ts), and read with it until
 * they prove popular (cache-admission.ts).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { createFolder } from '../data-folder.ts';
import { asStorageError } from '../storage-errors.ts';
import { OffsetMismatchError, type BlobStore, type BodyObserver, type ByteRange, type StagedUpload } from './blob-store.ts';
import { BackgroundFlush, syncPath } from './background-flush.ts';
import { CacheAdmission } from './cache-admission.ts';
import { DirectAppender } from './direct-appender.ts';
import { AlignedBufferPool, supportsDirectIO } from './direct-io.ts';

const UPLOADS = '_uploads';
const CORRUPT = '_corrupt';
const SAFE_UPLOAD_ID = /^[A-Za-z0-9_-]{1,128}$/;
/**
 * Direct writes go 2 MiB at a time from a ring of four buffers per upload (three can be on their
 * way to the disk or the hash while one fills). The pool serves four such transfers (uploads or
 * downloads) at once; more take the page-cache path until buffers come back. Its pages stay
 * resident once touched, so its size is also a bound on memory: 32 MiB. A body smaller than one
 * buffer never bypasses the cache.
 */
const DIRECT_BUFFER_BYTES = 2 * 1024 * 1024;
const DIRECT_BUFFERS_PER_UPLOAD = 4;
const DIRECT_TRANSFERS = 4;
const DIRECT_BUFFERS = DIRECT_TRANSFERS * DIRECT_BUFFERS_PER_UPLOAD;

export interface FilesystemBlobStoreOptions {
  /** Use direct I/O for large bodies when the filesystem supports it (default false). */
  readonly directIO?: boolean;
}

export class FilesystemBlobStore implements BlobStore {
  readonly root: string;
  readonly #createdShards = new Set<string>();
  readonly #wantDirectIO: boolean;
  /** Set by `init` when direct I/O is wanted and the filesystem takes it. */
  #directBuffers: AlignedBufferPool | undefined;
  readonly #cacheAdmission = new CacheAdmission();
  readonly #flush = new BackgroundFlush();

  constructor(root: string, options: FilesystemBlobStoreOptions = {}) {
    this.root = root;
    this.#wantDirectIO = options.directIO ?? false;
  }

  async init(): Promise<void> {
    await createFolder(join(this.root, UPLOADS), 'blob folder');
    if (this.#wantDirectIO && !this.#directBuffers) {
      const pool = new AlignedBufferPool(DIRECT_BUFFER_BYTES, DIRECT_BUFFERS);
      const probe = join(this.root, UPLOADS, '.direct-io-probe');
      if (await supportsDirectIO(probe, pool)) this.#directBuffers = pool;
      await rm(probe, { force: true });
    }
  }

  /** The aligned buffer pool when direct I/O is in use (the upload hashing thread reads it in place). */
  get directBuffers(): AlignedBufferPool | undefined {
    return this.#directBuffers;
  }

  directReadBuffers(digest: string, size: number): AlignedBufferPool | undefined {
    const pool = this.#directBuffers;
    if (!pool || size < pool.bufferBytes) return undefined;
    return this.#cacheAdmission.admit(digest) ? undefined : pool;
  }

  async stat(digest: string): Promise<number | undefined> {
    try {
      return (await stat(this.#blobPath(digest))).size;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async open(digest: string, range?: ByteRange): Promise<Readable | undefined> {
    const handle = await open(this.#blobPath(digest), 'r').catch((error: unknown) => {
      if (isNotFound(error)) return undefined;
      throw error;
    });
    if (!handle) return undefined;
    return handle.createReadStream({ start: range?.start, end: range?.end, highWaterMark: 256 * 1024 });
  }

  async append(uploadId: string, offset: number, body: AsyncIterable<Uint8Array>, observe?: BodyObserver): Promise<number> {
    const path = this.#stagedPath(uploadId);
    const current = (await this.stagedSize(uploadId)) ?? 0;
    if (current !== offset) throw new OffsetMismatchError(offset, current);
    try {
      const buffers = this.#directBuffers?.take(DIRECT_BUFFERS_PER_UPLOAD);
      if (!buffers) return await appendThroughPageCache(path, offset, body, observe, this.#flush);
      return await appendDirect(path, offset, body, observe, buffers, this.#directBuffers!);
    } catch (error) {
      // Roll back to where the call started, so a broken body never leaves half a chunk behind
      // (and a body that met a full disk gives back the space it took).
      await truncate(path, offset).catch(() => undefined);
      throw asStorageError(error, this.root);
    }
  }

  async stagedSize(uploadId: string): Promise<number | undefined> {
    try {
      return (await stat(this.#stagedPath(uploadId))).size;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async readStaged(uploadId: string): Promise<Readable | undefined> {
    if ((await this.stagedSize(uploadId)) === undefined) return undefined;
    return createReadStream(this.#stagedPath(uploadId), { highWaterMark: 8 * 1024 * 1024 });
  }

  async commit(uploadId: string, digest: string): Promise<void> {
    try {
      await this.#commit(uploadId, digest);
    } catch (error) {
      throw asStorageError(error, this.root);
    }
  }

  async #commit(uploadId: string, digest: string): Promise<void> {
    const staged = this.#stagedPath(uploadId);
    await this.#flush.settle(staged);
    const handle = await open(staged, 'r+').catch(async (error: unknown) => {
      // An empty upload (zero bytes, never appended) has no staged file yet.
      if (!isNotFound(error)) throw error;
      return open(staged, 'w+');
    });
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    const target = this.#blobPath(digest);
    const shard = join(target, '..');
    if (!this.#createdShards.has(shard)) {
      await mkdir(shard, { recursive: true });
      this.#createdShards.add(shard);
    }
    // Same digest ⇒ same bytes, so replacing an existing copy is harmless and keeps one copy.
    await rename(staged, target);
    await syncPath(shard);
  }

  async discard(uploadId: string): Promise<void> {
    const staged = this.#stagedPath(uploadId);
    await this.#flush.settle(staged);
    await rm(staged, { force: true });
  }

  async delete(digest: string): Promise<void> {
    await rm(this.#blobPath(digest), { force: true });
  }

  async quarantine(digest: string, onlyIf?: { readonly ino: number }): Promise<string | undefined> {
    const path = this.#blobPath(digest);
    const current = await stat(path).catch(() => undefined);
    if (!current || (onlyIf && current.ino !== onlyIf.ino)) return undefined;
    const folder = join(this.root, CORRUPT);
    await mkdir(folder, { recursive: true });
    const target = join(folder, digest.replace(':', '-'));
    try {
      await rename(path, target);
    } catch (error) {
      if (isNotFound(error)) return undefined; // another reader set it aside first
      throw error;
    }
    return target;
  }

  async quarantined(): Promise<{ digest: string; path: string }[]> {
    const folder = join(this.root, CORRUPT);
    const names = await readdir(folder).catch(() => [] as string[]);
    return names.sort().map((name) => ({ digest: name.replace('-', ':'), path: join(folder, name) }));
  }

  async listStaged(): Promise<StagedUpload[]> {
    const names = await readdir(join(this.root, UPLOADS));
    const staged: StagedUpload[] = [];
    for (const id of names) {
      // Only upload data: not, say, a direct-I/O probe left by a crash during start-up.
      if (!SAFE_UPLOAD_ID.test(id)) continue;
      const info = await stat(join(this.root, UPLOADS, id)).catch(() => undefined);
      if (info) staged.push({ id, size: info.size, modifiedAt: info.mtime });
    }
    return staged;
  }

  async check(): Promise<void> {
    await stat(join(this.root, UPLOADS));
  }

  localPath(digest: string): string {
    return this.#blobPath(digest);
  }

  #blobPath(digest: string): string {
    const colon = digest.indexOf(':');
    const algorithm = digest.slice(0, colon);
    const encoded = digest.slice(colon + 1);
    return join(this.root, algorithm, encoded.slice(0, 2), encoded);
  }

  #stagedPath(uploadId: string): string {
    // Upload ids come from URLs: never let one name a path outside the uploads folder.
    if (!SAFE_UPLOAD_ID.test(uploadId)) throw new Error(`invalid upload id ${JSON.stringify(uploadId)}`);
    return join(this.root, UPLOADS, uploadId);
  }
}

async function appendDirect(
  path: string, offset: number, body: AsyncIterable<Uint8Array>, observe: BodyObserver | undefined, buffers: Buffer[], pool: AlignedBufferPool,
): Promise<number> {
  const appender = await DirectAppender.open(path, offset, buffers, observe).catch((error: unknown) => {
    pool.give(buffers);
    throw error;
  });
  try {
    for await (const chunk of body) await appender.write(chunk);
    return await appender.finish();
  } finally {
    await appender.close();
    // The observer may still be reading the last buffers; they go back to the pool when it is done.
    void appender.release().then((released) => pool.give(released));
  }
}

/**
 * The page-cache path: the default, and the fallback when the filesystem refuses direct I/O or
 * every aligned buffer is busy. What is written is flushed in the background as it grows
 * (background-flush.ts). The stream queues at most 2 MiB of socket chunks: chunks queued longer
 * than a few young-generation collections (distribution/body-chunks.ts) are promoted to the old
 * generation, and with 8 MiB queued each 256 MiB upload brought 10–20 full collections.
 */
async function appendThroughPageCache(
  path: string, offset: number, body: AsyncIterable<Uint8Array>, observe: BodyObserver | undefined, flush: BackgroundFlush,
): Promise<number> {
  const out = createWriteStream(path, { flags: 'a', highWaterMark: 2 * 1024 * 1024 });
  // A write error (ENOSPC) can come while nothing waits on the stream, and the stream closes
  // itself right after it: every wait below races this one, so none can miss it, and none waits
  // for an event that already happened.
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  const until = (event: string) => Promise.race([once(out, event), failed]);
  let written = offset;
  try {
    await until('open');
    for await (const chunk of body) {
      if (out.errored) throw out.errored;
      const observing = observe?.(chunk);
      if (observing) await observing;
      written += chunk.byteLength;
      if (!out.write(chunk)) await until('drain');
      flush.written(path, chunk.byteLength);
    }
    out.end();
    await until('finish');
    return written;
  } catch (error) {
    if (!out.closed) {
      const closed = once(out, 'close').catch(() => undefined);
      out.destroy();
      await closed;
    }
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}
