/**
 * Debian (dpkg) version ordering: [epoch:]upstream[-revision], each part compared by alternating
 * non-digit runs (where "~" sorts before everything, even the end) and numeric runs.
 * Kept in Wharf: no maintained npm package implements dpkg's verrevcmp (the one found,
 * deb-version-compare, has a few hundred downloads a month and no maintenance to speak of); the
 * algorithm is short and pinned by the ordering tests and the OSV EXPECTED-MATCHES.
 */
import { compareNumericStrings } from './semver.ts';

function order(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

function compareFragment(a: string, b: string): number {
  let i = 0, j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !/\d/.test(a[i]!)) || (j < b.length && !/\d/.test(b[j]!))) {
      const left = i < a.length && !/\d/.test(a[i]!) ? order(a[i]) : 0;
      const right = j < b.length && !/\d/.test(b[j]!) ? order(b[j]) : 0;
      if (left !== right) return Math.sign(left - right);
      if (i < a.length && !/\d/.test(a[i]!)) i++;
      if (j < b.length && !/\d/.test(b[j]!)) j++;
    }
    let startA = i, startB = j;
    while (i < a.length && /\d/.test(a[i]!)) i++;
    while (j < b.length && /\d/.test(b[j]!)) j++;
    const result = compareNumericStrings(a.slice(startA, i) || '0', b.slice(startB, j) || '0');
    if (result !== 0) return result;
  }
  return 0;
}

function split(version: string): { epoch: string; upstream: string; revision: string } | undefined {
  const match = /^(?:(\d+):)?([0-9][A-Za-z0-9.+~:-]*?)(?:-([A-Za-z0-9.+~]+))?$/.exec(version.trim());
  return match ? { epoch: match[1] ?? '0', upstream: match[2]!, revision: match[3] ?? '0' } : undefined;
}

export function compareDebian(a: string, b: string): number | undefined {
  const left = split(a), right = split(b);
  if (!left || !right) return undefined;
  return compareNumericStrings(left.epoch, right.epoch) || compareFragment(left.upstream, right.upstream) || compareFragment(left.revision, right.revision);
}
