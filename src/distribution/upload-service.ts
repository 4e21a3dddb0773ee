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
import { namespaceOf } from '../auth/access.ts';
import { registryError } from './errors.ts';
import type { HashThread } from './hash-thread.ts';
import { InlineHash, ResumedSha256, type RunningHash } from './running-hash.ts';

/** A first body at least this long goes to the hashing thread. */
const THREAD_HASH_MIN_BYTES = 2 * 1024 * 1024;

interface RunningDigest {
  readonly hash: RunningHash;
  covered: number;
}

export interface UploadServiceOptions {
  /** Hashes large bodies off the event loop. */
  readonly hashThread?: HashThread;
  /** Caps on open sessions and staged bytes (0: no limit); none when absent. */
  readonly limits?: UploadLimits;
}

/** The `uploads.*` configuration keys that cap what unfinished uploads may hold. */
export interface UploadLimits {
  readonly maxSessionsPerAccount: number;
  readonly maxSessionsPerNamespace: number;
  readonly maxStagedBytesPerAccount: number;
  readonly maxStagedBytesPerNamespace: number;
}

const NO_LIMITS: UploadLimits = { maxSessionsPerAccount: 0, maxSessionsPerNamespace: 0, maxStagedBytesPerAccount: 0, maxStagedBytesPerNamespace: 0 };

/** What one unfinished upload counts against: its namespace, and its account when it has one. */
interface Staging {
  readonly namespace: string;
  /** The subject that opened it; undefined for anonymous callers and for sessions found at start-up. */
  readonly account: string | undefined;
  /** False for one-request uploads: they stage bytes but hold no session. */
  readonly session: boolean;
  bytes: number;
}

interface Tally {
  sessions: number;
  bytes: number;
}

export class UploadService {
  readonly #blobs: BlobStore;
  readonly #metadata: MetadataStore;
  readonly #hashThread: HashThread | undefined;
  readonly #digests = new Map<string, RunningDigest>();
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #limits: UploadLimits;
  /**
   * Unfinished uploads of this process and what they stage, with the sums per namespace and per
   * account the limits are checked against. Kept in memory: sessions of a previous run are found
   * again by load(), without their account; the hourly purge drops sessions finished elsewhere.
   */
  readonly #staging = new Map<string, Staging>();
  readonly #byNamespace = new Map<string, Tally>();
  readonly #byAccount = new Map<string, Tally>();

  constructor(blobs: BlobStore, metadata: MetadataStore, options: UploadServiceOptions = {}) {
    this.#blobs = blobs;
    this.#metadata = metadata;
    this.#hashThread = options.hashThread;
    this.#limits = options.limits ?? NO_LIMITS;
  }

  /** Open sessions and staged bytes of all namespaces together (metrics). */
  totals(): { sessions: number; stagedBytes: number } {
    let sessions = 0;
    let stagedBytes = 0;
    for (const tally of this.#byNamespace.values()) {
      sessions += tally.sessions;
      stagedBytes += tally.bytes;
    }
    return { sessions, stagedBytes };
  }

  /** Counts the sessions left by a previous run (call once at start-up, after purgeAbandoned). */
  async load(): Promise<void> {
    for (const session of await this.#metadata.listUploads()) {
      if (this.#staging.has(session.id)) continue;
      this.#track(session.id, { namespace: namespaceOf(session.repository), account: undefined, session: true, bytes: 0 });
      this.#setBytes(session.id, (await this.#blobs.stagedSize(session.id)) ?? 0);
    }
  }

  /**
   * Opens a session for `account` (a subject such as `user:alice`; undefined when anonymous), or
   * refuses with 429 when the account or the namespace has as many open sessions as allowed.
   */
  async start(repository: string, account?: string): Promise<string> {
    const namespace = namespaceOf(repository);
    this.#checkSessions(namespace, account);
    const id = randomUUID();
    // Counted before the await, so that concurrent starts cannot all pass the check.
    this.#track(id, { namespace, account, session: true, bytes: 0 });
    try {
      await this.#metadata.createUpload(id, repository);
    } catch (error) {
      this.#untrack(id);
      throw error;
    }
    return id;
  }

  /**
   * An id for a one-request upload (POST with ?digest=). It gets no session: nobody could resume
   * it, so staged data it leaves behind after a crash is an orphan and purged at the next start.
   * Its bytes count as staged while it runs.
   */
  startOneShot(repository: string, account?: string): string {
    const id = randomUUID();
    this.#track(id, { namespace: namespaceOf(repository), account, session: false, bytes: 0 });
    return id;
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
      this.#setBytes(id, offset);
      // A body that says it is too long is refused before a byte of it is read.
      if (declaredLength !== undefined) this.#checkBytes(id, declaredLength);
      const large = declaredLength === undefined || declaredLength >= THREAD_HASH_MIN_BYTES;
      const running = await this.#runningDigest(id, offset, 'sha256', large);
      try {
        const size = await this.#blobs.append(id, offset, this.#metered(id, offset, body), (bytes) => running.hash.update(bytes));
        running.covered = size;
        this.#setBytes(id, size);
        return size;
      } catch (error) {
        // The store rolled the bytes back; the hash cannot be rolled back, so forget it.
        this.#forget(id);
        this.#setBytes(id, offset);
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
      this.#untrack(id);
      return size;
    });
  }

  async cancel(id: string): Promise<void> {
    this.#forget(id);
    await this.#blobs.discard(id);
    await this.#metadata.deleteUpload(id);
    this.#untrack(id);
  }

  /**
   * Drops sessions untouched for longer than `maxAgeMs`, and staged data that no session owns and
   * that nothing wrote to for `orphanAgeMs` (0 at start-up, when no request can be writing).
   */
  async purgeAbandoned(maxAgeMs: number, orphanAgeMs: number, now = Date.now()): Promise<number> {
    let purged = 0;
    const staged = new Map((await this.#blobs.listStaged()).map((entry) => [entry.id, entry]));
    const sessions = await this.#metadata.listUploads();
    // Sessions finished or cancelled by another process no longer count here.
    const open = new Set(sessions.map((session) => session.id));
    for (const [id, staging] of this.#staging) if (staging.session && !open.has(id) && !this.#locks.has(id)) this.#untrack(id);
    for (const session of sessions) {
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

  /**
   * A hash of the staged bytes, for a session whose running hash is gone: resumed from the state
   * the store saved (a store shared by replicas, whose staged parts cannot be read back), or else
   * read back from the store.
   */
  async #rehash(id: string, size: number, algorithm: DigestAlgorithm): Promise<RunningDigest> {
    if (algorithm === 'sha256' && this.#blobs.resumeSha256) {
      const resumed = await this.#blobs.resumeSha256(id);
      if (resumed && resumed.length === size) return { hash: new ResumedSha256(resumed), covered: size };
      if (size === 0) return { hash: new InlineHash(algorithm), covered: 0 };
    }
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

  #track(id: string, staging: Staging): void {
    this.#staging.set(id, staging);
    for (const tally of this.#talliesOf(staging)) tally.sessions += staging.session ? 1 : 0;
  }

  #untrack(id: string): void {
    const staging = this.#staging.get(id);
    if (!staging) return;
    this.#setBytes(id, 0);
    for (const tally of this.#talliesOf(staging)) tally.sessions -= staging.session ? 1 : 0;
    this.#staging.delete(id);
    if (this.#byNamespace.get(staging.namespace)?.sessions === 0 && this.#byNamespace.get(staging.namespace)?.bytes === 0) this.#byNamespace.delete(staging.namespace);
    if (staging.account !== undefined && this.#byAccount.get(staging.account)?.sessions === 0 && this.#byAccount.get(staging.account)?.bytes === 0) this.#byAccount.delete(staging.account);
  }

  /** The tallies an upload counts against: its namespace's, and its account's when it has one. */
  #talliesOf(staging: Staging): Tally[] {
    const tally = (map: Map<string, Tally>, key: string) => {
      let found = map.get(key);
      if (!found) map.set(key, (found = { sessions: 0, bytes: 0 }));
      return found;
    };
    return staging.account === undefined
      ? [tally(this.#byNamespace, staging.namespace)]
      : [tally(this.#byNamespace, staging.namespace), tally(this.#byAccount, staging.account)];
  }

  /** Records how many bytes an upload stages now (uploads this process does not track count nothing). */
  #setBytes(id: string, bytes: number): void {
    const staging = this.#staging.get(id);
    if (!staging || staging.bytes === bytes) return;
    for (const tally of this.#talliesOf(staging)) tally.bytes += bytes - staging.bytes;
    staging.bytes = bytes;
  }

  #checkSessions(namespace: string, account: string | undefined): void {
    const { maxSessionsPerNamespace, maxSessionsPerAccount } = this.#limits;
    const inNamespace = this.#byNamespace.get(namespace)?.sessions ?? 0;
    if (maxSessionsPerNamespace > 0 && inNamespace >= maxSessionsPerNamespace) {
      throw limitReached('uploads.maxSessionsPerNamespace', maxSessionsPerNamespace, `namespace ${namespace} has ${inNamespace} open upload sessions`);
    }
    const ofAccount = account === undefined ? 0 : this.#byAccount.get(account)?.sessions ?? 0;
    if (account !== undefined && maxSessionsPerAccount > 0 && ofAccount >= maxSessionsPerAccount) {
      throw limitReached('uploads.maxSessionsPerAccount', maxSessionsPerAccount, `${account} has ${ofAccount} open upload sessions`);
    }
  }

  /** Refuses `more` bytes for upload `id` when they would pass its namespace's or account's limit. */
  #checkBytes(id: string, more: number): void {
    const staging = this.#staging.get(id);
    if (!staging || more === 0) return;
    const { maxStagedBytesPerNamespace, maxStagedBytesPerAccount } = this.#limits;
    const inNamespace = this.#byNamespace.get(staging.namespace)?.bytes ?? 0;
    if (maxStagedBytesPerNamespace > 0 && inNamespace + more > maxStagedBytesPerNamespace) {
      throw limitReached('uploads.maxStagedBytesPerNamespace', maxStagedBytesPerNamespace, `namespace ${staging.namespace} has ${inNamespace} bytes staged in unfinished uploads`);
    }
    const ofAccount = staging.account === undefined ? 0 : this.#byAccount.get(staging.account)?.bytes ?? 0;
    if (staging.account !== undefined && maxStagedBytesPerAccount > 0 && ofAccount + more > maxStagedBytesPerAccount) {
      throw limitReached('uploads.maxStagedBytesPerAccount', maxStagedBytesPerAccount, `${staging.account} has ${ofAccount} bytes staged in unfinished uploads`);
    }
  }

  /**
   * The body, counted into the upload's staged bytes as it arrives; a chunk that would pass a
   * limit ends it with 429 (the store then rolls the append back).
   */
  async *#metered(id: string, offset: number, body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    let size = offset;
    for await (const chunk of body) {
      this.#checkBytes(id, chunk.byteLength);
      size += chunk.byteLength;
      this.#setBytes(id, size);
      yield chunk;
    }
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

function limitReached(key: string, limit: number, situation: string) {
  return registryError('TOOMANYREQUESTS', {
    message: `${situation}: the limit is ${limit} (configuration key ${key}); finish or cancel unfinished uploads, or ask an administrator to raise ${key}`,
    detail: { limit: key, value: limit },
  });
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

