/**
 * The hot path of a pull is "resolve tag, return manifest". This cache keeps recently served
 * manifests by repository and tag, bounded in entries, and is invalidated by every write of this
 * process that can change what a tag resolves to.
 */
import type { StoredManifest } from '../storage/metadata/metadata-store.ts';

export class ManifestCache {
  readonly #maxEntries: number;
  readonly #byRepository = new Map<string, Map<string, StoredManifest>>();
  #entries = 0;
  /** Lookups answered from the cache and lookups that were not, for metrics (plain counters: free on the hot path). */
  hits = 0;
  misses = 0;

  constructor(maxEntries = 10_000) {
    this.#maxEntries = maxEntries;
  }

  get(repository: string, tag: string): StoredManifest | undefined {
    const found = this.#byRepository.get(repository)?.get(tag);
    if (found) this.hits++;
    else this.misses++;
    return found;
  }

  set(repository: string, tag: string, manifest: StoredManifest): void {
    if (this.#entries >= this.#maxEntries) this.clear();
    let tags = this.#byRepository.get(repository);
    if (!tags) this.#byRepository.set(repository, (tags = new Map()));
    if (!tags.has(tag)) this.#entries++;
    tags.set(tag, manifest);
  }

  /** Forgets one tag (retagged or untagged). */
  forgetTag(repository: string, tag: string): void {
    const tags = this.#byRepository.get(repository);
    if (tags?.delete(tag)) this.#entries--;
  }

  /** Forgets every tag of a repository (a manifest was deleted: any tag may have pointed at it). */
  forgetRepository(repository: string): void {
    const tags = this.#byRepository.get(repository);
    if (!tags) return;
    this.#entries -= tags.size;
    this.#byRepository.delete(repository);
  }

  clear(): void {
    this.#byRepository.clear();
    this.#entries = 0;
  }
}
