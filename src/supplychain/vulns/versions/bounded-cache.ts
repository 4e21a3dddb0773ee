/**
 * A cache for version parsing: matching an SBOM against OSV ranges compares the same few versions
 * many times (each event against itself, the events against each other, the component against
 * each), and the libraries parse on every call. It forgets everything when it reaches its bound,
 * so hostile input cannot grow it.
 */
export class BoundedCache<V> {
  readonly #entries = new Map<string, V>();
  readonly #limit: number;

  constructor(limit: number) { this.#limit = limit; }

  /** The cached value for `key`, computing and keeping it on a miss. */
  get(key: string, compute: () => V): V {
    if (this.#entries.has(key)) return this.#entries.get(key)!;
    const value = compute();
    if (this.#entries.size >= this.#limit) this.#entries.clear();
    this.#entries.set(key, value);
    return value;
  }
}
