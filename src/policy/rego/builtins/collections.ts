/** Arrays (array.concat/slice/reverse/flatten) and sets (intersection, union, v0 set_diff). */
import { RNumber, RSet, typeName, type Value } from '../value.ts';
import { BuiltinTypeError, type BuiltinDecl } from './types.ts';
import { arr, int, set } from './operands.ts';
import { setIntersection, setUnion } from './operators.ts';

/** The members of a set of sets, with OPA's element error message. */
function setsOf(args: Value[], i: number): RSet[] {
  const outer = set(args, i);
  const out: RSet[] = [];
  for (const v of outer.values()) {
    if (!(v instanceof RSet)) {
      throw new BuiltinTypeError(`operand ${i + 1} must be set of sets but got set containing ${typeName(v)}`);
    }
    out.push(v);
  }
  return out;
}

/** Clamps a slice bound the way OPA does: negative → 0, beyond the end → length. */
function clampIndex(n: RNumber, length: number): number {
  if (n.sign() < 0) return 0;
  const i = n.toSafeInteger();
  return i === undefined || i > length ? length : i;
}

/** Flattens exactly one level of nesting, like OPA's array.flatten. */
function flattenOnce(items: Value[]): Value[] {
  const out: Value[] = [];
  for (const v of items) {
    if (Array.isArray(v)) out.push(...v);
    else out.push(v);
  }
  return out;
}

export const builtins: BuiltinDecl[] = [
  {
    name: 'array.concat',
    args: ['array[any]', 'array[any]'],
    result: 'array[any]',
    fn: (args) => arr(args, 0).concat(arr(args, 1)),
  },
  {
    name: 'array.slice',
    args: ['array[any]', 'number', 'number'],
    result: 'array[any]',
    fn: (args) => {
      const a = arr(args, 0);
      const start = clampIndex(int(args, 1), a.length);
      const stop = clampIndex(int(args, 2), a.length);
      return start >= stop ? [] : a.slice(start, stop);
    },
  },
  {
    name: 'array.reverse',
    args: ['array[any]'],
    result: 'array[any]',
    fn: (args) => arr(args, 0).slice().reverse(),
  },
  {
    name: 'array.flatten',
    args: ['array[any]'],
    result: 'array[any]',
    fn: (args) => flattenOnce(arr(args, 0)),
  },
  {
    name: 'intersection',
    args: ['set[set[any]]'],
    result: 'set[any]',
    fn: (args) => setIntersection(setsOf(args, 0)),
  },
  {
    name: 'union',
    args: ['set[set[any]]'],
    result: 'set[any]',
    fn: (args) => setUnion(setsOf(args, 0)),
  },
  {
    name: 'set_diff',
    deprecated: true,
    args: ['set[any]', 'set[any]'],
    result: 'set[any]',
    fn: (args) => {
      const a = set(args, 0);
      const b = set(args, 1);
      const out = new RSet();
      for (const v of a.values()) if (!b.has(v)) out.add(v);
      return out;
    },
  },
];

