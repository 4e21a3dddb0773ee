/**
 * Direct I/O (O_DIRECT) for the bodies of large blobs: bytes go from a few reused buffers of ours
 * straight to the disk, and from the disk straight into them, without a copy through the page
 * cache. A large layer is written once and then read in full now and then, so caching it buys
 * little while filling the cache costs a copy per byte plus fresh memory: on a VM whose freed
 * memory goes back to the host, that fresh memory halves the write speed. Object stores such as
 * MinIO stream large objects past the page cache for the same reasons. Small blobs, which are read
 * often (configs, small layers), keep using the page cache, and so do large blobs once they are
 * pulled again and again (cache-admission.ts).
 *
 * O_DIRECT wants the memory address, the file offset and the length aligned to the device's block
 * size. Offsets and lengths are ours to align; the memory comes from `AlignedBufferPool`.
 */
import { constants, close, open, read, write } from 'node:fs';
import { promisify } from 'node:util';

/** Alignment for offsets, lengths and addresses: the page size, a multiple of every block size in use. */
export const DIRECT_IO_ALIGNMENT = 4096;

// The TypeScript libraries in use declare no WebAssembly; this is the one constructor needed here.
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => { buffer: SharedArrayBuffer };
};

const openFile = promisify(open);
const closeFile = promisify(close);
const writeAt = promisify(write);
const readInto = promisify(read);

/**
 * A fixed set of page-aligned buffers. Buffers that JavaScript allocates are not aligned, but V8
 * maps WebAssembly memory at a page boundary, so slices of one such memory at multiples of the
 * page size are. Only buffers in use are touched, so an idle pool costs address space, not RSS.
 * The memory is shared, so another thread can read a buffer in place (the upload hashing thread).
 */
export class AlignedBufferPool {
  readonly bufferBytes: number;
  /** The memory under every buffer of the pool. */
  readonly memory: SharedArrayBuffer;
  readonly #free: Buffer[];

  constructor(bufferBytes: number, count: number) {
    if (bufferBytes % DIRECT_IO_ALIGNMENT !== 0) throw new Error(`buffer size ${bufferBytes} is not a multiple of ${DIRECT_IO_ALIGNMENT}`);
    const wasmPageBytes = 65_536;
    const pages = Math.ceil((bufferBytes * count) / wasmPageBytes);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }).buffer;
    this.bufferBytes = bufferBytes;
    this.#free = Array.from({ length: count }, (_, index) => Buffer.from(this.memory, index * bufferBytes, bufferBytes));
  }

  /** Buffers free right now. */
  get available(): number {
    return this.#free.length;
  }

  /** `count` buffers, or none when fewer are free (the caller then takes the page-cache path). */
  take(count: number): Buffer[] | undefined {
    return this.#free.length >= count ? this.#free.splice(-count) : undefined;
  }

  give(buffers: readonly Buffer[]): void {
    this.#free.push(...buffers);
  }
}

/** Opens a file descriptor (a plain number: the callers close it with `closeFile`). */
export function openFd(path: string, flags: number, mode = 0o644): Promise<number> {
  return openFile(path, flags, mode);
}

/** Opens a file for direct I/O; `flags` are the usual O_* flags without O_DIRECT. */
export function openDirect(path: string, flags: number, mode = 0o644): Promise<number> {
  return openFile(path, flags | constants.O_DIRECT, mode);
}

/** Writes all of `data` at `position`, looping over short writes. */
export async function writeFully(fd: number, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.byteLength) {
    done += (await writeAt(fd, data, done, data.byteLength - done, position + done)).bytesWritten;
  }
}

/**
 * Reads up to `length` bytes at `position` into `buffer`; fewer only at the end of the file. On a
 * descriptor opened for direct I/O, the buffer, the length and the position must all be aligned.
 */
export async function readAt(fd: number, buffer: Buffer, length: number, position: number): Promise<number> {
  return (await readInto(fd, buffer, 0, length, position)).bytesRead;
}

/**
 * Whether the filesystem that holds `probePath` takes direct I/O: some refuse O_DIRECT at open (tmpfs),
 * others only at the first write. Probed once with a real aligned write.
 */
export async function supportsDirectIO(probePath: string, pool: AlignedBufferPool): Promise<boolean> {
  const buffers = pool.take(1);
  if (!buffers) return false;
  let fd: number | undefined;
  try {
    fd = await openDirect(probePath, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC);
    await writeFully(fd, buffers[0]!.subarray(0, DIRECT_IO_ALIGNMENT), 0);
    return true;
  } catch {
    return false;
  } finally {
    pool.give(buffers);
    if (fd !== undefined) await closeFile(fd).catch(() => undefined);
  }
}

export { closeFile };
