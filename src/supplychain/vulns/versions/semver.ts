/**
 * SemVer 2.0 ordering, as OSV's SEMVER ranges and the npm, Go and crates.io ecosystems use it.
 * Lenient where real data is: a leading "v" (Go), missing minor/patch ("0" in `introduced`).
 * Returns undefined for text that is not a version, so callers never guess.
 */
const PATTERN = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]*)?$/;

export interface SemVer {
  readonly numbers: readonly [string, string, string];
  readonly prerelease: readonly string[];
}

export function parseSemver(text: string): SemVer | undefined {
  const match = PATTERN.exec(text.trim());
  if (!match) return undefined;
  const strip = (value: string | undefined) => (value ?? '0').replace(/^0+(?=\d)/, '');
  return { numbers: [strip(match[1]), strip(match[2]), strip(match[3])], prerelease: match[4] ? match[4].split('.') : [] };
}

/** Numeric strings of any length, compared without overflow. */
export function compareNumericStrings(a: string, b: string): number {
  const left = a.replace(/^0+(?=\d)/, ''), right = b.replace(/^0+(?=\d)/, '');
  if (left.length !== right.length) return left.length < right.length ? -1 : 1;
  return left < right ? -1 : left > right ? 1 : 0;
}

function compareIdentifiers(a: string, b: string): number {
  const aNumeric = /^\d+$/.test(a), bNumeric = /^\d+$/.test(b);
  if (aNumeric && bNumeric) return compareNumericStrings(a, b);
  if (aNumeric !== bNumeric) return aNumeric ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareSemverParsed(a: SemVer, b: SemVer): number {
  for (let i = 0; i < 3; i++) {
    const result = compareNumericStrings(a.numbers[i]!, b.numbers[i]!);
    if (result !== 0) return result;
  }
  if (a.prerelease.length === 0 || b.prerelease.length === 0) return a.prerelease.length === b.prerelease.length ? 0 : a.prerelease.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.min(a.prerelease.length, b.prerelease.length); i++) {
    const result = compareIdentifiers(a.prerelease[i]!, b.prerelease[i]!);
    if (result !== 0) return result;
  }
  return Math.sign(a.prerelease.length - b.prerelease.length);
}

export function compareSemver(a: string, b: string): number | undefined {
  const left = parseSemver(a), right = parseSemver(b);
  return left && right ? compareSemverParsed(left, right) : undefined;
}
