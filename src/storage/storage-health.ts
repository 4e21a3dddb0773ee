/**
 * What /readyz says about storage beyond "it opens": a filesystem that ran out of space. A write
 * that failed for lack of space marks its filesystem full; the mark stands until enough space
 * was freed since (a failed upload gives back its own bytes at once, which is no sign that the
 * next one fits), so an orchestrator stops sending pushes to a registry that cannot store them.
 */
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Space that must have been freed since the failure, at most (64 MiB), or 5 % of a smaller filesystem. */
const HEADROOM_BYTES = 64 * 1024 * 1024;
const HEADROOM_FRACTION = 0.05;

interface FullMark {
  /** Free bytes measured once the failed write was cleaned up. */
  readonly freeAfter: number;
  readonly since: Date;
}

export class StorageHealth {
  readonly #full = new Map<string, FullMark>();

  /** Records that a write under `path` failed for lack of space (after its bytes were given back). */
  async reportFull(path: string): Promise<void> {
    const space = await freeSpace(path);
    this.#full.set(path, { freeAfter: space?.free ?? 0, since: new Date() });
  }

  /** One line per storage problem, for /readyz; empty when storage is fine. Clears marks whose space came back. */
  async problems(): Promise<string[]> {
    const problems: string[] = [];
    for (const [path, mark] of this.#full) {
      const space = await freeSpace(path);
      const headroom = space ? Math.min(HEADROOM_BYTES, space.size * HEADROOM_FRACTION) : HEADROOM_BYTES;
      if (space && space.free >= mark.freeAfter + headroom) {
        this.#full.delete(path);
        continue;
      }
      problems.push(`storage full at ${path}: a write failed for lack of space at ${mark.since.toISOString()}; `
        + `${space?.free ?? 'unknown'} bytes free, ready again at ${Math.ceil(mark.freeAfter + headroom)}`);
    }
    return problems;
  }
}

/** Free and total bytes of the filesystem holding `path` (or its folder, when the file is gone). */
async function freeSpace(path: string): Promise<{ free: number; size: number } | undefined> {
  for (const candidate of [path, dirname(path)]) {
    try {
      const info = await statfs(candidate);
      return { free: info.bavail * info.bsize, size: info.blocks * info.bsize };
    } catch {
      // try the folder
    }
  }
  return undefined;
}
