/**
 * Evaluation threads for policies that do not finish within their slice of the event loop (see
 * policy-engine.ts). Each thread evaluates one request at a time under the request's deadline;
 * the engine's budget stops an evaluation there, and a thread that still has not answered a
 * grace period later (a built-in stuck in work it does not count) is terminated and replaced, so
 * the deadline holds whatever the policy does. A thread's heap is capped: a policy that builds
 * too much kills its thread, not the registry, and the evaluation fails.
 */
import { Worker } from 'node:worker_threads';
import type { PolicyOutcome, PolicyProgram } from './policy-run.ts';

export interface ThreadRequest {
  readonly id: number;
  readonly program: PolicyProgram;
  /** The input document in JSON form. */
  readonly input: unknown;
  /** `Date.now()` time by which the evaluation must end. */
  readonly deadline: number;
  readonly maxSteps: number;
}

export type ThreadReply =
  | { readonly id: number; readonly outcome: PolicyOutcome; readonly error?: undefined }
  | { readonly id: number; readonly error: string }
  /** Sent once, when the thread has loaded the engine and takes requests. */
  | { readonly ready: true };

/** How long past its deadline a thread may take to answer before it is terminated. */
export const HARD_STOP_GRACE_MS = 100;
/** Heap of one thread: room for large inputs and values, far from what the registry can spare. */
export const THREAD_HEAP_MB = 512;

export interface ThreadOptions {
  /** Threads evaluating at once (default 1). */
  readonly threads?: number;
  readonly heapMb?: number;
  /** The threads' module (default policy-worker.ts); tests substitute misbehaving ones. */
  readonly script?: URL;
}

interface Job {
  readonly request: ThreadRequest;
  resolve(outcome: PolicyOutcome): void;
  reject(error: Error): void;
  /** Fires HARD_STOP_GRACE_MS past the deadline: the job fails, and its thread, if it has one, is stopped. */
  timer?: NodeJS.Timeout;
  thread?: Thread;
  done?: boolean;
}

interface Thread {
  readonly worker: Worker;
  /** Loaded and taking requests: a thread that is starting is not stopped for a job's deadline. */
  ready: boolean;
  job: Job | undefined;
}

export class PolicyThreads {
  readonly #size: number;
  readonly #heapMb: number;
  readonly #script: URL;
  readonly #threads = new Set<Thread>();
  readonly #queue: Job[] = [];
  #nextId = 1;
  #closed = false;

  constructor(options: ThreadOptions = {}) {
    this.#size = Math.max(1, options.threads ?? 1);
    this.#heapMb = options.heapMb ?? THREAD_HEAP_MB;
    this.#script = options.script ?? new URL('./policy-worker.ts', import.meta.url);
  }

  /** Starts a thread now, so that the first slow policy does not wait for one to start. */
  prepare(): void {
    if (!this.#closed && this.#threads.size === 0) this.#spawn();
  }

  /** Evaluates a program on a thread; rejects with the reason when it fails or passes its deadline. */
  run(program: PolicyProgram, input: unknown, deadline: number, maxSteps: number): Promise<PolicyOutcome> {
    if (this.#closed) return Promise.reject(new Error('policy evaluation threads are closed'));
    return new Promise<PolicyOutcome>((resolve, reject) => {
      const job: Job = { request: { id: this.#nextId++, program, input, deadline, maxSteps }, resolve, reject };
      // The thread's budget ends the evaluation at the deadline; this ends the job if it does not.
      job.timer = setTimeout(() => this.#overran(job), Math.max(0, deadline - Date.now()) + HARD_STOP_GRACE_MS);
      this.#queue.push(job);
      this.#dispatch();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) this.#finish(job, new Error('policy evaluation threads are closed'));
    const threads = [...this.#threads];
    this.#threads.clear();
    for (const thread of threads) if (thread.job) this.#finish(thread.job, new Error('policy evaluation threads are closed'));
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const idle = [...this.#threads].find((candidate) => candidate.ready && candidate.job === undefined);
      if (!idle) {
        if (this.#threads.size < this.#size) this.#spawn();
        return; // a thread is starting or busy: it takes the next job when ready or done
      }
      const job = this.#queue.shift()!;
      if (Date.now() >= job.request.deadline) {
        this.#finish(job, new Error('evaluation exceeded the time limit (it waited for a thread until its deadline)'));
        continue;
      }
      idle.job = job;
      job.thread = idle;
      try {
        idle.worker.postMessage(job.request);
      } catch (error) {
        // An input that cannot be posted (it is not JSON-like) fails this evaluation only.
        idle.job = undefined;
        this.#finish(job, error as Error);
      }
    }
  }

  #spawn(): Thread {
    const worker = new Worker(this.#script, {
      resourceLimits: { maxOldGenerationSizeMb: this.#heapMb },
    });
    worker.unref();
    const thread: Thread = { worker, ready: false, job: undefined };
    this.#threads.add(thread);
    worker.on('message', (reply: ThreadReply) => {
      if ('ready' in reply) {
        thread.ready = true;
        this.#dispatch();
        return;
      }
      const job = thread.job;
      if (!job || job.request.id !== reply.id) return;
      thread.job = undefined;
      if (reply.error === undefined) this.#finish(job, undefined, reply.outcome);
      else this.#finish(job, new Error(reply.error));
      this.#dispatch();
    });
    worker.on('error', (error) => this.#lost(thread, error.message.includes('out of memory') || (error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY'
      ? new Error('evaluation exceeded the memory limit of its thread')
      : new Error(`evaluation thread failed: ${error.message}`)));
    worker.on('exit', () => this.#lost(thread, new Error('evaluation thread stopped')));
    return thread;
  }

  /**
   * A job past its deadline and the grace period: on a thread, the thread did not stop it, so the
   * thread is terminated; still waiting (for a thread to start or to finish another job), it
   * fails without one.
   */
  #overran(job: Job): void {
    if (job.done) return;
    const thread = job.thread;
    if (thread && thread.job === job) {
      this.#lost(thread, new Error(`evaluation exceeded the time limit (stopped ${HARD_STOP_GRACE_MS} ms past the deadline)`));
      void thread.worker.terminate();
      return;
    }
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) this.#queue.splice(queued, 1);
    this.#finish(job, new Error('evaluation exceeded the time limit (it waited for a thread until its deadline)'));
  }

  /** A thread that died or was stopped: its evaluation fails with `reason`; a replacement starts. */
  #lost(thread: Thread, reason: Error): void {
    if (!this.#threads.delete(thread)) return;
    const job = thread.job;
    thread.job = undefined;
    if (job) this.#finish(job, reason);
    if (this.#closed) return;
    if (!thread.ready) {
      // It never started: the jobs waiting for it fail now rather than start thread after thread.
      for (const waiting of this.#queue.splice(0)) this.#finish(waiting, new Error(`evaluation thread did not start: ${reason.message}`));
      return;
    }
    // A replacement starts now, so that the next slow policy does not wait for one to start.
    this.prepare();
    this.#dispatch();
  }

  #finish(job: Job, error: Error | undefined, outcome?: PolicyOutcome): void {
    if (job.done) return;
    job.done = true;
    clearTimeout(job.timer);
    if (error) job.reject(error);
    else job.resolve(outcome!);
  }
}
