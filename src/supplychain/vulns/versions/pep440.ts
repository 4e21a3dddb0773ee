/**
 * PEP 440 version ordering for PyPI: epoch, release, pre-release (a/b/rc), post-release,
 * development release, local label. Normalises the spellings PEP 440 allows (alpha, c, pre, rev…).
 */
import { compareNumericStrings } from './semver.ts';

const PATTERN = /^v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d*))?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d*))?(?:[-_.]?(dev)[-_.]?(\d*))?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$/i;

interface Pep440 {
  readonly epoch: string;
  readonly release: readonly string[];
  /** [rank, number]: rank 0=a, 1=b, 2=rc; undefined when not a pre-release. */
  readonly pre?: readonly [number, string];
  readonly post?: string;
  readonly dev?: string;
  readonly local?: readonly string[];
}

export function parsePep440(text: string): Pep440 | undefined {
  const match = PATTERN.exec(text.trim());
  if (!match) return undefined;
  const release = match[2]!.split('.');
  while (release.length > 1 && /^0+$/.test(release[release.length - 1]!)) release.pop();
  const preLabel = match[3]?.toLowerCase();
  const preRank = preLabel === undefined ? undefined : preLabel.startsWith('a') ? 0 : preLabel.startsWith('b') ? 1 : 2;
  const post = match[5] ?? (match[6] !== undefined ? match[7] || '0' : undefined);
  return {
    epoch: match[1] ?? '0', release,
    pre: preRank === undefined ? undefined : [preRank, match[4] || '0'],
    post, dev: match[8] !== undefined ? match[9] || '0' : undefined,
    local: match[10]?.toLowerCase().split(/[-_.]/),
  };
}

function compareRelease(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const result = compareNumericStrings(a[i] ?? '0', b[i] ?? '0');
    if (result !== 0) return result;
  }
  return 0;
}

/** Sort keys that make "1.0.dev1 < 1.0a1 < 1.0 < 1.0.post1" fall out of plain comparisons. */
function preKey(version: Pep440): [number, string] {
  if (version.pre) return [version.pre[0], version.pre[1]];
  if (version.dev !== undefined && version.post === undefined) return [-1, '0']; // 1.0.dev0 sorts before 1.0a0
  return [3, '0'];
}

function compareOptionalNumber(a: string | undefined, b: string | undefined, absentIs: 'low' | 'high'): number {
  if (a === undefined || b === undefined) {
    if (a === b) return 0;
    const absentFirst = absentIs === 'low' ? -1 : 1;
    return a === undefined ? absentFirst : -absentFirst;
  }
  return compareNumericStrings(a, b);
}

function compareLocal(a: readonly string[] | undefined, b: readonly string[] | undefined): number {
  if (!a || !b) return a === b ? 0 : a ? 1 : -1;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i], y = b[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    const xNumeric = /^\d+$/.test(x), yNumeric = /^\d+$/.test(y);
    const result = xNumeric && yNumeric ? compareNumericStrings(x, y) : xNumeric !== yNumeric ? (xNumeric ? 1 : -1) : x < y ? -1 : x > y ? 1 : 0;
    if (result !== 0) return result;
  }
  return 0;
}

export function comparePep440(a: string, b: string): number | undefined {
  const left = parsePep440(a), right = parsePep440(b);
  if (!left || !right) return undefined;
  const leftPre = preKey(left), rightPre = preKey(right);
  return compareNumericStrings(left.epoch, right.epoch)
    || compareRelease(left.release, right.release)
    || Math.sign(leftPre[0] - rightPre[0]) || compareNumericStrings(leftPre[1], rightPre[1])
    || compareOptionalNumber(left.post, right.post, 'low')
    || compareOptionalNumber(left.dev, right.dev, 'high')
    || compareLocal(left.local, right.local);
}
