/**
 * The data folder of a running server: created when missing, checked for writability with a
 * message that names the path and the reason, and locked so that a second server on the same
 * folder refuses to start (two would each cache tags and answer from stale state).
 *
 * The lock is a file, `<data>/wharf.lock`, created exclusively and holding the owner's PID, host
 * name, the boot it started in and its start time. A lock whose owner is gone (kill -9, a crash, a
 * reboot) is stale and taken over at once; comparing the start time catches a PID that was reused
 * meanwhile. The PID of a server on another host, or in another container (its own PID and UTS
 * namespaces), cannot be checked from here: the owner refreshes the file's modification time
 * every few seconds, and such a lock counts as held until it has gone unrefreshed for a while.
 */
import { mkdir, open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { DataFolderError } from './storage-errors.ts';

export const LOCK_FILE = 'wharf.lock';
/** How often the owner refreshes its lock, and how long a lock of another host may go unrefreshed before it is stale. */
const HEARTBEAT_MS = 5_000;
export const FOREIGN_LOCK_STALE_MS = 30_000;

interface LockOwner {
  readonly pid: number;
  readonly host?: string;
  /** Linux boot id: a lock from an earlier boot is stale whatever its PID. */
  readonly boot?: string;
  /** Start time of the process in clock ticks since boot (Linux), to tell a reused PID apart. */
  readonly started?: number;
}

export interface DataFolder {
  readonly path: string;
  /** Gives the lock up (at shutdown); safe to call twice. */
  release(): Promise<void>;
}

/** Creates (if needed) and locks the data folder at `path`, or throws a DataFolderError saying why it cannot be used. */
export async function openDataFolder(path: string): Promise<DataFolder> {
  await createFolder(path);
  const info = await stat(path).catch((error: unknown) => { throw unusable(path, error, 'cannot read it'); });
  if (!info.isDirectory()) throw new DataFolderError(`data folder ${path} is not a folder`);
  const lockPath = join(path, LOCK_FILE);
  const me = currentProcess();
  for (let attempt = 0; attempt < 3; attempt++) {
    const created = await createLock(lockPath, me).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw unusable(path, error, 'cannot create its lock file');
    });
    if (created) {
      const heartbeat = setInterval(() => {
        const now = new Date();
        utimes(lockPath, now, now).catch(() => undefined);
      }, HEARTBEAT_MS).unref();
      return {
        path,
        release: onceOnly(async () => {
          clearInterval(heartbeat);
          await releaseLock(lockPath, me);
        }),
      };
    }
    const text = await readFile(lockPath, 'utf8').catch(() => undefined);
    const refreshed = await stat(lockPath).then((lock) => lock.mtimeMs, () => undefined);
    if (text === undefined || refreshed === undefined) continue; // released meanwhile: try again
    const owner = parseOwner(text);
    if (owner && isLocal(owner, me) && isAlive(owner)) {
      throw new DataFolderError(`data folder ${path} is in use by another wharf server (PID ${owner.pid}, lock file ${lockPath}); `
        + 'stop that server first, or remove the lock file if no such process runs');
    }
    const quietFor = Date.now() - refreshed;
    if (owner && !isLocal(owner, me) && quietFor < FOREIGN_LOCK_STALE_MS) {
      throw new DataFolderError(`data folder ${path} is in use by another wharf server (PID ${owner.pid} on host ${owner.host ?? 'unknown'}, `
        + `lock file ${lockPath}, refreshed ${Math.round(quietFor / 1000)} s ago); stop that server first, or wait: `
        + `a lock left unrefreshed for ${FOREIGN_LOCK_STALE_MS / 1000} s is taken over`);
    }
    // Stale (its owner is gone, or it is unreadable after a crash mid-write): take it over,
    // unless another starting server did so since it was read.
    if ((await readFile(lockPath, 'utf8').catch(() => undefined)) === text) {
      await unlink(lockPath).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw unusable(path, error, `cannot remove the stale lock file ${lockPath}`);
      });
    }
  }
  throw new DataFolderError(`data folder ${path}: could not take its lock file ${lockPath}; is another wharf server starting on it?`);
}

/**
 * `mkdir -p`, with the real reason when it fails: a recursive mkdir reports ENOENT for a parent
 * on a read-only filesystem, so the first missing level is created alone to learn why not.
 */
export async function createFolder(path: string, label = 'data folder'): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
  } catch (error) {
    let missing = path;
    while (dirname(missing) !== missing && !(await exists(dirname(missing)))) missing = dirname(missing);
    const reason = await mkdir(missing).then(() => error, (direct: unknown) => direct);
    throw unusable(path, reason, missing === path ? 'cannot create it' : `cannot create ${missing}`, label);
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** A DataFolderError naming `path` and, for permission problems, the reason in plain words. */
export function unusable(path: string, error: unknown, what: string, label = 'data folder'): DataFolderError {
  const code = (error as NodeJS.ErrnoException)?.code;
  const named = `${label} ${path}`;
  if (code === 'EROFS') return new DataFolderError(`${named} is not writable (EROFS: read-only file system): ${what}`, error);
  if (code === 'EACCES' || code === 'EPERM') return new DataFolderError(`${named} is not writable (${code}: permission denied): ${what}`, error);
  if (code === 'ENOSPC') return new DataFolderError(`${named} has no space left (ENOSPC): ${what}`, error);
  if (code === 'ENOTDIR' || code === 'EEXIST') return new DataFolderError(`${named} is not a folder (a part of the path is a file): ${what}`, error);
  return new DataFolderError(`${named}: ${what}: ${(error as Error)?.message ?? String(error)}`, error);
}

async function createLock(lockPath: string, me: LockOwner): Promise<boolean> {
  const handle = await open(lockPath, 'wx');
  try {
    await handle.writeFile(`${JSON.stringify(me)}\n`);
  } finally {
    await handle.close();
  }
  return true;
}

async function releaseLock(lockPath: string, me: LockOwner): Promise<void> {
  // Only our own lock: never one that another server took over after ours was judged stale.
  const text = await readFile(lockPath, 'utf8').catch(() => undefined);
  if (text !== undefined && parseOwner(text)?.pid === me.pid && parseOwner(text)?.started === me.started) {
    await unlink(lockPath).catch(() => undefined);
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
    return Number.isSafeInteger(parsed.pid) && parsed.pid! > 0 ? parsed as LockOwner : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the owner's PID can be checked from here: same host and boot (and so, same PID namespace as far as can be told). */
function isLocal(owner: LockOwner, me: LockOwner): boolean {
  return (owner.host === undefined || owner.host === me.host) && (owner.boot === undefined || owner.boot === me.boot);
}

function isAlive(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to someone else; it is alive.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const started = processStart(owner.pid);
  return owner.started === undefined || started === undefined || started === owner.started;
}

function currentProcess(): LockOwner {
  return { pid: process.pid, host: hostname(), boot: bootId(), started: processStart(process.pid) };
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot (Linux only). */
function processStart(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const started = Number(fields[22 - 3]);
    return Number.isFinite(started) ? started : undefined;
  } catch {
    return undefined;
  }
}

function onceOnly(work: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= work());
}
