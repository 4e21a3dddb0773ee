/**
 * Flushes staged uploads to the disk in the background while they grow, so the fsync at commit
 * finds little left to write. The count of unflushed bytes lives per file, across appends: a
 * chunked upload of many small PATCHes gets flushed as it goes, as a monolithic one does, instead
 * of leaving its whole body to the final PUT (256 MiB in 8 MiB chunks: about a quarter of a
 * second of fsync at commit here).
 *
 * Each flush opens a descriptor of its own, so an append never waits for one: the flush may still
 * run after the PATCH that started it has answered. Best effort: commit fsyncs for durability
 * whatever happens here.
 */
import { open } from 'node:fs/promises';

/** Unflushed bytes of one file that start a background flush. */
const FLUSH_EVERY_BYTES = 32 * 1024 * 1024;

export class BackgroundFlush {
  readonly #unflushed = new Map<string, number>();
  readonly #running = new Map<string, Promise<void>>();

  /** Counts `bytes` written to `path`, and starts a flush when enough are waiting and none runs. */
  written(path: string, bytes: number): void {
    const unflushed = (this.#unflushed.get(path) ?? 0) + bytes;
    if (unflushed < FLUSH_EVERY_BYTES || this.#running.has(path)) {
      this.#unflushed.set(path, unflushed);
      return;
    }
    this.#unflushed.set(path, 0);
    const flush = syncPath(path, { dataOnly: true }).catch(() => undefined).finally(() => this.#running.delete(path));
    this.#running.set(path, flush);
  }

  /** Waits for a flush of `path` still running, and forgets the file (before commit or discard). */
  async settle(path: string): Promise<void> {
    await this.#running.get(path);
    this.#unflushed.delete(path);
  }

  /** Whether a flush of `path` is running. */
  isFlushing(path: string): boolean {
    return this.#running.has(path);
  }

  /** Files with counts or flushes held: none once every upload is committed or discarded. */
  get tracked(): number {
    return new Set([...this.#unflushed.keys(), ...this.#running.keys()]).size;
  }
}

/** fsync (or, with `dataOnly`, fdatasync) of a file or directory, on a descriptor of its own. */
export async function syncPath(path: string, options: { dataOnly?: boolean } = {}): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await (options.dataOnly ? handle.datasync() : handle.sync());
  } finally {
    await handle.close();
  }
}
