/**
 * Files whose digest was verified lately, so that a blob pulled again and again is hashed once
 * in a while rather than on every pull (a fleet pulling one base layer would otherwise hash it per
 * node). A record holds only while the file is unchanged: same inode, size, modification and
 * change times, so any write to it, or a new copy renamed into its place, is verified afresh.
 * Bounded: the least recently verified files are forgotten first.
 */
import type { Stats } from 'node:fs';

export interface FileIdentity {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

export interface VerifiedFilesOptions {
  /** How long a verification counts (default 5 minutes). */
  readonly freshForMs?: number;
  /** Files remembered at most (default 10,000). */
  readonly capacity?: number;
}

export class VerifiedFiles {
  readonly #freshForMs: number;
  readonly #capacity: number;
  readonly #verified = new Map<string, FileIdentity & { at: number }>();

  constructor(options: VerifiedFilesOptions = {}) {
    this.#freshForMs = options.freshForMs ?? 5 * 60_000;
    this.#capacity = options.capacity ?? 10_000;
  }

  /** Whether `path`, as it is now (`file`), was verified within the freshness window. */
  isFresh(path: string, file: FileIdentity, now = Date.now()): boolean {
    const record = this.#verified.get(path);
    if (!record) return false;
    if (now - record.at > this.#freshForMs || !sameFile(record, file)) {
      this.#verified.delete(path);
      return false;
    }
    return true;
  }

  record(path: string, file: FileIdentity, now = Date.now()): void {
    this.#verified.delete(path);
    this.#verified.set(path, { ino: file.ino, size: file.size, mtimeMs: file.mtimeMs, ctimeMs: file.ctimeMs, at: now });
    if (this.#verified.size > this.#capacity) this.#verified.delete(this.#verified.keys().next().value!);
  }
}

export function identityOf(stats: Stats): FileIdentity {
  return { ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs };
}

function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}
