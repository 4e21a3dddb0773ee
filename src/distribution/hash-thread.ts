/**
 * A thread that hashes large upload bodies, so the event loop only receives them and copies them
 * into the blob store's aligned buffers. Hashing is the costliest step per byte of an upload; on
 * its own thread it runs beside the receiving instead of between one socket read and the next.
 *
 * Bytes that are already in the shared memory behind those buffers (direct-io.ts) are hashed in
 * place: the message names a region, and the caller keeps the region unchanged until the thread
 * acknowledges it. Other bytes travel as a copy. If the thread dies, every hash it held fails
 * (the upload service then re-hashes the staged bytes) and the next upload starts a new thread.
 */
import { Worker } from 'node:worker_threads';
import type { DigestAlgorithm } from '../content/digest.ts';
import type { RunningHash } from './running-hash.ts';

export type HashRequest = { ticket?: number } & (
  | { kind: 'start'; session: number; algorithm: DigestAlgorithm }
  | { kind: 'update'; session: number; offset: number; length: number }
  | { kind: 'copy'; session: number; bytes: Uint8Array }
  | { kind: 'digest'; session: number }
  | { kind: 'discard'; session: number }
);

export type HashReply = { ticket: number; hex?: string; error?: string };

/** Copied bytes the thread may have queued before the sender waits for it to catch up. */
const MAX_UNACKNOWLEDGED_COPY_BYTES = 8 * 1024 * 1024;

interface Waiter {
  resolve(hex: string | undefined): void;
  reject(error: Error): void;
}

export class HashThread {
  readonly memory: SharedArrayBuffer;
  #worker: Worker | undefined;
  #nextSession = 1;
  #nextTicket = 1;
  readonly #waiting = new Map<number, Waiter>();

  constructor(memory: SharedArrayBuffer) {
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

  #running(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL('./hash-thread-worker.mjs', import.meta.url), { workerData: { memory: this.memory } });
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
  #unacknowledgedCopyBytes = 0;

  constructor(thread: HashThread, worker: Worker, session: number, algorithm: DigestAlgorithm) {
    this.#thread = thread;
    this.#worker = worker;
    this.#session = session;
    this.algorithm = algorithm;
  }

  get usable(): boolean {
    return this.#thread.isRunning(this.#worker);
  }

  update(bytes: Uint8Array): Promise<void> | void {
    const session = this.#session;
    if (bytes.buffer === this.#thread.memory) {
      return this.#thread.post(this.#worker, { kind: 'update', session, offset: bytes.byteOffset, length: bytes.byteLength }, true)!.then(() => undefined);
    }
    // A copy of just these bytes, with a buffer of its own to transfer (Buffer#slice would share
    // memory, and cloning the view would copy the whole buffer under it).
    const copy = new Uint8Array(bytes);
    this.#unacknowledgedCopyBytes += copy.byteLength;
    const wait = this.#unacknowledgedCopyBytes >= MAX_UNACKNOWLEDGED_COPY_BYTES;
    if (wait) this.#unacknowledgedCopyBytes = 0;
    return this.#thread.post(this.#worker, { kind: 'copy', session, bytes: copy }, wait, [copy.buffer])?.then(() => undefined);
  }

  async digest(): Promise<string> {
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
}
