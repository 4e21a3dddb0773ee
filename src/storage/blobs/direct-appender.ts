/**
 * Appends one body to a staged file, the bulk of a large body with direct I/O.
 *
 * Incoming chunks are copied into one of two aligned buffers; a full buffer is written with
 * O_DIRECT while the next one fills, so the disk and the network work at the same time. What
 * cannot be written directly goes through the page cache with ordinary positional writes on a
 * second descriptor: the bytes before the first aligned offset (when a chunked upload resumes
 * mid-block), the unaligned tail, and the whole of a body smaller than one buffer (small blobs are
 * the ones read often, so they belong in the cache). The kernel keeps the two paths coherent.
 *
 * The observer (the upload's hash) sees the head bytes as they come and each buffer when it is
 * written; a buffer is reused only once both its write and its observer are done, so a hash on
 * another thread can read it in place.
 */
import { constants } from 'node:fs';
import type { BodyObserver } from './blob-store.ts';
import { DIRECT_IO_ALIGNMENT, closeFile, openDirect, openFd, writeFully } from './direct-io.ts';

export class DirectAppender {
  readonly #path: string;
  readonly #observe: BodyObserver;
  #plain: number | undefined;
  #direct: number | undefined;
  #current: Buffer;
  #spare: Buffer;
  #filled = 0;
  /** File offset of `#current[0]` (or, while `#head` > 0, of the next head byte). */
  #position: number;
  /** Bytes still to write through the page cache before the position is aligned. */
  #head: number;
  #inFlight: Promise<void> | undefined;

  private constructor(path: string, plain: number, offset: number, buffers: readonly [Buffer, Buffer], observe: BodyObserver) {
    this.#path = path;
    this.#observe = observe;
    this.#plain = plain;
    this.#position = offset;
    this.#head = (DIRECT_IO_ALIGNMENT - (offset % DIRECT_IO_ALIGNMENT)) % DIRECT_IO_ALIGNMENT;
    [this.#current, this.#spare] = buffers;
  }

  static async open(path: string, offset: number, buffers: readonly [Buffer, Buffer], observe: BodyObserver = () => undefined): Promise<DirectAppender> {
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

  /** Writes what is left; resolves to the file size reached. */
  async finish(): Promise<number> {
    await this.#inFlight;
    const pending = this.#current.subarray(0, this.#filled);
    await this.#observe(pending);
    // A body that never filled a buffer is small: it goes to the page cache whole.
    const direct = this.#direct === undefined ? 0 : this.#filled - (this.#filled % DIRECT_IO_ALIGNMENT);
    if (direct > 0) await writeFully(this.#direct!, pending.subarray(0, direct), this.#position);
    if (direct < pending.byteLength) await writeFully(this.#plain!, pending.subarray(direct), this.#position + direct);
    this.#position += pending.byteLength;
    this.#filled = 0;
    return this.#position;
  }

  /** Closes the descriptors after waiting for any write still running; safe to call twice. */
  async close(): Promise<void> {
    await this.#inFlight?.catch(() => undefined);
    this.#inFlight = undefined;
    const descriptors = [this.#plain, this.#direct].filter((fd) => fd !== undefined);
    this.#plain = this.#direct = undefined;
    await Promise.all(descriptors.map((fd) => closeFile(fd).catch(() => undefined)));
  }

  async #writeFullBuffer(): Promise<void> {
    await this.#inFlight;
    this.#direct ??= await openDirect(this.#path, constants.O_WRONLY);
    const full = this.#current;
    this.#inFlight = Promise.all([this.#observe(full), writeFully(this.#direct, full, this.#position)]).then(() => undefined);
    // Awaited by the next flush, `finish` or `close`; this only keeps it from counting as unhandled.
    this.#inFlight.catch(() => undefined);
    this.#position += full.byteLength;
    this.#current = this.#spare;
    this.#spare = full;
    this.#filled = 0;
  }
}
