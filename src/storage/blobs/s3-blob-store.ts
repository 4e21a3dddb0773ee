/**
 * Blobs in an S3-compatible object store (AWS S3, Ceph RGW, MinIO...), so that several stateless
 * replicas share them. See docs/scale-out-s3.md for the layout and the reasons behind it.
 *
 * Layout under the configured prefix:
 * - `blobs/sha256/<2 hex>/<hex>`: the blob. Either its bytes (blobs that fit one part, written by
 *   one PutObject at commit), or an empty pointer object whose metadata names the object that
 *   holds the bytes (`wharf-data`) and their size (`wharf-size`).
 * - `data/<random>`: the bytes of a blob of several parts, written by CompleteMultipartUpload.
 *   The digest is known only when the client finishes, but a multipart upload's key is fixed when
 *   it starts, so large blobs are completed in place under a key of their own and the content key
 *   points there. Nothing is ever copied: S3 copies stop at 5 GiB, and copying a 100 GB layer
 *   would cost as much as uploading it again.
 * - `uploads/<id>/state`: a staged upload's size, its multipart upload, the parts sent (number,
 *   size, ETag), the pieces not yet a part, and the SHA-256 state of everything staged.
 * - `uploads/<id>/piece-<offset>-<random>`: bytes that do not fill a part yet (a small PATCH).
 *   S3 parts must be at least 5 MiB except the last, so small chunks wait here, as objects any
 *   replica can read, until enough follow to make a part.
 *
 * Parts grow with the upload (`partSizeAt`), so a 100 GB layer takes about 4,600 of the 10,000
 * parts S3 allows while a part of a small upload stays at the configured minimum.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand,
  DeleteObjectsCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command,
  PutObjectCommand, S3Client, S3ServiceException, UploadPartCommand, type CompletedPart,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { OffsetMismatchError, type BlobStore, type BodyObserver, type ByteRange, type StagedUpload } from './blob-store.ts';
import { ResumableSha256, type Sha256State } from './resumable-sha256.ts';
import { Sha256Thread, type Sha256Session } from './sha256-thread.ts';

const SAFE_UPLOAD_ID = /^[A-Za-z0-9_-]{1,128}$/;
const MiB = 1024 * 1024;
/** S3's limits on multipart uploads. */
const MIN_PART_BYTES = 5 * MiB;
const MAX_PART_BYTES = 5 * 1024 * MiB;
const MAX_PARTS = 10_000;
/** Parts of one append sent at once: receiving goes on while earlier parts travel. */
const PARTS_IN_FLIGHT = 3;
/** DeleteObjects takes at most this many keys. */
const DELETE_BATCH = 1000;

export interface S3BlobStoreOptions {
  readonly endpoint?: string;
  readonly region: string;
  readonly bucket: string;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  /** Path-style URLs (http://host/bucket/key): Ceph without rgw_dns_name and MinIO need them. */
  readonly forcePathStyle: boolean;
  /** Key prefix, so that several registries (or tests) can share a bucket. */
  readonly prefix: string;
  /** Smallest part of a multipart upload, at least 5 MiB. */
  readonly minPartBytes: number;
  /** Seconds a presigned blob URL stays valid; 0: blobs are not served by redirect. */
  readonly presignedRedirectSeconds: number;
  /** Create the bucket when it does not exist (trials and tests). */
  readonly createBucket?: boolean;
}

interface SentPart {
  readonly number: number;
  readonly size: number;
  readonly etag: string;
}

interface Piece {
  readonly key: string;
  readonly size: number;
}

/** What `uploads/<id>/state` holds. */
interface UploadState {
  readonly size: number;
  /** The multipart upload, once the first part was sent. */
  readonly multipart?: { readonly key: string; readonly uploadId: string };
  readonly parts: readonly SentPart[];
  readonly pieces: readonly Piece[];
  readonly sha256: Sha256State;
  /**
   * Set by commit before it completes the multipart upload: the digest whose pointer will name
   * the completed object, so that a discard after a crash in between can tell an orphan from a blob.
   */
  readonly committing?: string;
}

const EMPTY_STATE: UploadState = { size: 0, parts: [], pieces: [], sha256: new ResumableSha256().save() };

/**
 * The size of the part that starts at `offset`: the minimum until there are 1,500 of them, then
 * a 1,500th of what is staged, so sizes grow by a factor e every 1,500 parts (with 8 MiB parts:
 * 100 GB within about 4,600 parts, 10,000 parts reach past 3 TB).
 */
export function partSizeAt(offset: number, minPartBytes: number): number {
  const grown = Math.ceil(offset / 1500 / MiB) * MiB;
  return Math.min(MAX_PART_BYTES, Math.max(minPartBytes, MIN_PART_BYTES, grown));
}

export class S3BlobStore implements BlobStore {
  readonly client: S3Client;
  readonly #options: S3BlobStoreOptions;
  readonly #prefix: string;
  /** Keeps the resumable digest of every upload, off the event loop. */
  readonly #sha256Thread = new Sha256Thread();

  constructor(options: S3BlobStoreOptions) {
    this.#options = options;
    this.#prefix = options.prefix === '' || options.prefix.endsWith('/') ? options.prefix : `${options.prefix}/`;
    this.client = new S3Client({
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      ...(options.accessKeyId && options.secretAccessKey
        ? { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } }
        : {}),
      // Checksums only where S3 requires them: Ceph RGW refuses the aws-chunked bodies the SDK
      // otherwise sends, and the registry verifies content by its own digest anyway.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async init(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.#options.bucket }));
    } catch (error) {
      if (!this.#options.createBucket || !isNotFound(error)) throw error;
      await this.client.send(new CreateBucketCommand({ Bucket: this.#options.bucket }));
    }
  }

  close(): void {
    this.client.destroy();
    void this.#sha256Thread.close();
  }

  async stat(digest: string): Promise<number | undefined> {
    return (await this.#locate(digest))?.size;
  }

  async open(digest: string, range?: ByteRange): Promise<Readable | undefined> {
    // A whole blob is asked for at its content key at once: one request for a blob stored there,
    // and for a pointer (an empty body) a second one to where it points.
    if (!range) {
      try {
        const reply = await this.client.send(new GetObjectCommand({ Bucket: this.#options.bucket, Key: this.#contentKey(digest) }));
        const body = reply.Body as Readable;
        if (reply.Metadata?.['wharf-data'] === undefined) return body;
        body.destroy();
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    }
    const found = await this.#locate(digest);
    if (!found) return undefined;
    if (found.size === 0) return Readable.from([]);
    try {
      const reply = await this.client.send(new GetObjectCommand({
        Bucket: this.#options.bucket, Key: found.key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
      }));
      return reply.Body as Readable;
    } catch (error) {
      if (isNotFound(error)) return undefined; // deleted between the two requests
      throw error;
    }
  }

  /**
   * A presigned GET URL for a blob, when redirects are configured: the client then downloads
   * straight from object storage (Range requests included), past the registry.
   */
  async presignedUrl(digest: string): Promise<string | undefined> {
    if (this.#options.presignedRedirectSeconds <= 0) return undefined;
    const found = await this.#locate(digest);
    if (!found || found.size === 0) return undefined;
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.#options.bucket, Key: found.key }), {
      expiresIn: this.#options.presignedRedirectSeconds,
    });
  }

  async append(uploadId: string, offset: number, body: AsyncIterable<Uint8Array>, observe?: BodyObserver): Promise<number> {
    const loaded = await this.#loadVersionedState(uploadId);
    const state = loaded?.state ?? EMPTY_STATE;
    if (state.size !== offset) throw new OffsetMismatchError(offset, state.size);
    const writer = new AppendWriter(this, uploadId, state, this.#sha256Thread.start(state.sha256));
    const observing: Promise<void>[] = [];
    let next: UploadState;
    try {
      for await (const chunk of body) {
        if (chunk.byteLength === 0) continue;
        const seen = observe?.(chunk);
        if (seen) observing.push(seen);
        await writer.write(chunk);
      }
      next = await writer.finish();
      await Promise.all(observing);
      if (!(await this.#saveState(uploadId, next, loaded?.etag))) {
        // Another replica appended to this upload meanwhile, and its append stands.
        throw new OffsetMismatchError(offset, (await this.#loadState(uploadId))?.size ?? 0);
      }
    } catch (error) {
      await Promise.allSettled(observing);
      await writer.rollBack();
      throw error;
    }
    // The append stands once its state is saved. The pieces that went into parts are no longer
    // named by it; any left over (a failed delete) go with the upload's prefix at commit or discard.
    await this.deleteKeysQuietly(state.pieces.filter((piece) => !next.pieces.some((kept) => kept.key === piece.key)).map((piece) => piece.key));
    return next.size;
  }

  async stagedSize(uploadId: string): Promise<number | undefined> {
    return (await this.#loadState(uploadId))?.size;
  }

  /**
   * The staged bytes, when they are all still pieces. Parts of an unfinished multipart upload
   * cannot be read back from S3; for those, `resumeSha256` gives the digest state instead.
   */
  async readStaged(uploadId: string): Promise<Readable | undefined> {
    const state = await this.#loadState(uploadId);
    if (!state) return undefined;
    if (state.parts.length > 0) throw new Error('staged parts of an S3 multipart upload cannot be read back; resume its saved SHA-256 state');
    const pieces = state.pieces;
    const read = (piece: Piece) => this.readKey(piece.key);
    return Readable.from((async function* () {
      for (const piece of pieces) yield await read(piece);
    })());
  }

  /** The SHA-256 state of everything staged, saved with each append: any replica can go on hashing from it. */
  async resumeSha256(uploadId: string): Promise<ResumableSha256 | undefined> {
    const state = await this.#loadState(uploadId);
    return state ? ResumableSha256.restore(state.sha256) : undefined;
  }

  async commit(uploadId: string, digest: string): Promise<void> {
    const contentKey = this.#contentKey(digest);
    const loaded = await this.#loadVersionedState(uploadId);
    const state = loaded?.state ?? EMPTY_STATE;
    if ((await this.#locate(digest)) !== undefined) {
      await this.discard(uploadId);
      return;
    }
    if (!state.multipart) {
      // Fits one part: the bytes go to the content key itself.
      const bytes = Buffer.concat(await Promise.all(state.pieces.map((piece) => this.readKey(piece.key))));
      await this.#putIfAbsent(contentKey, bytes, {});
      await this.discard(uploadId);
      return;
    }
    // A commit retried after one that completed the upload and then stopped goes on from there.
    const completedBefore = state.committing === digest && (await this.#sizeOf(state.multipart.key)) === state.size;
    if (!completedBefore) {
      const parts = [...state.parts];
      if (state.pieces.length > 0) {
        // The rest becomes the last part, which S3 lets be smaller than 5 MiB.
        const bytes = Buffer.concat(await Promise.all(state.pieces.map((piece) => this.readKey(piece.key))));
        parts.push(await this.uploadPart(state.multipart, parts.length + 1, bytes));
      }
      if (state.committing !== digest && !(await this.#saveState(uploadId, { ...state, committing: digest }, loaded?.etag))) {
        throw new Error(`upload ${uploadId} changed while it was being committed`);
      }
      await this.client.send(new CompleteMultipartUploadCommand({
        Bucket: this.#options.bucket, Key: state.multipart.key, UploadId: state.multipart.uploadId,
        MultipartUpload: { Parts: parts.map((part): CompletedPart => ({ PartNumber: part.number, ETag: part.etag })) },
      }));
    }
    const linked = await this.#putIfAbsent(contentKey, Buffer.alloc(0), { 'wharf-data': state.multipart.key, 'wharf-size': String(state.size) });
    // Another replica committed the same digest first: its copy stays, ours goes.
    if (!linked) await this.#deleteKeys([state.multipart.key]);
    await this.#deleteKeys(await this.#listKeys(this.#uploadPrefix(uploadId)));
  }

  async discard(uploadId: string): Promise<void> {
    const state = await this.#loadState(uploadId);
    if (state?.multipart) {
      const completed = await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.#options.bucket, Key: state.multipart.key, UploadId: state.multipart.uploadId }))
        .then(() => false, (error: unknown) => {
          if (!isNoSuchUpload(error)) throw error;
          return true;
        });
      // A commit that completed the upload and then stopped: its object is a blob only if the
      // pointer names it.
      if (completed && (state.committing === undefined || (await this.#locate(state.committing))?.key !== state.multipart.key)) {
        await this.#deleteKeys([state.multipart.key]);
      }
    }
    await this.#deleteKeys(await this.#listKeys(this.#uploadPrefix(uploadId)));
  }

  async delete(digest: string): Promise<void> {
    await this.deleteMany([digest]);
  }

  /** Removes many blobs with batched DeleteObjects requests (1,000 keys each): what GC calls. */
  async deleteMany(digests: readonly string[]): Promise<void> {
    const keys: string[] = [];
    await mapLimited(digests, 8, async (digest) => {
      const found = await this.#locate(digest);
      if (!found) return;
      keys.push(this.#contentKey(digest));
      if (found.key !== this.#contentKey(digest)) keys.push(found.key);
    });
    await this.#deleteKeys(keys);
  }

  async listStaged(): Promise<StagedUpload[]> {
    const staged: StagedUpload[] = [];
    const prefix = `${this.#prefix}uploads/`;
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.#options.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        const match = /^([^/]+)\/state$/.exec(object.Key!.slice(prefix.length));
        if (!match) continue;
        const state = await this.#loadState(match[1]!);
        if (state) staged.push({ id: match[1]!, size: state.size, modifiedAt: object.LastModified ?? new Date() });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return staged;
  }

  async check(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.#options.bucket }));
  }

  // ---- used by AppendWriter ----

  /** The key prefix, with its trailing slash (or empty). */
  get prefix(): string {
    return this.#prefix;
  }

  get minPartBytes(): number {
    return this.#options.minPartBytes;
  }

  async createMultipart(): Promise<{ key: string; uploadId: string }> {
    const key = `${this.#prefix}data/${randomUUID()}`;
    const reply = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.#options.bucket, Key: key, ContentType: 'application/octet-stream' }));
    if (!reply.UploadId) throw new Error('S3 returned no multipart upload id');
    return { key, uploadId: reply.UploadId };
  }

  async abortMultipart(multipart: { key: string; uploadId: string }): Promise<void> {
    await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.#options.bucket, Key: multipart.key, UploadId: multipart.uploadId }));
  }

  async uploadPart(multipart: { key: string; uploadId: string }, number: number, bytes: Uint8Array): Promise<SentPart> {
    if (number > MAX_PARTS) throw new Error(`an upload of more than ${MAX_PARTS} parts does not fit one S3 multipart upload`);
    const reply = await this.client.send(new UploadPartCommand({
      Bucket: this.#options.bucket, Key: multipart.key, UploadId: multipart.uploadId, PartNumber: number,
      Body: bytes, ContentLength: bytes.byteLength,
    }));
    if (!reply.ETag) throw new Error('S3 returned no ETag for a part');
    return { number, size: bytes.byteLength, etag: reply.ETag };
  }

  async putPiece(uploadId: string, offset: number, bytes: Uint8Array): Promise<Piece> {
    const key = `${this.#uploadPrefix(uploadId)}piece-${offset}-${randomUUID()}`;
    await this.client.send(new PutObjectCommand({ Bucket: this.#options.bucket, Key: key, Body: bytes, ContentLength: bytes.byteLength }));
    return { key, size: bytes.byteLength };
  }

  async readKey(key: string): Promise<Buffer> {
    const reply = await this.client.send(new GetObjectCommand({ Bucket: this.#options.bucket, Key: key }));
    return Buffer.from(await reply.Body!.transformToByteArray());
  }

  async deleteKeysQuietly(keys: readonly string[]): Promise<void> {
    await this.#deleteKeys(keys).catch(() => undefined);
  }

  // ---- private ----

  #contentKey(digest: string): string {
    const match = /^sha256:([a-f0-9]{64})$/.exec(digest) ?? /^(sha512):([a-f0-9]{128})$/.exec(digest);
    if (!match) throw new Error(`invalid digest ${JSON.stringify(digest)}`);
    const [algorithm, hex] = match.length === 3 ? [match[1]!, match[2]!] : ['sha256', match[1]!];
    return `${this.#prefix}blobs/${algorithm}/${hex.slice(0, 2)}/${hex}`;
  }

  #uploadPrefix(uploadId: string): string {
    if (!SAFE_UPLOAD_ID.test(uploadId)) throw new Error(`invalid upload id ${JSON.stringify(uploadId)}`);
    return `${this.#prefix}uploads/${uploadId}/`;
  }

  /** Where a blob's bytes are and how many there are; undefined when it is absent. */
  async #locate(digest: string): Promise<{ key: string; size: number } | undefined> {
    const key = this.#contentKey(digest);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.#options.bucket, Key: key }));
      const data = head.Metadata?.['wharf-data'];
      if (data !== undefined) return { key: data, size: Number(head.Metadata?.['wharf-size']) };
      return { key, size: head.ContentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async #sizeOf(key: string): Promise<number | undefined> {
    try {
      return (await this.client.send(new HeadObjectCommand({ Bucket: this.#options.bucket, Key: key }))).ContentLength;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Writes `key` unless it exists (If-None-Match: *); false when it did. */
  async #putIfAbsent(key: string, bytes: Buffer, metadata: Record<string, string>): Promise<boolean> {
    try {
      await this.client.send(new PutObjectCommand({
        Bucket: this.#options.bucket, Key: key, Body: bytes, ContentLength: bytes.byteLength, IfNoneMatch: '*',
        ContentType: 'application/octet-stream', Metadata: metadata,
      }));
      return true;
    } catch (error) {
      if (isPreconditionFailed(error)) return false;
      throw error;
    }
  }

  async #loadState(uploadId: string): Promise<UploadState | undefined> {
    return (await this.#loadVersionedState(uploadId))?.state;
  }

  /** The state with the ETag of the object it was read from, for a conditional save. */
  async #loadVersionedState(uploadId: string): Promise<{ state: UploadState; etag: string } | undefined> {
    const key = `${this.#uploadPrefix(uploadId)}state`;
    try {
      const reply = await this.client.send(new GetObjectCommand({ Bucket: this.#options.bucket, Key: key }));
      const text = await reply.Body!.transformToString('utf8');
      return { state: JSON.parse(text) as UploadState, etag: reply.ETag ?? '' };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * Saves the state of an append only if no other append (on another replica) saved one since
   * `etag` was read, or since there was none: false when one did. Ceph RGW 16 compares If-Match
   * against the ETag without its quotes, AWS with them; a refusal of the quoted form is asked
   * again unquoted, and a real conflict is refused both times.
   */
  async #saveState(uploadId: string, state: UploadState, etag: string | undefined): Promise<boolean> {
    const body = Buffer.from(JSON.stringify(state));
    const put = (condition: { IfMatch: string } | { IfNoneMatch: string }) => this.client.send(new PutObjectCommand({
      Bucket: this.#options.bucket, Key: `${this.#uploadPrefix(uploadId)}state`, Body: body, ContentLength: body.byteLength,
      ContentType: 'application/json', ...condition,
    })).then(() => true, (error: unknown) => {
      if (isPreconditionFailed(error)) return false;
      throw error;
    });
    if (etag === undefined) return put({ IfNoneMatch: '*' });
    return (await put({ IfMatch: etag })) || (etag.startsWith('"') && put({ IfMatch: etag.replace(/^"|"$/g, '') }));
  }

  async #listKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.#options.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) keys.push(object.Key!);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async #deleteKeys(keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const batch = keys.slice(start, start + DELETE_BATCH);
      const reply = await this.client.send(new DeleteObjectsCommand({
        Bucket: this.#options.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
      }));
      const failed = (reply.Errors ?? []).filter((entry) => entry.Code !== 'NoSuchKey');
      if (failed.length > 0) throw new Error(`S3 could not delete ${failed.length} objects: ${failed[0]!.Key}: ${failed[0]!.Code} ${failed[0]!.Message ?? ''}`);
    }
  }
}

/**
 * One append: bytes gather in memory until they fill a part (the pieces staged before count
 * first), full parts are sent while more arrive, and what is left when the body ends becomes a
 * new piece. Nothing here changes the saved state: `finish` returns the next one, and the caller
 * saves it only once everything it names is stored, so a failed append leaves the upload as it was.
 */
class AppendWriter {
  readonly #store: S3BlobStore;
  readonly #uploadId: string;
  /** The digest of the staged bytes: fed each byte once, as it leaves for a part or a piece. */
  readonly #hash: Sha256Session;
  #multipart: { key: string; uploadId: string } | undefined;
  #createdMultipart = false;
  readonly #parts: SentPart[];
  /** Staged pieces not yet in a part, oldest first. */
  #pieces: Piece[];
  /** Where the bytes in `#buffer` (after the pieces) start. */
  #size: number;
  #buffer: Uint8Array[] = [];
  #buffered = 0;
  readonly #sending = new Set<Promise<void>>();
  #sendFailure: unknown;
  #newPiece: Piece | undefined;

  constructor(store: S3BlobStore, uploadId: string, before: UploadState, hash: Sha256Session) {
    this.#store = store;
    this.#uploadId = uploadId;
    this.#hash = hash;
    this.#multipart = before.multipart;
    this.#parts = [...before.parts];
    this.#pieces = [...before.pieces];
    this.#size = before.size;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.#sendFailure) throw this.#sendFailure;
    // Kept, not copied: a request body's chunks are fresh buffers nobody writes to again, and the
    // part is assembled from them by one copy.
    this.#buffer.push(chunk);
    this.#buffered += chunk.byteLength;
    this.#size += chunk.byteLength;
    const partStart = this.#size - this.#buffered - this.#piecesBytes();
    const partSize = partSizeAt(partStart, this.#store.minPartBytes);
    if (this.#piecesBytes() + this.#buffered >= partSize) await this.#sendPart(partSize);
  }

  async finish(): Promise<UploadState> {
    await this.#drain();
    if (this.#buffered > 0) {
      const bytes = Buffer.concat(this.#buffer);
      this.#hash.update(bytes);
      this.#newPiece = await this.#store.putPiece(this.#uploadId, this.#size - bytes.length, bytes);
      this.#pieces.push(this.#newPiece);
      this.#buffer = [];
      this.#buffered = 0;
    }
    const sha256 = await this.#hash.save();
    this.#hash.end();
    return {
      size: this.#size, parts: this.#parts, pieces: this.#pieces, sha256,
      ...(this.#multipart ? { multipart: this.#multipart } : {}),
    };
  }

  /** Undoes what this append stored: a multipart upload it began, a piece it wrote. Parts sent to an older multipart upload are not named by its state and are overwritten or dropped later. */
  async rollBack(): Promise<void> {
    await Promise.allSettled(this.#sending);
    this.#hash.end();
    if (this.#createdMultipart && this.#multipart) await this.#store.abortMultipart(this.#multipart).catch(() => undefined);
    if (this.#newPiece) await this.#store.deleteKeysQuietly([this.#newPiece.key]);
  }

  #piecesBytes(): number {
    return this.#pieces.reduce((sum, piece) => sum + piece.size, 0);
  }

  /** Sends the staged pieces and the first buffered bytes as the next part of `partSize` bytes. */
  async #sendPart(partSize: number): Promise<void> {
    while (this.#sending.size >= PARTS_IN_FLIGHT) await Promise.race(this.#sending);
    if (this.#sendFailure) throw this.#sendFailure;
    const fromPieces = this.#pieces;
    const fromBuffer = partSize - this.#piecesBytes();
    const joined = Buffer.concat(this.#buffer);
    const head = joined.subarray(0, fromBuffer);
    const rest = joined.subarray(fromBuffer);
    this.#hash.update(head);
    this.#buffer = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    this.#pieces = [];
    if (!this.#multipart) {
      this.#multipart = await this.#store.createMultipart();
      this.#createdMultipart = true;
    }
    const number = this.#parts.length + 1;
    const slot: SentPart = { number, size: partSize, etag: '' };
    this.#parts.push(slot);
    const multipart = this.#multipart;
    const sending = (async () => {
      const earlier = await Promise.all(fromPieces.map((piece) => this.#store.readKey(piece.key)));
      const sent = await this.#store.uploadPart(multipart, number, earlier.length > 0 ? Buffer.concat([...earlier, head]) : head);
      this.#parts[number - 1] = sent;
    })().catch((error: unknown) => { this.#sendFailure ??= error; });
    this.#sending.add(sending);
    void sending.finally(() => this.#sending.delete(sending));
  }

  async #drain(): Promise<void> {
    await Promise.all(this.#sending);
    if (this.#sendFailure) throw this.#sendFailure;
  }
}

async function mapLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

function isNotFound(error: unknown): boolean {
  return error instanceof S3ServiceException && (error.$metadata.httpStatusCode === 404 || error.name === 'NoSuchKey' || error.name === 'NotFound');
}

function isPreconditionFailed(error: unknown): boolean {
  return error instanceof S3ServiceException && (error.$metadata.httpStatusCode === 412 || error.name === 'PreconditionFailed');
}

function isNoSuchUpload(error: unknown): boolean {
  return error instanceof S3ServiceException && (error.name === 'NoSuchUpload' || error.$metadata.httpStatusCode === 404);
}
