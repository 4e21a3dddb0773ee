/**
 * PEP 440 version ordering for PyPI (epoch, release, pre/post/dev releases, local labels, and the
 * alternative spellings PEP 440 normalises), through @renovatebot/pep440, a port of the reference
 * implementation in Python's `packaging`. Returns undefined for text that is not a PEP 440 version.
 */
import type * as Pep440 from '@renovatebot/pep440';
import { lazyModule } from '../../shared/lazy-module.ts';

const pep440 = lazyModule<typeof Pep440>('@renovatebot/pep440');

export function comparePep440(a: string, b: string): number | undefined {
  const lib = pep440();
  if (lib.valid(a) === null || lib.valid(b) === null) return undefined;
  return Math.sign(lib.compare(a, b));
}
