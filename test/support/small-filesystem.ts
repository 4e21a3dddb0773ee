/**
 * Small filesystems of their own for storage tests: a tmpfs or a loop-mounted ext4 image of a few
 * MiB that a test can fill up, or a read-only tmpfs. Mounting needs root; `mountUnavailable`
 * says why a test has to be skipped elsewhere (as root the tests must run, so it only skips
 * when the mount itself is impossible, e.g. in a container without the capability).
 */
import { execFile } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm, statfs, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type FilesystemKind = 'tmpfs' | 'ext4' | 'tmpfs-readonly';

export interface SmallFilesystem {
  readonly dir: string;
  readonly kind: FilesystemKind;
  /** Bytes an unprivileged writer could still write (root may write the same on tmpfs, and on ext4 made with -m 0). */
  freeBytes(): Promise<number>;
  unmount(): Promise<void>;
}

/** Mounts a filesystem of `sizeMiB` on a fresh folder; throws when mounting is impossible here. */
export async function mountSmallFilesystem(kind: FilesystemKind, sizeMiB = 8): Promise<SmallFilesystem> {
  const base = await mkdtemp(join(tmpdir(), `wharf-${kind}-`));
  const dir = join(base, 'mnt');
  const image = join(base, 'disk.img');
  await run('mkdir', [dir]);
  try {
    if (kind === 'ext4') {
      await run('truncate', ['-s', `${sizeMiB}M`, image]);
      // -m 0: no blocks reserved for root, so "free" means the same to every writer.
      await run('mkfs.ext4', ['-q', '-m', '0', image]);
      await run('mount', ['-o', 'loop', image, dir], { timeout: 10_000 });
    } else {
      const options = `size=${sizeMiB}m${kind === 'tmpfs-readonly' ? ',ro' : ''}`;
      await run('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { timeout: 10_000 });
    }
  } catch (error) {
    await rm(base, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    kind,
    async freeBytes() {
      const info = await statfs(dir);
      return info.bavail * info.bsize;
    },
    async unmount() {
      // A lazy unmount cannot hang on a descriptor a failed test left open.
      await run('umount', ['-l', dir], { timeout: 10_000 }).catch(() => undefined);
      await rm(base, { recursive: true, force: true });
    },
  };
}

/** Why tests that mount filesystems cannot run here, or undefined when they can. */
export async function mountUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'mounting test filesystems needs Linux';
  if (process.getuid?.() !== 0) return 'mounting test filesystems needs root';
  try {
    const probe = await mountSmallFilesystem('tmpfs', 1);
    await probe.unmount();
    return undefined;
  } catch (error) {
    return `cannot mount a tmpfs here: ${(error as Error).message}`;
  }
}

/**
 * Fills the filesystem of `fs` with a file until at most `leaveBytes` are free (0: until writes
 * fail for lack of space). Returns a function that removes the file again.
 */
export async function fillUp(fs: SmallFilesystem, leaveBytes = 0): Promise<() => Promise<void>> {
  const path = join(fs.dir, 'filler');
  const fd = openSync(path, 'w');
  try {
    const big = Buffer.alloc(256 * 1024, 0x5a);
    // Both filesystems allocate in 4 KiB blocks: smaller writes would not take any more space.
    for (const piece of [big, big.subarray(0, 4096)]) {
      while (leaveBytes === 0 || (await fs.freeBytes()) - piece.byteLength >= leaveBytes) {
        try {
          writeSync(fd, piece);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return () => unlink(path);
}
