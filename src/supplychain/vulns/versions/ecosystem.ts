/** Which ordering an OSV ecosystem's versions follow. */
import { compareAlpine } from './alpine.ts';
import { compareDebian } from './debian.ts';
import { compareMaven } from './maven.ts';
import { comparePep440 } from './pep440.ts';
import { compareSemver } from './semver.ts';

export type VersionComparator = (a: string, b: string) => number | undefined;

/** Natural ordering for ecosystems without a dedicated one: numeric runs compared as numbers. */
function compareNatural(a: string, b: string): number | undefined {
  const semver = compareSemver(a, b);
  if (semver !== undefined) return semver;
  const split = (text: string) => text.split(/(\d+)/).filter((part) => part !== '');
  const left = split(a), right = split(b);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const x = left[i], y = right[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    const result = /^\d+$/.test(x) && /^\d+$/.test(y) ? Math.sign(Number(x) - Number(y)) : x < y ? -1 : x > y ? 1 : 0;
    if (result !== 0) return result;
  }
  return 0;
}

export function comparatorFor(ecosystem: string, rangeType: string): VersionComparator | undefined {
  if (rangeType === 'SEMVER') return compareSemver;
  if (rangeType !== 'ECOSYSTEM') return undefined; // GIT ranges name commits, not versions
  const base = ecosystem.split(':')[0]!;
  switch (base) {
    case 'npm': case 'Go': case 'crates.io': case 'Hex': case 'Pub': return compareSemver;
    case 'PyPI': return comparePep440;
    case 'Maven': return compareMaven;
    case 'Debian': case 'Ubuntu': return compareDebian;
    case 'Alpine': case 'Wolfi': case 'Chainguard': return compareAlpine;
    default: return compareNatural;
  }
}
