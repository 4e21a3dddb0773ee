/**
 * Upload sessions: streaming bodies into staged data while hashing them once, resuming the hash
 * after a restart, and committing a blob only when its digest matches.
 *
 * The running digest of each session lives in memory next to the byte count it covers. When it is
 * missing (the process restarted, or another replica took the session) the staged bytes are
 * hashed again from the store before new bytes are added: slower, never wrong.
 *
 * A session whose first body is large (or of unknown length) is hashed on the hashing thread when
 * there is one; small ones are hashed inline, where a round trip to a thread would cost more than
 * the hashing itself.
 */
import { randomUUID } from 'node:crypto';
import type { DigestAlgorithm, ParsedDigest } from '../content/digest.ts';
import { OffsetMismatchError, type BlobStore } from '../storage/blobs/blob-store.ts';
import type { MetadataStore, UploadSession } from '../storage/metadata/metadata-store.ts';
import { registryError } from './errors.ts';
import type { HashThread } from './hash-thread.ts';
import { InlineHash, type RunningHash } from './running-hash.ts';

/** A first body at least this long goes to the hashing thread. */
const THREAD_HASH_MIN_BYTES = 2 * 1024 * 1024;

interface RunningDigest {
  readonly hash: RunningHash;
  covered: number;
}

export interface UploadServiceOptions {
  /** Hashes large bodies off the event loop. */
  readonly hashThread?: HashThread;
}

export class UploadService {
  readonly #blobs: BlobStore;
  readonly #metadata: MetadataStore;
  readonly #hashThread: HashThread | undefined;
  readonly #digests = new Map<string, RunningDigest>();
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(blobs: BlobStore, metadata: MetadataStore, options: UploadServiceOptions = {}) {
    this.#blobs = blobs;
    this.#metadata = metadata;
    this.#hashThread = options.hashThread;
  }

  async start(repository: string): Promise<string> {
    const id = randomUUID();
    await this.#metadata.createUpload(id, repository);
    return id;
  }

  /**
   * An id for a one-request upload (POST with ?digest=). It gets no session: nobody could resume
   * it, so staged data it leaves behind after a crash is an orphan and purged at the next start.
   */
  startOneShot(): string {
    return randomUUID();
  }

  /** The session, only when it belongs to `repository`: ids never leak across repositories. */
  async session(repository: string, id: string): Promise<UploadSession> {
    const session = await this.#metadata.getUpload(id).catch(() => undefined);
    if (!session || session.repository !== repository) throw registryError('BLOB_UPLOAD_UNKNOWN', { detail: { uuid: id } });
    return session;
  }

  async size(id: string): Promise<number> {
    return (await this.#blobs.stagedSize(id)) ?? 0;
  }

  /**
   * Appends a body at `expectedOffset` (when the client said where it starts) and returns the new
   * size. `declaredLength` is the body's Content-Length, when it has one. Appends to one session
   * run one at a time.
   */
  append(id: string, body: AsyncIterable<Uint8Array>, expectedOffset?: number, declaredLength?: number): Promise<number> {
    return this.#exclusive(id, async () => {
      const offset = await this.size(id);
      if (expectedOffset !== undefined && expectedOffset !== offset) throw outOfOrder(offset);
      const large = declaredLength === undefined || declaredLength >= THREAD_HASH_MIN_BYTES;
      const running = await this.#runningDigest(id, offset, 'sha256', large);
      try {
        const size = await this.#blobs.append(id, offset, body, (bytes) => running.hash.update(bytes));
        running.covered = size;
        return size;
      } catch (error) {
        // The store rolled the bytes back; the hash cannot be rolled back, so forget it.
        this.#forget(id);
        if (error instanceof OffsetMismatchError) throw outOfOrder(error.actual);
        throw error;
      }
    });
  }

  /** Verifies the staged bytes against `digest` and makes them a blob of `repository`. */
  complete(repository: string, id: string, digest: ParsedDigest): Promise<number> {
    return this.#exclusive(id, async () => {
      const size = await this.size(id);
      const actual = `${digest.algorithm}:${await this.#finalDigest(id, size, digest.algorithm)}`;
      if (actual !== digest.text) {
        await this.cancel(id);
        throw registryError('DIGEST_INVALID', { detail: { expected: digest.text, actual } });
      }
      await this.#blobs.commit(id, digest.text);
      await this.#metadata.linkBlob(repository, digest.text, size);
      await this.#metadata.deleteUpload(id);
      return size;
    });
  }

  async cancel(id: string): Promise<void> {
    this.#forget(id);
    await this.#blobs.discard(id);
    await this.#metadata.deleteUpload(id);
  }

  /**
   * Drops sessions untouched for longer than `maxAgeMs`, and staged data that no session owns and
   * that nothing wrote to for `orphanAgeMs` (0 at start-up, when no request can be writing).
   */
  async purgeAbandoned(maxAgeMs: number, orphanAgeMs: number, now = Date.now()): Promise<number> {
    let purged = 0;
    const staged = new Map((await this.#blobs.listStaged()).map((entry) => [entry.id, entry]));
    for (const session of await this.#metadata.listUploads()) {
      const data = staged.get(session.id);
      staged.delete(session.id);
      const lastTouched = data?.modifiedAt.getTime() ?? session.createdAt.getTime();
      if (now - lastTouched > maxAgeMs) {
        await this.cancel(session.id);
        purged++;
      }
    }
    for (const orphan of staged.values()) {
      if (now - orphan.modifiedAt.getTime() < orphanAgeMs) continue;
      await this.#blobs.discard(orphan.id);
      purged++;
    }
    return purged;
  }

  async #runningDigest(id: string, offset: number, algorithm: DigestAlgorithm, large: boolean): Promise<RunningDigest> {
    const known = this.#digests.get(id);
    if (known && known.covered === offset && known.hash.algorithm === algorithm && known.hash.usable) return known;
    this.#forget(id);
    const fresh = offset === 0 && large && this.#hashThread;
    const running: RunningDigest = fresh ? { hash: this.#hashThread.start(algorithm), covered: 0 } : await this.#rehash(id, offset, algorithm);
    this.#digests.set(id, running);
    return running;
  }

  /** A hash of the staged bytes read back from the store, for a session whose running hash is gone. */
  async #rehash(id: string, size: number, algorithm: DigestAlgorithm): Promise<RunningDigest> {
    const hash = new InlineHash(algorithm);
    const staged = await this.#blobs.readStaged(id);
    if (staged) {
      for await (const chunk of staged as AsyncIterable<Uint8Array>) hash.update(chunk);
    }
    return { hash, covered: size };
  }

  /** The hex digest of the staged bytes; the session's running hash is used up. */
  async #finalDigest(id: string, size: number, algorithm: DigestAlgorithm): Promise<string> {
    const running = await this.#runningDigest(id, size, algorithm, false);
    this.#digests.delete(id);
    // A hashing thread that died took the hash with it: read the bytes back instead.
    return running.hash.digest().catch(async () => (await this.#rehash(id, size, algorithm)).hash.digest());
  }

  #forget(id: string): void {
    this.#digests.get(id)?.hash.discard();
    this.#digests.delete(id);
  }

  async #exclusive<T>(id: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(id) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(work);
    this.#locks.set(id, current);
    try {
      return await current;
    } finally {
      if (this.#locks.get(id) === current) this.#locks.delete(id);
    }
  }
}

function outOfOrder(offset: number) {
  return registryError('BLOB_UPLOAD_INVALID', {
    status: 416,
    message: `chunk does not start at the upload's current offset ${offset}`,
    detail: { offset },
    headers: { range: `0-${Math.max(offset - 1, 0)}` },
  });
}

/** Text of the Range header that reports an upload's progress (`0-<last byte>`). */
export function progressRange(size: number): string {
  return `0-${Math.max(size - 1, 0)}`;
}

