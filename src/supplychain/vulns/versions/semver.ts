/**
 * SemVer 2.0 ordering, as OSV's SEMVER ranges and the npm, Go and crates.io ecosystems use it,
 * through `semver` (npm's own implementation). Wharf keeps only the leniency real OSV data needs
 * before a version reaches it: a leading "v" (Go) and missing minor/patch ("1.2" → "1.2.0").
 * Returns undefined for text that is not a version (or has numbers past 2^53, which `semver`
 * refuses), so callers never guess.
 */
import type SemverLib from 'semver';
import type parseSemverFunction from 'semver/functions/parse.js';
import { lazyModule } from '../../shared/lazy-module.ts';
import { BoundedCache } from './bounded-cache.ts';

// Only the parse function (and the SemVer class it needs), as semver's README suggests for a small footprint.
const parseSemver = lazyModule<typeof parseSemverFunction>('semver/functions/parse.js');

const SHAPE = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?((?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$/;

const parsed = new BoundedCache<SemverLib.SemVer | undefined>(50_000);

function parse(text: string): SemverLib.SemVer | undefined {
  return parsed.get(text, () => parseUncached(text));
}

function parseUncached(text: string): SemverLib.SemVer | undefined {
  const match = SHAPE.exec(text.trim());
  if (!match) return undefined;
  // loose: leading zeros ("01.2.3") are accepted, as publishers' data has them
  return parseSemver()(`${match[1]}.${match[2] ?? '0'}.${match[3] ?? '0'}${match[4]}`, { loose: true }) ?? undefined;
}

/** Numeric strings of any length, compared without overflow (the distribution orderings use it). */
export function compareNumericStrings(a: string, b: string): number {
  const left = a.replace(/^0+(?=\d)/, ''), right = b.replace(/^0+(?=\d)/, '');
  if (left.length !== right.length) return left.length < right.length ? -1 : 1;
  return left < right ? -1 : left > right ? 1 : 0;
}

export function compareSemver(a: string, b: string): number | undefined {
  const left = parse(a), right = parse(b);
  return left && right ? left.compare(right) : undefined;
}
