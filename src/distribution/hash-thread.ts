/**
 * A thread that hashes large upload bodies, so the event loop only receives them and hands them
 * to the blob store. Hashing is the costliest step per byte of an upload; on its own thread it
 * runs beside the receiving instead of between one socket read and the next (256 MiB uploads
 * through the page cache, both builds measured side by side over 12 rounds: monolithic 621 -> 691
 * MB/s, in 8 MiB chunks 334 -> 507 MB/s, medians).
 *
 * Bytes that are already in the shared memory behind the store's direct-I/O buffers
 * (direct-io.ts) are hashed in place: the message names a region, and the caller keeps the region
 * unchanged until the thread acknowledges it. Other bytes (a body on the page-cache path, the
 * unaligned head of a direct one) are copied into a few scratch slots of a second shared memory,
 * each reused once the thread has hashed it. Nothing is transferred: a transferred copy would be
 * garbage in the thread's own heap, which allocates too little to collect it often, and
 * thousands of them piled up as memory.
 * If the thread dies, every hash it held fails (the upload service then re-hashes the staged
 * bytes) and the next upload starts a new thread.
 */
import { Worker } from 'node:worker_threads';
import type { DigestAlgorithm } from '../content/digest.ts';
import type { RunningHash } from './running-hash.ts';

export type HashRequest = { ticket?: number } & (
  | { kind: 'start'; session: number; algorithm: DigestAlgorithm }
  | { kind: 'update'; session: number; offset: number; length: number }
  | { kind: 'scratch'; session: number; offset: number; length: number }
  | { kind: 'digest'; session: number }
  | { kind: 'discard'; session: number }
);

export type HashReply = { ticket: number; hex?: string; error?: string };

/**
 * Scratch slots for copied bytes, shared by every session: enough to keep the thread busy (a
 * socket delivers up to 64 KiB at a time), and a bound on the memory copies can take.
 */
const SCRATCH_SLOT_BYTES = 128 * 1024;
const SCRATCH_SLOTS = 32;

interface Waiter {
  resolve(hex: string | undefined): void;
  reject(error: Error): void;
}

export class HashThread {
  readonly memory: SharedArrayBuffer;
  readonly #scratch = new SharedArrayBuffer(SCRATCH_SLOT_BYTES * SCRATCH_SLOTS);
  readonly #freeSlots = Array.from({ length: SCRATCH_SLOTS }, (_, index) => index * SCRATCH_SLOT_BYTES);
  readonly #slotWaiters: (() => void)[] = [];
  #worker: Worker | undefined;
  #nextSession = 1;
  #nextTicket = 1;
  readonly #waiting = new Map<number, Waiter>();

  /** `memory`: the shared buffers whose regions are hashed in place; without it, every byte is copied. */
  constructor(memory: SharedArrayBuffer = new SharedArrayBuffer(0)) {
    this.memory = memory;
  }

  /** Starts the thread now, so that the first large upload does not wait for it. */
  prepare(): void {
    this.#running();
  }

  start(algorithm: DigestAlgorithm): RunningHash {
    const worker = this.#running();
    const session = this.#nextSession++;
    worker.postMessage({ kind: 'start', session, algorithm } satisfies HashRequest);
    return new ThreadHash(this, worker, session, algorithm);
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  /** Whether `worker` is still this thread's worker (not stopped, not replaced). */
  isRunning(worker: Worker): boolean {
    return worker === this.#worker;
  }

  /** Posts a request; with `acknowledge`, resolves when the thread has handled it (to its hex result, if any). */
  post(worker: Worker, request: HashRequest, acknowledge: boolean, transfer: ArrayBuffer[] = []): Promise<string | undefined> | undefined {
    if (!this.isRunning(worker)) throw new Error('the hashing thread stopped while this upload was running');
    if (!acknowledge) {
      worker.postMessage(request, transfer);
      return undefined;
    }
    const ticket = this.#nextTicket++;
    const reply = new Promise<string | undefined>((resolve, reject) => this.#waiting.set(ticket, { resolve, reject }));
    worker.postMessage({ ...request, ticket }, transfer);
    return reply;
  }

  /**
   * Copies `bytes` into scratch slots and asks the thread to hash them there. Returns a promise
   * only when it had to wait for a free slot; the bytes are consumed either way (dropped when the
   * thread stopped meanwhile: the hash is lost then, and its digest fails).
   */
  copy(worker: Worker, session: number, bytes: Uint8Array): Promise<void> | undefined {
    if (!this.isRunning(worker)) return undefined;
    let rest = bytes;
    while (rest.byteLength > 0) {
      const offset = this.#freeSlots.pop();
      if (offset === undefined) return this.#slotFreed().then(() => this.copy(worker, session, rest));
      const length = Math.min(rest.byteLength, SCRATCH_SLOT_BYTES);
      new Uint8Array(this.#scratch, offset, length).set(rest.subarray(0, length));
      rest = rest.subarray(length);
      const hashed = this.post(worker, { kind: 'scratch', session, offset, length }, true)!;
      // A failure shows at digest (the thread is gone); here the slot only has to come back.
      hashed.catch(() => undefined).finally(() => this.#releaseSlot(offset));
    }
    return undefined;
  }

  #slotFreed(): Promise<void> {
    return new Promise((resolve) => this.#slotWaiters.push(resolve));
  }

  #releaseSlot(offset: number): void {
    this.#freeSlots.push(offset);
    this.#slotWaiters.shift()?.();
  }

  #running(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL('./hash-thread-worker.mjs', import.meta.url), { workerData: { memory: this.memory, scratch: this.#scratch } });
    worker.unref();
    worker.on('message', (reply: HashReply) => this.#settle(reply));
    const stopped = (error: Error) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const waiter of this.#waiting.values()) waiter.reject(error);
      this.#waiting.clear();
    };
    worker.on('error', stopped);
    worker.on('exit', (code) => stopped(new Error(`the hashing thread exited with code ${code}`)));
    this.#worker = worker;
    return worker;
  }

  #settle(reply: HashReply): void {
    const waiter = this.#waiting.get(reply.ticket);
    this.#waiting.delete(reply.ticket);
    if (reply.error !== undefined) waiter?.reject(new Error(reply.error));
    else waiter?.resolve(reply.hex);
  }
}

class ThreadHash implements RunningHash {
  readonly algorithm: DigestAlgorithm;
  readonly #thread: HashThread;
  readonly #worker: Worker;
  readonly #session: number;
  /**
   * Set while bytes of this hash wait for a scratch slot: what comes next (bytes or the digest)
   * queues behind them, so the thread sees this hash's bytes in order.
   */
  #unposted: Promise<void> | undefined;

  constructor(thread: HashThread, worker: Worker, session: number, algorithm: DigestAlgorithm) {
    this.#thread = thread;
    this.#worker = worker;
    this.#session = session;
    this.algorithm = algorithm;
  }

  get usable(): boolean {
    return this.#thread.isRunning(this.#worker);
  }

  /**
   * Once the thread is gone, bytes are dropped and the returned promise still resolves (the region
   * is free to reuse): the body keeps streaming into the store, and `digest` fails, which makes the
   * upload service hash the staged bytes again. An upload outlives its hashing thread.
   */
  update(bytes: Uint8Array): Promise<void> | void {
    if (this.#unposted) return this.#hold(this.#unposted.then(() => this.#send(bytes)));
    const sending = this.#send(bytes);
    // A region in place is posted at once (its promise is the thread's acknowledgement); a copy
    // that returns a promise is still waiting for a slot.
    return sending && bytes.buffer !== this.#thread.memory ? this.#hold(sending) : sending;
  }

  async digest(): Promise<string> {
    await this.#unposted;
    const hex = await this.#thread.post(this.#worker, { kind: 'digest', session: this.#session }, true);
    if (hex === undefined) throw new Error('the hashing thread returned no digest');
    return hex;
  }

  discard(): void {
    try {
      this.#thread.post(this.#worker, { kind: 'discard', session: this.#session }, false);
    } catch {
      // The thread is gone, and the hash with it.
    }
  }

  #send(bytes: Uint8Array): Promise<void> | undefined {
    if (!this.usable) return undefined;
    if (bytes.buffer !== this.#thread.memory) return this.#thread.copy(this.#worker, this.#session, bytes);
    const region = { kind: 'update', session: this.#session, offset: bytes.byteOffset, length: bytes.byteLength } as const;
    return this.#thread.post(this.#worker, region, true)!.then(() => undefined, () => undefined);
  }

  /** Holds later requests of this hash until `posting` settles. */
  #hold(posting: Promise<void | undefined>): Promise<void> {
    const settled = posting.then(() => undefined, () => undefined);
    this.#unposted = settled;
    void settled.then(() => {
      if (this.#unposted === settled) this.#unposted = undefined;
    });
    return settled;
  }
}
