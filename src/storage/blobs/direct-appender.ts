/**
 * Appends one body to a staged file, the bulk of a large body with direct I/O.
 *
 * Incoming chunks are copied into aligned buffers taken in turn from a small ring; a full buffer
 * is written with O_DIRECT while the next ones fill, so the disk and the network work at the same
 * time. What cannot be written directly goes through the page cache with ordinary positional
 * writes on a second descriptor: the bytes before the first aligned offset (when a chunked upload
 * resumes mid-block), the unaligned tail, and the whole of a body smaller than one buffer (small
 * blobs are the ones read often, so they belong in the cache). The kernel keeps the two paths
 * coherent.
 *
 * The observer (the upload's hash) sees the head bytes as they come and each buffer when it is
 * written. A buffer is reused only once both its write and its observer are done, so a hash on
 * another thread can read it in place. `finish` waits for the writes only: the staged size is
 * then true, and the hash may catch up while the response goes out (`release` hands the buffers
 * back once it has).
 */
import { constants } from 'node:fs';
import type { BodyObserver } from './blob-store.ts';
import { DIRECT_IO_ALIGNMENT, closeFile, openDirect, openFd, writeFully } from './direct-io.ts';

interface BusyBuffer {
  readonly buffer: Buffer;
  readonly written: Promise<void>;
  readonly observed: Promise<void>;
}

export class DirectAppender {
  readonly #path: string;
  readonly #observe: BodyObserver;
  #plain: number | undefined;
  #direct: number | undefined;
  readonly #free: Buffer[];
  readonly #busy: BusyBuffer[] = [];
  #current: Buffer;
  #filled = 0;
  /** File offset of `#current[0]` (or, while `#head` > 0, of the next head byte). */
  #position: number;
  /** Bytes still to write through the page cache before the position is aligned. */
  #head: number;

  private constructor(path: string, plain: number, offset: number, buffers: readonly Buffer[], observe: BodyObserver) {
    if (buffers.length < 2) throw new Error('a direct appender needs at least two buffers');
    this.#path = path;
    this.#observe = observe;
    this.#plain = plain;
    this.#position = offset;
    this.#head = (DIRECT_IO_ALIGNMENT - (offset % DIRECT_IO_ALIGNMENT)) % DIRECT_IO_ALIGNMENT;
    this.#free = [...buffers];
    this.#current = this.#free.pop()!;
  }

  static async open(path: string, offset: number, buffers: readonly Buffer[], observe: BodyObserver = () => undefined): Promise<DirectAppender> {
    return new DirectAppender(path, await openFd(path, constants.O_WRONLY | constants.O_CREAT), offset, buffers, observe);
  }

  async write(chunk: Uint8Array): Promise<void> {
    let rest = chunk;
    if (this.#head > 0) {
      const headBytes = Math.min(this.#head, rest.byteLength);
      const head = rest.subarray(0, headBytes);
      await this.#observe(head);
      await writeFully(this.#plain!, head, this.#position);
      this.#position += headBytes;
      this.#head -= headBytes;
      rest = rest.subarray(headBytes);
    }
    while (rest.byteLength > 0) {
      const copied = Math.min(rest.byteLength, this.#current.byteLength - this.#filled);
      this.#current.set(rest.subarray(0, copied), this.#filled);
      this.#filled += copied;
      rest = rest.subarray(copied);
      if (this.#filled === this.#current.byteLength) await this.#writeFullBuffer();
    }
  }

  /** Writes what is left and waits for every write; resolves to the file size reached. */
  async finish(): Promise<number> {
    const pending = this.#current.subarray(0, this.#filled);
    // A body that never filled a buffer is small: it goes to the page cache whole.
    const direct = this.#direct === undefined ? 0 : this.#filled - (this.#filled % DIRECT_IO_ALIGNMENT);
    if (pending.byteLength > 0) this.#track(this.#current, pending, direct > 0 ? this.#direct : undefined);
    if (direct < pending.byteLength) {
      await writeFully(this.#plain!, pending.subarray(direct), this.#position + direct);
    }
    this.#position += pending.byteLength;
    this.#filled = 0;
    await Promise.all(this.#busy.map((busy) => busy.written));
    return this.#position;
  }

  /** Closes the descriptors once no write is running; safe to call twice. */
  async close(): Promise<void> {
    await Promise.allSettled(this.#busy.map((busy) => busy.written));
    const descriptors = [this.#plain, this.#direct].filter((fd) => fd !== undefined);
    this.#plain = this.#direct = undefined;
    await Promise.all(descriptors.map((fd) => closeFile(fd).catch(() => undefined)));
  }

  /** Every buffer, once its write and its observer are done (whether they succeeded or not). */
  async release(): Promise<Buffer[]> {
    await Promise.allSettled(this.#busy.flatMap((busy) => [busy.written, busy.observed]));
    const buffers = [...this.#free, ...this.#busy.map((busy) => busy.buffer)];
    if (!buffers.includes(this.#current)) buffers.push(this.#current);
    this.#busy.length = 0;
    return buffers;
  }

  async #writeFullBuffer(): Promise<void> {
    this.#direct ??= await openDirect(this.#path, constants.O_WRONLY);
    this.#track(this.#current, this.#current, this.#direct);
    this.#position += this.#current.byteLength;
    this.#filled = 0;
    this.#current = await this.#nextFreeBuffer();
  }

  /** Starts observing `bytes` (the start of `buffer`), and writing them directly when `fd` is given. */
  #track(buffer: Buffer, bytes: Buffer, fd: number | undefined): void {
    const length = fd === undefined ? 0 : bytes.byteLength - (bytes.byteLength % DIRECT_IO_ALIGNMENT);
    const written = length > 0 ? writeFully(fd!, bytes.subarray(0, length), this.#position) : Promise.resolve();
    const observed = (async () => this.#observe(bytes))();
    // Both are awaited later (by the next buffer turn, `finish`, `close` or `release`); these
    // handlers only keep a failure from counting as unhandled in the meantime.
    written.catch(() => undefined);
    observed.catch(() => undefined);
    this.#busy.push({ buffer, written, observed });
  }

  async #nextFreeBuffer(): Promise<Buffer> {
    const free = this.#free.pop();
    if (free) return free;
    const oldest = this.#busy.shift()!;
    await Promise.all([oldest.written, oldest.observed]);
    return oldest.buffer;
  }
}
