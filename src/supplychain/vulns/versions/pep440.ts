/**
 * PEP 440 version ordering for PyPI (epoch, release, pre/post/dev releases, local labels, and the
 * alternative spellings PEP 440 normalises), through @renovatebot/pep440, a port of the reference
 * implementation in Python's `packaging`. Returns undefined for text that is not a PEP 440 version.
 */
import type * as Pep440 from '@renovatebot/pep440';
import { lazyModule } from '../../shared/lazy-module.ts';
import { BoundedCache } from './bounded-cache.ts';

const pep440 = lazyModule<typeof Pep440>('@renovatebot/pep440');

/** The library parses both versions on every comparison and exposes no parsed form, so results are cached per pair. */
const results = new BoundedCache<number | undefined>(100_000);

export function comparePep440(a: string, b: string): number | undefined {
  return results.get(`${a}\u0000${b}`, () => {
    const lib = pep440();
    if (lib.valid(a) === null || lib.valid(b) === null) return undefined;
    return Math.sign(lib.compare(a, b));
  });
}
