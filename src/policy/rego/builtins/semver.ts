/** semver.compare and semver.is_valid (Semantic Versioning 2.0.0, no "v" prefix). */
import type { Value } from '../value.ts';
import { RNumber } from '../value.ts';
import { BuiltinError, type BuiltinDecl } from './types.ts';
import { str } from './operands.ts';

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

interface Version {
  core: [bigint, bigint, bigint];
  pre: string[];
}

export function parseSemver(s: string): Version | undefined {
  const m = SEMVER.exec(s);
  if (!m) return undefined;
  return { core: [BigInt(m[1]!), BigInt(m[2]!), BigInt(m[3]!)], pre: m[4] ? m[4].split('.') : [] };
}

function cmp<T>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparePre(a: string[], b: string[]): number {
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    const c = xn && yn ? cmp(BigInt(x), BigInt(y)) : xn ? -1 : yn ? 1 : cmp(x, y);
    if (c !== 0) return c;
  }
  return cmp(a.length, b.length);
}

export function compareSemver(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) {
    const c = cmp(a.core[i]!, b.core[i]!);
    if (c !== 0) return c;
  }
  return comparePre(a.pre, b.pre);
}

function operand(args: Value[], i: number): Version {
  const s = str(args, i);
  const v = parseSemver(s);
  if (!v) throw new BuiltinError(`operand ${i + 1}: string ${JSON.stringify(s)} is not a valid SemVer`);
  return v;
}

export const builtins: BuiltinDecl[] = [
  {
    name: 'semver.compare',
    args: ['string', 'string'],
    result: 'number',
    fn: (args) => RNumber.int(compareSemver(operand(args, 0), operand(args, 1))),
  },
  {
    name: 'semver.is_valid',
    args: ['any'],
    result: 'boolean',
    fn: ([v]) => typeof v === 'string' && parseSemver(v) !== undefined,
  },
];
