/** String built-ins with Go's semantics (code points, not UTF-16 units, wherever Go uses runes). */
import { RNumber, RSet, typeName, type Value } from '../value.ts';
import { BuiltinError, BuiltinTypeError, binaryBuiltin, type BuiltinDecl, type WorkBudget } from './types.ts';
import { int, num, obj, str, stringOperand, typeError } from './operands.ts';

/** Strings in an array or set operand; bad elements get OPA's element message. */
function stringMembers(args: Value[], i: number, kinds: string): string[] {
  return stringMembersOf(args[i]!, i + 1, kinds);
}

/** The same for the value of operand `pos` (1-based). */
function stringMembersOf(v: Value, pos: number, kinds: string): string[] {
  let items: Iterable<Value>;
  if (Array.isArray(v)) items = v;
  else if (v instanceof RSet) items = v.sorted();
  else throw typeError(pos, kinds, v);
  const out: string[] = [];
  for (const x of items) {
    if (typeof x !== 'string') {
      throw new BuiltinTypeError(
        `operand ${pos} must be ${typeName(v)} of strings but got ${typeName(v)} containing ${typeName(x)}`,
      );
    }
    out.push(x);
  }
  return out;
}

/** A built-in testing two strings (`contains`, `startswith`, …). */
function stringTest(name: string, test: (s: string, t: string) => boolean): BuiltinDecl {
  return binaryBuiltin({ name, args: ['string', 'string'], result: 'boolean' }, (a, b) => test(stringOperand(a, 1), stringOperand(b, 2)));
}

/** A string, or the strings of an array/set (strings.any_prefix_match and friends). */
function stringOrMembers(args: Value[], i: number): string[] {
  const v = args[i]!;
  if (typeof v === 'string') return [v];
  return stringMembers(args, i, 'one of {string, set, array}');
}

function codePoints(s: string): string[] {
  return [...s];
}

/** Go's unicode.IsSpace. */
export function isGoSpace(c: string): boolean {
  return /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u.test(c);
}

function trimWith(s: string, drop: (c: string) => boolean, left: boolean, right: boolean): string {
  const cps = codePoints(s);
  let start = 0;
  let end = cps.length;
  if (left) while (start < end && drop(cps[start]!)) start++;
  if (right) while (end > start && drop(cps[end - 1]!)) end--;
  return cps.slice(start, end).join('');
}

function cutset(chars: string): (c: string) => boolean {
  const set = new Set(codePoints(chars));
  return (c) => set.has(c);
}

/** Index in code points of a UTF-16 offset. */
function runeIndex(s: string, unitOffset: number): number {
  return codePoints(s.slice(0, unitOffset)).length;
}

/** Go's strings.ReplaceAll, including the empty-pattern case (insert around every rune). */
/** The output can be far longer than `s` (a long `repl`): its length is reserved before it is built. */
function replaceAll(s: string, old: string, repl: string, budget: WorkBudget | undefined): string {
  const pieces = old !== '' ? s.split(old) : ['', ...codePoints(s), ''];
  budget?.reserve(s.length - (old.length * (pieces.length - 1)) + repl.length * (pieces.length - 1), 'replace');
  return pieces.join(repl);
}

/** Go's strings.NewReplacer: at each position the first matching pair (in argument order) wins. */
function replaceMany(s: string, pairs: [string, string][], budget: WorkBudget | undefined): string {
  const candidates = pairs.filter(([old]) => old !== '');
  let out = '';
  let i = 0;
  while (i < s.length) {
    // Each position tries every pattern: that is the work, and replacements can grow the output.
    budget?.charge(candidates.length);
    const hit = candidates.find(([old]) => s.startsWith(old, i));
    if (hit) {
      out += hit[1];
      budget?.grew(hit[1].length, out.length, 'strings.replace_n');
      i += hit[0].length;
    } else {
      out += s[i];
      i++;
    }
  }
  return out;
}

function formatInt(n: RNumber, base: number): string {
  const truncated = n.trunc().toBigInt()!;
  return truncated.toString(base);
}

function countNonOverlapping(s: string, sub: string): number {
  if (sub === '') return codePoints(s).length + 1;
  return s.split(sub).length - 1;
}

export const builtins: BuiltinDecl[] = [
  binaryBuiltin({ name: 'concat', args: ['string', 'any<array[string], set[string]>'], result: 'string' }, (separator, parts, ctx) => {
    // An array of strings (the usual operand) is joined as it is, without a checked copy.
    const strings = Array.isArray(parts) && parts.every((p) => typeof p === 'string') ? parts : stringMembersOf(parts, 2, 'one of {array, set}');
    const glue = stringOperand(separator, 1);
    if (ctx.budget) {
      let length = glue.length * Math.max(0, strings.length - 1);
      for (const part of strings) length += (part as string).length;
      ctx.budget.reserve(length, 'concat');
    }
    return strings.join(glue);
  }),
  stringTest('contains', (s, sub) => s.includes(sub)),
  stringTest('startswith', (s, prefix) => s.startsWith(prefix)),
  stringTest('endswith', (s, suffix) => s.endsWith(suffix)),
  {
    name: 'format_int',
    args: ['number', 'number'],
    result: 'string',
    fn: (args) => {
      const n = num(args, 0);
      const base = num(args, 1).toSafeInteger();
      if (base !== 2 && base !== 8 && base !== 10 && base !== 16) {
        throw new BuiltinTypeError('operand 2 must be one of {2, 8, 10, 16}');
      }
      return formatInt(n, base);
    },
  },
  {
    name: 'indexof',
    args: ['string', 'string'],
    result: 'number',
    fn: (args) => {
      const s = str(args, 0);
      const i = s.indexOf(str(args, 1));
      return RNumber.int(i < 0 ? -1 : runeIndex(s, i));
    },
  },
  {
    name: 'indexof_n',
    args: ['string', 'string'],
    result: 'array[number]',
    fn: (args) => {
      const s = str(args, 0);
      const sub = str(args, 1);
      const out: Value[] = [];
      for (let i = s.indexOf(sub); i >= 0 && i <= s.length; i = s.indexOf(sub, i + 1)) {
        out.push(RNumber.int(runeIndex(s, i)));
        if (sub === '' && i === s.length) break;
      }
      return out;
    },
  },
  { name: 'lower', args: ['string'], result: 'string', fn: (a) => str(a, 0).toLowerCase() },
  { name: 'upper', args: ['string'], result: 'string', fn: (a) => str(a, 0).toUpperCase() },
  {
    name: 'replace',
    args: ['string', 'string', 'string'],
    result: 'string',
    fn: (a, ctx) => replaceAll(str(a, 0), str(a, 1), str(a, 2), ctx.budget),
  },
  {
    name: 'strings.replace_n',
    args: ['object[string: string]', 'string'],
    result: 'string',
    fn: (args, ctx) => {
      const patterns = obj(args, 0);
      const s = str(args, 1);
      const pairs: [string, string][] = [];
      for (const [k, v] of patterns.sortedEntries()) {
        if (typeof k !== 'string') throw new BuiltinTypeError('operand 1 non-string key found in pattern object');
        if (typeof v !== 'string') throw new BuiltinTypeError('operand 1 non-string value found in pattern object');
        pairs.push([k, v]);
      }
      return replaceMany(s, pairs, ctx.budget);
    },
  },
  {
    name: 'split',
    args: ['string', 'string'],
    result: 'array[string]',
    fn: (args) => {
      const s = str(args, 0);
      const d = str(args, 1);
      return d === '' ? codePoints(s) : s.split(d);
    },
  },
  {
    name: 'strings.split_n',
    args: ['string', 'string', 'number'],
    result: 'array[string]',
    fn: (args) => {
      const s = str(args, 0);
      const d = str(args, 1);
      const n = int(args, 2);
      const parts = d === '' ? codePoints(s) : s.split(d);
      const count = n.toSafeInteger() ?? (n.sign() < 0 ? -parts.length : parts.length);
      // A positive n keeps the first n parts, a negative n the last |n|.
      return count >= 0 ? parts.slice(0, count) : parts.slice(Math.max(0, parts.length + count));
    },
  },
  {
    name: 'substring',
    args: ['string', 'number', 'number'],
    result: 'string',
    fn: (args) => {
      const cps = codePoints(str(args, 0));
      const offset = int(args, 1);
      const length = int(args, 2);
      if (offset.sign() < 0) throw new BuiltinError('negative offset');
      const start = offset.toSafeInteger() ?? cps.length;
      if (start >= cps.length) return '';
      const len = length.toSafeInteger() ?? cps.length;
      if (len < 0) return cps.slice(start).join('');
      return cps.slice(start, Math.min(cps.length, start + len)).join('');
    },
  },
  { name: 'trim', args: ['string', 'string'], result: 'string', fn: (a) => trimWith(str(a, 0), cutset(str(a, 1)), true, true) },
  {
    name: 'trim_left',
    args: ['string', 'string'],
    result: 'string',
    fn: (a) => trimWith(str(a, 0), cutset(str(a, 1)), true, false),
  },
  {
    name: 'trim_right',
    args: ['string', 'string'],
    result: 'string',
    fn: (a) => trimWith(str(a, 0), cutset(str(a, 1)), false, true),
  },
  binaryBuiltin({ name: 'trim_prefix', args: ['string', 'string'], result: 'string' }, (a, b) => {
    const s = stringOperand(a, 1);
    const p = stringOperand(b, 2);
    return s.startsWith(p) ? s.slice(p.length) : s;
  }),
  binaryBuiltin({ name: 'trim_suffix', args: ['string', 'string'], result: 'string' }, (a, b) => {
    const s = stringOperand(a, 1);
    const p = stringOperand(b, 2);
    return p !== '' && s.endsWith(p) ? s.slice(0, s.length - p.length) : s;
  }),
  { name: 'trim_space', args: ['string'], result: 'string', fn: (a) => trimWith(str(a, 0), isGoSpace, true, true) },
  {
    name: 'strings.any_prefix_match',
    args: ['any<string, array[string], set[string]>', 'any<string, array[string], set[string]>'],
    result: 'boolean',
    fn: (args, ctx) => {
      const search = stringOrMembers(args, 0);
      const base = stringOrMembers(args, 1);
      // Every pair is a comparison: the work is the product of the two sizes.
      return search.some((s) => (ctx.budget?.charge(base.length), base.some((b) => s.startsWith(b))));
    },
  },
  {
    name: 'strings.any_suffix_match',
    args: ['any<string, array[string], set[string]>', 'any<string, array[string], set[string]>'],
    result: 'boolean',
    fn: (args, ctx) => {
      const search = stringOrMembers(args, 0);
      const base = stringOrMembers(args, 1);
      return search.some((s) => (ctx.budget?.charge(base.length), base.some((b) => s.endsWith(b))));
    },
  },
  {
    name: 'strings.count',
    args: ['string', 'string'],
    result: 'number',
    fn: (a) => RNumber.int(countNonOverlapping(str(a, 0), str(a, 1))),
  },
  {
    name: 'strings.reverse',
    args: ['string'],
    result: 'string',
    fn: (a) => codePoints(str(a, 0)).reverse().join(''),
  },
];

