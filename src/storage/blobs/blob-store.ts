/**
 * Where blob bytes live. Content-addressed and shared by every repository: which repository may
 * read which blob is the metadata store's business, not this one's.
 *
 * Guarantees every implementation gives (checked by `describeBlobStore` in blob-store.contract.ts):
 * - A committed blob's bytes never change, and a blob is readable only after `commit`.
 * - Staged upload data is invisible to `stat`/`open` and survives a restart until committed or
 *   discarded; a failed `append` leaves the staged size where it was before the call.
 * - `commit` is atomic and idempotent: committing a digest that already exists keeps one copy.
 */
import type { Readable } from 'node:stream';
import type { AlignedBufferPool } from './direct-io.ts';
import type { ResumableSha256 } from './resumable-sha256.ts';

export interface ByteRange {
  /** First byte, inclusive. */
  readonly start: number;
  /** Last byte, inclusive. */
  readonly end: number;
}

export interface StagedUpload {
  readonly id: string;
  readonly size: number;
  readonly modifiedAt: Date;
}

export type BodyObserver = (bytes: Uint8Array) => Promise<void> | void;

export interface BlobStore {
  /** Size of a committed blob, or undefined when it is absent. */
  stat(digest: string): Promise<number | undefined>;
  /** A stream of a committed blob (or of one byte range of it); undefined when absent. */
  open(digest: string, range?: ByteRange): Promise<Readable | undefined>;
  /**
   * Appends a body to an upload's staged data. `offset` must equal the staged size (0 for a new
   * upload), else `OffsetMismatchError`. `observe` sees every byte once, in order, before it is
   * written (the caller hashes there, so the body is read once), in pieces of the store's
   * choosing. When `observe` returns a promise, the store leaves those bytes unchanged and waits
   * for it before reusing their memory. Resolves to the new staged size.
   */
  append(uploadId: string, offset: number, body: AsyncIterable<Uint8Array>, observe?: BodyObserver): Promise<number>;
  /** Staged size of an upload, or undefined when it has no staged data. */
  stagedSize(uploadId: string): Promise<number | undefined>;
  /**
   * The staged bytes, for re-hashing an upload whose digest state was lost in a restart. A store
   * with `resumeSha256` may refuse once the bytes cannot be read back while the upload runs.
   */
  readStaged(uploadId: string): Promise<Readable | undefined>;
  /**
   * Capability of stores shared by several replicas whose staged bytes cannot all be read back
   * (S3 multipart parts): the SHA-256 state of the staged bytes, saved with each append, so that
   * any replica goes on hashing an upload from where it is. Undefined when nothing is staged.
   */
  resumeSha256?(uploadId: string): Promise<ResumableSha256 | undefined>;
  /** Makes staged data the content of `digest`, durably and atomically. The caller verified the digest. */
  commit(uploadId: string, digest: string): Promise<void>;
  /** Drops an upload's staged data; a no-op when there is none. */
  discard(uploadId: string): Promise<void>;
  /** Removes a committed blob (garbage collection only). */
  delete(digest: string): Promise<void>;
  /** Every upload with staged data, for cleaning up abandoned ones. */
  listStaged(): Promise<StagedUpload[]>;
  /** Throws when the store cannot be used (readiness probe). */
  check(): Promise<void>;
  /**
   * Capability of object stores configured for redirects: a URL from which clients fetch the
   * committed blob themselves (Range requests included), or undefined to stream it as usual.
   */
  presignedUrl?(digest: string): Promise<string | undefined>;
  /**
   * Capability of stores on the local filesystem: the path of a committed blob, so the server can
   * send it with its fast file sender. Absent on remote stores, which are read through `open`.
   */
  localPath?(digest: string): string;
  /**
   * With `localPath`: aligned buffers for reading this blob (of `size` bytes) with direct I/O, or
   * undefined when it is to be read through the page cache: the store does not use direct I/O,
   * the blob is small, or it is pulled often enough to be worth caching. Each call counts as a pull.
   */
  directReadBuffers?(digest: string, size: number): AlignedBufferPool | undefined;
  /**
   * Sets aside a committed blob whose bytes no longer match its digest, so that it reads as
   * absent (and a push of the right bytes stores it again), keeping the bad copy for inspection.
   * With `onlyIf`, only while the blob is still that file (not a good copy committed since).
   * Resolves to where the copy went, or undefined when there was nothing to set aside.
   */
  quarantine?(digest: string, onlyIf?: { readonly ino: number }): Promise<string | undefined>;
  /** Blobs set aside by `quarantine` and still kept, with where they are. */
  quarantined?(): Promise<{ digest: string; path: string }[]>;
}

export class OffsetMismatchError extends Error {
  readonly actual: number;
  constructor(expected: number, actual: number) {
    super(`upload is at offset ${actual}, not ${expected}`);
    this.actual = actual;
  }
}
