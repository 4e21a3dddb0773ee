/**
 * The hot path of a pull is "resolve tag, return manifest". This cache keeps recently served
 * manifests by repository and tag, bounded in entries, and is invalidated by every write of this
 * process that can change what a tag resolves to, and, when the metadata store is shared by
 * several processes, by the changes the store reports through `tagChanges`.
 *
 * A reader notes `generation` before it asks the database and hands it to `set`: when any tag was
 * forgotten in between, the answer may predate that change and is not kept.
 */
import type { StoredManifest, TagChangeListener } from '../storage/metadata/metadata-store.ts';

export class ManifestCache {
  readonly #maxEntries: number;
  readonly #byRepository = new Map<string, Map<string, StoredManifest>>();
  #entries = 0;
  #generation = 0;
  /** True while changes of other processes may be missed (their channel is down): cache nothing. */
  #blind = false;

  /** For the metadata store's `watchTagChanges`. */
  readonly tagChanges: TagChangeListener = {
    changed: (change) => {
      if (change.tag === undefined) this.forgetRepository(change.repository);
      else this.forgetTag(change.repository, change.tag);
    },
    lost: () => {
      this.#blind = true;
      this.clear();
    },
    restored: () => {
      this.clear();
      this.#blind = false;
    },
  };
  /** Lookups answered from the cache and lookups that were not, for metrics (plain counters: free on the hot path). */
  hits = 0;
  misses = 0;

  constructor(maxEntries = 10_000) {
    this.#maxEntries = maxEntries;
  }

  /** Changes with every forget; see `set`. */
  get generation(): number {
    return this.#generation;
  }

  get(repository: string, tag: string): StoredManifest | undefined {
    const found = this.#byRepository.get(repository)?.get(tag);
    if (found) this.hits++;
    else this.misses++;
    return found;
  }

  /** Keeps `manifest`, unless a tag was forgotten since `readAtGeneration` (when given). */
  set(repository: string, tag: string, manifest: StoredManifest, readAtGeneration?: number): void {
    if (this.#blind || (readAtGeneration !== undefined && readAtGeneration !== this.#generation)) return;
    if (this.#entries >= this.#maxEntries) this.clear();
    let tags = this.#byRepository.get(repository);
    if (!tags) this.#byRepository.set(repository, (tags = new Map()));
    if (!tags.has(tag)) this.#entries++;
    tags.set(tag, manifest);
  }

  /** Forgets one tag (retagged or untagged). */
  forgetTag(repository: string, tag: string): void {
    this.#generation++;
    const tags = this.#byRepository.get(repository);
    if (tags?.delete(tag)) this.#entries--;
  }

  /** Forgets every tag of a repository (a manifest was deleted: any tag may have pointed at it). */
  forgetRepository(repository: string): void {
    this.#generation++;
    const tags = this.#byRepository.get(repository);
    if (!tags) return;
    this.#entries -= tags.size;
    this.#byRepository.delete(repository);
  }

  clear(): void {
    this.#generation++;
    this.#byRepository.clear();
    this.#entries = 0;
  }
}
