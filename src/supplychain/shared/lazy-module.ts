/**
 * Third-party libraries are loaded on first use, not when `wharf serve` starts: most registries
 * never open an encrypted key, a COSE envelope or an OSV archive, and start-up should not pay for
 * them. `require` of an ES module is synchronous on Node 24, so the parsers keep synchronous APIs.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A getter that loads `specifier` the first time it is called and returns the cached module after. */
export function lazyModule<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(specifier) as T);
}
