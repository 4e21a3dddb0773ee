/**
 * Streams a byte range of a local file into an HTTP response with a few reused buffers. A buffer
 * goes back to the pool once the socket has taken its bytes, so a download allocates nothing per
 * chunk (no garbage to collect) and reads and writes overlap. About twice the throughput of a
 * plain file stream piped into the response.
 *
 * Large ranges are read with direct I/O into aligned buffers when the blob store offers them for
 * this pull: a large blob is written past the page cache (storage/blobs/direct-io.ts) and read
 * past it until it proves popular (storage/blobs/cache-admission.ts).
 */
import { constants } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { ByteRange } from '../storage/blobs/blob-store.ts';
import { DIRECT_IO_ALIGNMENT, closeFile, openDirect, openFd, readAt, type AlignedBufferPool } from '../storage/blobs/direct-io.ts';

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

export async function sendFile(res: ServerResponse, path: string, range: ByteRange, directBuffers?: AlignedBufferPool): Promise<void> {
  const source = await openSource(path, range, directBuffers);
  const reads = new Set<Promise<unknown>>();
  try {
    await stream(res, path, source, range, reads);
  } catch (error) {
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
async function stream(res: ServerResponse, path: string, source: Source, range: ByteRange, running: Set<Promise<unknown>>): Promise<void> {
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
    if (res.destroyed) return;
    const { buffer, position, bytesRead } = await reads.shift()!;
    const wanted = Math.min(buffer.byteLength, range.end - position + 1);
    if (bytesRead < wanted) throw new Error(`${path} ended before byte ${position + bytesRead}`);
    const from = Math.max(range.start - position, 0);
    res.write(buffer.subarray(from, wanted), () => {
      free.push(buffer);
      bufferReturned?.();
    });
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
