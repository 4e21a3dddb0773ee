/**
 * Streams a byte range of a local file into an HTTP response with a few reused buffers. A buffer
 * goes back to the pool once the socket has taken its bytes, so a download allocates nothing per
 * chunk (no garbage to collect) and reads and writes overlap. About twice the throughput of a
 * plain file stream piped into the response.
 *
 * Large ranges are read with direct I/O into aligned buffers when the blob store offers them for
 * this pull: a large blob is written past the page cache (storage/blobs/direct-io.ts) and read
 * past it until it proves popular (storage/blobs/cache-admission.ts).
 *
 * A whole file can be verified on the way: each buffer is hashed while the socket takes it (on
 * the hashing thread for large files, in place for direct-I/O buffers), and the last buffer is
 * held back until the digest is known. A mismatch throws `FileCorruptError` before those last
 * bytes go out, so the client sees a transfer cut short, never a clean end of wrong bytes. A file
 * verified lately and unchanged since is sent without hashing (verified-files.ts).
 */
import { constants, fstat } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import type { ByteRange } from '../storage/blobs/blob-store.ts';
import { DIRECT_IO_ALIGNMENT, closeFile, openDirect, openFd, readAt, type AlignedBufferPool } from '../storage/blobs/direct-io.ts';
import type { RunningHash } from './running-hash.ts';
import { identityOf, type FileIdentity, type VerifiedFiles } from './verified-files.ts';

const fstatFd = promisify(fstat);

const PLAIN_BUFFER_BYTES = 1024 * 1024;
const BUFFERS = 4;

interface Source {
  fd: number;
  buffers: Buffer[];
  /** Where reads start: the range start, aligned down for direct I/O. */
  firstRead: number;
  /** Returns the buffers taken from a shared pool. */
  release(): void;
}

/** What a whole-file send checks its bytes against. */
export interface Verification {
  /** A hash to feed every byte sent, in order (asked for only when the file is to be verified). */
  readonly start: () => RunningHash;
  /** The hex digest the file must have. */
  readonly expected: string;
  /** Files verified lately: one of them, unchanged, is sent without hashing, and a file that passes is added. */
  readonly recent?: VerifiedFiles;
  /**
   * Deals with a file found corrupt before the response is cut off (so that a client retrying at
   * once already finds it dealt with); resolves to the error to throw.
   */
  readonly onMismatch?: (corrupt: FileCorruptError) => Promise<Error>;
}

/** The file's bytes do not match their digest; nothing after the mismatch was sent. */
export class FileCorruptError extends Error {
  readonly path: string;
  readonly actual: string;
  /** The file that was read (a good copy renamed into its place since is another inode). */
  readonly ino: number;

  constructor(path: string, expected: string, actual: string, ino: number) {
    super(`${path} failed digest verification: expected ${expected}, read ${actual}`);
    this.name = 'FileCorruptError';
    this.path = path;
    this.actual = actual;
    this.ino = ino;
  }
}

/** A verification under way: its hash, and the file it reads. */
interface Check {
  readonly hash: RunningHash;
  readonly file: FileIdentity;
  readonly verify: Verification;
}

export async function sendFile(res: ServerResponse, path: string, range: ByteRange, directBuffers?: AlignedBufferPool, verify?: Verification): Promise<void> {
  const source = await openSource(path, range, directBuffers);
  const reads = new Set<Promise<unknown>>();
  let check: Check | undefined;
  try {
    if (verify) {
      const file = identityOf(await fstatFd(source.fd));
      if (!verify.recent?.isFresh(path, file)) check = { hash: verify.start(), file, verify };
    }
    await stream(res, path, source, range, reads, check);
  } catch (error) {
    check?.hash.discard();
    // Pooled buffers may still sit in the socket's queue: drop the queue before another download reuses them.
    res.destroy(error as Error);
    throw error;
  } finally {
    // A read still running writes into its buffer and needs its descriptor: let it land first.
    await Promise.allSettled(reads);
    await closeFile(source.fd);
    source.release();
  }
}

/**
 * Throws FileCorruptError when the hash of what was read differs from the expected digest. A hash
 * that could not be finished (its thread stopped) proves nothing either way: the bytes go out.
 */
async function verifyDigest(path: string, { hash, file, verify }: Check): Promise<void> {
  const actual = await hash.digest().catch(() => undefined);
  if (actual === undefined) return;
  if (actual === verify.expected) {
    verify.recent?.record(path, file);
    return;
  }
  const corrupt = new FileCorruptError(path, verify.expected, actual, file.ino);
  throw verify.onMismatch ? await verify.onMismatch(corrupt) : corrupt;
}

async function openSource(path: string, range: ByteRange, pool: AlignedBufferPool | undefined): Promise<Source> {
  const length = range.end - range.start + 1;
  const buffers = pool && length >= pool.bufferBytes ? pool.take(BUFFERS) : undefined;
  if (buffers) {
    const fd = await openDirect(path, constants.O_RDONLY).catch((error: unknown) => {
      pool!.give(buffers);
      throw error;
    });
    return { fd, buffers, firstRead: range.start - (range.start % DIRECT_IO_ALIGNMENT), release: () => pool!.give(buffers) };
  }
  // No more memory than the range needs: most blobs (configs, small layers) fit one small buffer.
  const bufferBytes = Math.min(PLAIN_BUFFER_BYTES, length);
  const plain = Array.from({ length: Math.min(BUFFERS, Math.ceil(length / bufferBytes)) }, () => Buffer.allocUnsafe(bufferBytes));
  return { fd: await openFd(path, constants.O_RDONLY), buffers: plain, firstRead: range.start, release: () => undefined };
}

/**
 * Reads run ahead of the socket: every free buffer is given a read at the next position at once,
 * so with direct I/O several requests are at the disk together. Buffers are sent in file order
 * and come back when the socket has taken their bytes.
 */
async function stream(
  res: ServerResponse, path: string, source: Source, range: ByteRange, running: Set<Promise<unknown>>, check: Check | undefined,
): Promise<void> {
  const free = [...source.buffers];
  const reads: Promise<{ buffer: Buffer; position: number; bytesRead: number }>[] = [];
  let nextRead = source.firstRead;
  let bufferReturned: (() => void) | undefined;
  const readAhead = () => {
    while (free.length > 0 && nextRead <= range.end) {
      const buffer = free.pop()!;
      const position = nextRead;
      nextRead += buffer.byteLength;
      // Direct reads always ask for whole buffers (aligned lengths); the kernel stops at the end of the file.
      const read = readAt(source.fd, buffer, buffer.byteLength, position).then((bytesRead) => ({ buffer, position, bytesRead }));
      running.add(read);
      read.catch(() => undefined).finally(() => running.delete(read)); // awaited in order below
      reads.push(read);
    }
  };
  readAhead();
  while (reads.length > 0) {
    if (res.destroyed) {
      check?.hash.discard();
      return;
    }
    const { buffer, position, bytesRead } = await reads.shift()!;
    const wanted = Math.min(buffer.byteLength, range.end - position + 1);
    if (bytesRead < wanted) throw new Error(`${path} ended before byte ${position + bytesRead}`);
    const from = Math.max(range.start - position, 0);
    const bytes = buffer.subarray(from, wanted);
    const giveBack = () => {
      free.push(buffer);
      bufferReturned?.();
    };
    const hashing = check?.hash.update(bytes);
    if (check && position + wanted > range.end) {
      // The last bytes wait for the verdict.
      await hashing;
      await verifyDigest(path, check);
    }
    if (hashing) {
      // The buffer is reused once the socket took it and the hash read it (in place, on the thread).
      let pending = 2;
      const settled = () => {
        if (--pending === 0) giveBack();
      };
      hashing.then(settled, settled);
      res.write(bytes, settled);
    } else {
      res.write(bytes, giveBack);
    }
    readAhead();
    if (reads.length === 0 && nextRead <= range.end) {
      // Every buffer is in the socket's queue: wait until it gives one back (or the client leaves).
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('close', done);
          bufferReturned = undefined;
          resolve();
        };
        bufferReturned = done;
        res.once('close', done);
      });
      readAhead();
    }
  }
  await new Promise<void>((resolve, reject) => {
    res.end(() => resolve());
    res.once('error', reject);
  });
}
