/**
 * Resumable SHA-256 on a thread of its own. The JavaScript hash is several times slower than
 * node:crypto; on the event loop it would stall the sockets that carry the upload to S3 while it
 * runs, on its own thread it runs beside them. One thread serves every upload of a store; its
 * messages are handled in order, so each session sees its bytes in order.
 */
import { Worker } from 'node:worker_threads';
import type { Sha256State } from './resumable-sha256.ts';
import type { Sha256ThreadReply, Sha256ThreadRequest } from './sha256-thread-worker.ts';

export class Sha256Thread {
  #worker: Worker | undefined;
  #nextSession = 1;
  #nextTicket = 1;
  readonly #waiting = new Map<number, { resolve(state: Sha256State): void; reject(error: Error): void }>();

  /** A session that goes on from `state`. */
  start(state: Sha256State): Sha256Session {
    const worker = this.#running();
    const session = this.#nextSession++;
    worker.postMessage({ kind: 'start', session, state } satisfies Sha256ThreadRequest);
    return new Sha256Session(this, worker, session);
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  /** @internal */
  post(worker: Worker, request: Sha256ThreadRequest, transfer: ArrayBuffer[] = []): void {
    if (worker !== this.#worker) throw new Error('the SHA-256 thread stopped while this upload was running');
    worker.postMessage(request, transfer);
  }

  /** @internal */
  save(worker: Worker, session: number): Promise<Sha256State> {
    const ticket = this.#nextTicket++;
    const reply = new Promise<Sha256State>((resolve, reject) => this.#waiting.set(ticket, { resolve, reject }));
    this.post(worker, { kind: 'save', session, ticket });
    return reply;
  }

  #running(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL('./sha256-thread-worker.ts', import.meta.url));
    worker.unref();
    worker.on('message', (reply: Sha256ThreadReply) => {
      const waiter = this.#waiting.get(reply.ticket);
      this.#waiting.delete(reply.ticket);
      if (reply.state) waiter?.resolve(reply.state);
      else waiter?.reject(new Error(reply.error ?? 'the SHA-256 thread returned no state'));
    });
    const stopped = (error: Error) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const waiter of this.#waiting.values()) waiter.reject(error);
      this.#waiting.clear();
    };
    worker.on('error', stopped);
    worker.on('exit', (code) => stopped(new Error(`the SHA-256 thread exited with code ${code}`)));
    this.#worker = worker;
    return worker;
  }
}

export class Sha256Session {
  readonly #thread: Sha256Thread;
  readonly #worker: Worker;
  readonly #session: number;

  constructor(thread: Sha256Thread, worker: Worker, session: number) {
    this.#thread = thread;
    this.#worker = worker;
    this.#session = session;
  }

  /** Hashes a copy of `bytes` on the thread; the caller may reuse them at once. */
  update(bytes: Uint8Array): void {
    const copy = new Uint8Array(bytes);
    this.#thread.post(this.#worker, { kind: 'update', session: this.#session, bytes: copy }, [copy.buffer]);
  }

  /** The state after every byte given so far. */
  save(): Promise<Sha256State> {
    return this.#thread.save(this.#worker, this.#session);
  }

  end(): void {
    try {
      this.#thread.post(this.#worker, { kind: 'end', session: this.#session });
    } catch {
      // The thread is gone, and the session with it.
    }
  }
}
