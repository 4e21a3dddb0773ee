// Process plumbing shared by the Wharf harness and the reference-registry launcher: free ports,
// bounded waits, stderr capture for failure messages, and a stop that never hangs.
import { createServer } from 'node:net';
import type { ChildProcess } from 'node:child_process';

/** What a stopped server reported when it exited. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A registry process started for a test or the benchmark. */
export interface RunningRegistry {
  /** Base URL without trailing slash, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** `127.0.0.1:PORT`, the form skopeo and buildah want in image references. */
  host: string;
  dataDir: string;
  pid: number;
  /** Text the process wrote to stderr so far (bounded), for failure messages. */
  stderrTail(): string;
  /** SIGTERM, wait for exit (SIGKILL after a grace period), then remove owned temp dirs. */
  stop(): Promise<ExitStatus>;
}

const STDERR_KEEP_BYTES = 64 * 1024;

/** Keeps the last STDERR_KEEP_BYTES of a child's stderr; draining it also stops the pipe filling. */
export function captureStderr(child: ChildProcess): () => string {
  let kept = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    kept += chunk;
    if (kept.length > STDERR_KEEP_BYTES) kept = kept.slice(-STDERR_KEEP_BYTES);
  });
  return () => kept;
}

/** Asks the OS for a port that is free right now (a tiny race remains; fine on loopback). */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** True once the child has exited, or when it never started (a failed spawn leaves no pid). */
export function hasEnded(child: ChildProcess): boolean {
  return child.pid === undefined || child.exitCode !== null || child.signalCode !== null;
}

/** Resolves with the exit status once the child has exited (immediately if it already has). */
export function waitForExit(child: ChildProcess): Promise<ExitStatus> {
  if (hasEnded(child)) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // A process that could not be spawned at all (ENOENT, EACCES) emits 'error' and never 'exit'.
    child.once('error', () => resolve({ code: child.exitCode, signal: child.signalCode }));
  });
}

/**
 * Records a spawn failure instead of letting an unhandled 'error' event crash the test process;
 * the returned function gives the failure's message, or '' when there was none.
 */
export function captureSpawnError(child: ChildProcess): () => string {
  let failure = '';
  child.on('error', (error) => {
    failure = error.message;
  });
  return () => failure;
}

/** SIGTERM first so graceful shutdown is exercised; SIGKILL only if the grace period runs out. */
export async function terminate(child: ChildProcess, graceMs = 10_000): Promise<ExitStatus> {
  const exited = waitForExit(child);
  if (!hasEnded(child)) child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
  });
  const first = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  if (first !== 'timeout') return first;
  child.kill('SIGKILL');
  return exited;
}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Registers a child to be killed if this process exits without stopping it (a failed assertion,
 * a crashed test file), so no registry outlives the test run and holds a port or a temp dir.
 */
export function killOnExit(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const orphan of liveChildren) orphan.kill('SIGKILL');
  });
}

/** Polls `url` until it answers with `expectedStatus`, the child dies, or the deadline passes. */
export async function waitForHttpStatus(
  url: string,
  expectedStatus: number,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    if (hasEnded(child)) {
      throw new Error(`process ended (code ${child.exitCode}, signal ${child.signalCode}) before ${url} answered`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.status === expectedStatus) return;
      lastProblem = `status ${response.status}`;
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer ${expectedStatus} within ${timeoutMs} ms (${lastProblem})`);
}
