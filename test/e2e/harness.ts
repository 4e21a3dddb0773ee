// Starts a real Wharf server (`src/cli/main.ts serve`) on a free loopback port with a fresh temp
// data dir, for end-to-end tests, HTTP-level tests and the benchmark.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { captureSpawnError, captureStderr, killOnExit, terminate, waitForExit } from './child-lifecycle.ts';
import type { RunningRegistry } from './child-lifecycle.ts';
import { metadataEnvForTest } from '../support/postgres-mode.ts';

export type { ExitStatus, RunningRegistry } from './child-lifecycle.ts';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const PINNED_NODE = join(REPO_ROOT, 'node_modules', '.bin', 'node');
const WHARF_MAIN = join(REPO_ROOT, 'src', 'cli', 'wharf.mjs');
const READY_LINE = /^wharf listening on (https?:\/\/(127\.0\.0\.1:\d+))\s*$/;

export interface StartWharfOptions {
  /** Reuse this data dir (it is then not removed by stop()); default: a fresh temp dir. */
  dataDir?: string;
  /** Extra arguments after `serve --listen … --data …`. */
  extraArgs?: string[];
  /** Extra environment variables (e.g. `WHARF_*` settings). */
  env?: Record<string, string>;
  /** How long to wait for the ready line; generous because the machine is shared. */
  startupTimeoutMs?: number;
}

/**
 * Spawns Wharf and resolves once it printed `wharf listening on http://127.0.0.1:PORT`.
 * Rejects with the server's stderr if it exits or stays silent past the startup timeout.
 */
export async function startWharf(options: StartWharfOptions = {}): Promise<RunningRegistry> {
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'wharf-e2e-')));
  const args = [WHARF_MAIN, 'serve', '--listen', '127.0.0.1:0', '--data', dataDir, ...(options.extraArgs ?? [])];
  const child = spawn(PINNED_NODE, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...(await metadataEnvForTest(dataDir, options.env)), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  const spawnError = captureSpawnError(child);
  const stderrTail = captureStderr(child);
  const removeOwnedDir = async (): Promise<void> => {
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
  };

  let address: { url: string; host: string };
  try {
    address = await waitForReadyLine(child, options.startupTimeoutMs ?? 20_000);
  } catch (error) {
    await terminate(child, 2_000);
    await removeOwnedDir();
    const reason = [error instanceof Error ? error.message : String(error), spawnError()].filter(Boolean).join('; ');
    throw new Error(`wharf did not start: ${reason}\n--- wharf stderr ---\n${stderrTail() || '(empty)'}`);
  }

  return {
    ...address,
    dataDir,
    pid: child.pid ?? -1,
    stderrTail,
    async stop() {
      const status = await terminate(child);
      await removeOwnedDir();
      return status;
    },
  };
}

/** Reads stdout line by line until the ready line; later lines keep being drained. */
function waitForReadyLine(
  child: ReturnType<typeof spawn>,
  timeoutMs: number,
): Promise<{ url: string; host: string }> {
  if (child.stdout === null) return Promise.reject(new Error('no stdout pipe'));
  const lines = createInterface({ input: child.stdout });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within ${timeoutMs} ms`)), timeoutMs);
    lines.on('line', (line) => {
      const match = READY_LINE.exec(line);
      if (match === null) return;
      clearTimeout(timer);
      resolvePromise({ url: match[1]!, host: match[2]! });
    });
    void waitForExit(child).then((status) => {
      clearTimeout(timer);
      reject(new Error(`exited before ready (code ${status.code}, signal ${status.signal})`));
    });
  });
}
