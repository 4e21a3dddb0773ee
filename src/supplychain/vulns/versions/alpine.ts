/**
 * Alpine (apk-tools) version ordering: numeric components, an optional letter, suffixes
 * (_alpha < _beta < _pre < _rc < release < _cvs < _svn < _git < _hg < _p) and the package
 * revision -rN. Numbers compare as numbers, so r15 > r5.
 * Kept in Wharf: no npm package implements apk-tools' ordering; pinned by the ordering tests and
 * the OSV EXPECTED-MATCHES.
 */
import { compareNumericStrings } from './semver.ts';

const PATTERN = /^(\d+(?:\.\d+)*)([a-z]?)((?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*)(?:~[0-9a-f]+)?(?:-r(\d+))?$/;
const SUFFIX_RANK: Record<string, number> = { alpha: -4, beta: -3, pre: -2, rc: -1, cvs: 1, svn: 2, git: 3, hg: 4, p: 5 };

interface ApkVersion {
  readonly numbers: readonly string[];
  readonly letter: string;
  readonly suffixes: readonly [number, string][];
  readonly revision: string;
}

function parseApk(text: string): ApkVersion | undefined {
  const match = PATTERN.exec(text.trim());
  if (!match) return undefined;
  const suffixes = [...(match[3] ?? '').matchAll(/_([a-z]+)(\d*)/g)].map((part) => [SUFFIX_RANK[part[1]!] ?? 0, part[2] || '0'] as [number, string]);
  return { numbers: match[1]!.split('.'), letter: match[2] ?? '', suffixes, revision: match[4] ?? '0' };
}

export function compareAlpine(a: string, b: string): number | undefined {
  const left = parseApk(a), right = parseApk(b);
  if (!left || !right) return undefined;
  for (let i = 0; i < Math.max(left.numbers.length, right.numbers.length); i++) {
    const x = left.numbers[i], y = right.numbers[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    const result = compareNumericStrings(x, y);
    if (result !== 0) return result;
  }
  if (left.letter !== right.letter) return left.letter < right.letter ? -1 : 1;
  for (let i = 0; i < Math.max(left.suffixes.length, right.suffixes.length); i++) {
    const x = left.suffixes[i] ?? [0, '0'], y = right.suffixes[i] ?? [0, '0'];
    if (x[0] !== y[0]) return Math.sign(x[0] - y[0]);
    const result = compareNumericStrings(x[1], y[1]);
    if (result !== 0) return result;
  }
  return compareNumericStrings(left.revision, right.revision);
}
