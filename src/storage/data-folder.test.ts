import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountSmallFilesystem, mountUnavailable } from '../../test/support/small-filesystem.ts';
import { FOREIGN_LOCK_STALE_MS, LOCK_FILE, openDataFolder } from './data-folder.ts';
import { DataFolderError } from './storage-errors.ts';

async function freshFolder(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-folder-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'data');
}

/** The PID of a process that has exited (and so holds no lock any more). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(child.stdout.trim());
}

describe('data folder lock', () => {
  it('lets one holder in and refuses a second, naming the holder PID and the path', async (t) => {
    const path = await freshFolder(t);
    const first = await openDataFolder(path);
    await assert.rejects(openDataFolder(path), (error: Error) => error instanceof DataFolderError
      && error.message.includes(`PID ${process.pid}`) && error.message.includes(join(path, LOCK_FILE)) && /in use by another wharf server/.test(error.message));
    await first.release();
    const second = await openDataFolder(path);
    await second.release();
  });

  it('takes over a stale lock whose process is gone (kill -9 leaves the file behind)', async (t) => {
    const path = await freshFolder(t);
    await (await openDataFolder(path)).release();
    await writeFile(join(path, LOCK_FILE), JSON.stringify({ pid: deadPid() }));
    const folder = await openDataFolder(path);
    assert.equal(JSON.parse(await readFile(join(path, LOCK_FILE), 'utf8')).pid, process.pid);
    await folder.release();
  });

  it('takes over a lock whose PID now belongs to another process (started at another time)', async (t) => {
    const path = await freshFolder(t);
    const probe = await openDataFolder(path);
    const mine = JSON.parse(await readFile(join(path, LOCK_FILE), 'utf8'));
    await probe.release();
    if (mine.started === undefined) return t.skip('process start times need Linux /proc');
    await writeFile(join(path, LOCK_FILE), JSON.stringify({ ...mine, started: mine.started - 1 }));
    const folder = await openDataFolder(path);
    await folder.release();
  });

  it('holds a lock of a server on another host (or container) while it is refreshed, and takes it over once it is not', async (t) => {
    const path = await freshFolder(t);
    await (await openDataFolder(path)).release();
    const lockPath = join(path, LOCK_FILE);
    // The PID of another host says nothing here: only the refresh of the file counts.
    await writeFile(lockPath, JSON.stringify({ pid: process.pid, host: 'elsewhere', boot: 'another-boot', started: 1 }));
    await assert.rejects(openDataFolder(path), (error: Error) => /PID \d+ on host elsewhere/.test(error.message) && error.message.includes(lockPath));
    const quiet = new Date(Date.now() - FOREIGN_LOCK_STALE_MS - 5000);
    await utimes(lockPath, quiet, quiet);
    const folder = await openDataFolder(path);
    assert.equal(JSON.parse(await readFile(lockPath, 'utf8')).pid, process.pid);
    await folder.release();
  });

  it('takes over a lock left half-written by a crash', async (t) => {
    const path = await freshFolder(t);
    await (await openDataFolder(path)).release();
    await writeFile(join(path, LOCK_FILE), '{"pi');
    await (await openDataFolder(path)).release();
  });

  it('refuses a path that is a file, saying so', async (t) => {
    const path = await freshFolder(t);
    await writeFile(path, 'not a folder');
    await assert.rejects(openDataFolder(path), /data folder .* is not a folder/);
    await assert.rejects(openDataFolder(join(path, 'below')), /is not a folder/);
  });
});

describe('read-only data folder', { skip: await mountUnavailable() }, () => {
  it('says the folder is not writable and why, for an existing folder and one to create', async (t) => {
    // root ignores permission bits, so the read-only-ness comes from the mount.
    const fs = await mountSmallFilesystem('tmpfs-readonly', 1);
    t.after(() => fs.unmount());
    for (const path of [fs.dir, join(fs.dir, 'data')]) {
      await assert.rejects(openDataFolder(path), (error: Error) => error instanceof DataFolderError
        && error.message.startsWith(`data folder ${path} is not writable (EROFS`), path);
    }
  });
});
