/**
 * Which large blobs earn a place in the page cache.
 *
 * With direct I/O, large blobs are written past the page cache and read straight from the disk:
 * most layers are pulled a handful of times, and caching each of them would push out what is
 * read often. A layer pulled again and again (a popular base image) should come from memory,
 * though. So the first pull of a blob reads it directly, and a blob pulled again within the
 * window is read through the page cache from then on, which fills the cache for the pulls after
 * it (nginx's `proxy_cache_min_uses` admits entries to its cache the same way).
 *
 * Memory is bounded: the least recently pulled blobs are forgotten first, and a forgotten blob
 * simply starts over with a direct read.
 */
export interface CacheAdmissionOptions {
  /** Blobs remembered at most. */
  readonly capacity?: number;
  /** A pull this long after the previous one of the same blob counts as a first pull again. */
  readonly windowMs?: number;
}

export class CacheAdmission {
  readonly #capacity: number;
  readonly #windowMs: number;
  /** Blob → time of its last pull, least recently pulled first (a Map keeps insertion order). */
  readonly #lastPull = new Map<string, number>();

  constructor(options: CacheAdmissionOptions = {}) {
    this.#capacity = options.capacity ?? 10_000;
    this.#windowMs = options.windowMs ?? 60 * 60 * 1000;
  }

  /** Records a pull of `blob`; true when it was pulled before within the window (read it cached). */
  admit(blob: string, now = Date.now()): boolean {
    const previous = this.#lastPull.get(blob);
    this.#lastPull.delete(blob);
    this.#lastPull.set(blob, now);
    if (this.#lastPull.size > this.#capacity) this.#lastPull.delete(this.#lastPull.keys().next().value!);
    return previous !== undefined && now - previous <= this.#windowMs;
  }
}
