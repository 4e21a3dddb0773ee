/** Aggregates (count sum product max min sort, v0 all any) and bits.*. */
import { RNumber, RObject, RSet, compare, typeName, type Value } from '../value.ts';
import { BuiltinTypeError, type BuiltinDecl } from './types.ts';
import { int, typeError } from './operands.ts';
import { BudgetExceeded } from '../eval/state.ts';

/** Members of an array or set operand, checked to be numbers. */
function numbersOf(args: Value[], i: number): RNumber[] {
  const v = args[i]!;
  let items: Iterable<Value>;
  if (Array.isArray(v)) items = v;
  else if (v instanceof RSet) items = v.values();
  else throw typeError(i + 1, 'one of {array, set}', v);
  const out: RNumber[] = [];
  for (const x of items) {
    if (!(x instanceof RNumber)) {
      throw new BuiltinTypeError(
        `operand ${i + 1} must be ${typeName(v)} of numbers but got ${typeName(v)} containing ${typeName(x)}`,
      );
    }
    out.push(x);
  }
  return out;
}

function membersOf(args: Value[], i: number): Value[] {
  const v = args[i]!;
  if (Array.isArray(v)) return v;
  if (v instanceof RSet) return [...v.values()];
  throw typeError(i + 1, 'one of {array, set}', v);
}

function countOf(v: Value): number {
  if (typeof v === 'string') {
    let n = 0;
    for (const _ of v) n++; // code points, like Go's utf8.RuneCountInString
    return n;
  }
  if (Array.isArray(v)) return v.length;
  if (v instanceof RObject || v instanceof RSet) return v.size;
  throw typeError(1, 'one of {array, object, set, string}', v);
}

function extreme(args: Value[], sign: 1 | -1): Value | undefined {
  let best: Value | undefined;
  for (const v of membersOf(args, 0)) if (best === undefined || compare(v, best) * sign > 0) best = v;
  return best;
}

const MAX_SHIFT = 1n << 19n;

/** The shift amount of bits.lsh/rsh: a non-negative integer. */
function shiftOf(args: Value[]): bigint {
  const n = int(args, 1);
  if (n.sign() < 0) {
    throw new BuiltinTypeError('operand 2 must be an unsigned integer number but got a negative integer');
  }
  return n.toBigInt()!;
}

function bitwise(name: string, op: (a: bigint, b: bigint) => bigint): BuiltinDecl {
  return {
    name,
    args: ['number', 'number'],
    result: 'number',
    fn: (args) => RNumber.fromBigInt(op(int(args, 0).toBigInt()!, int(args, 1).toBigInt()!)),
  };
}

const ANY_COLLECTION = 'any<array[any], set[any]>';

export const builtins: BuiltinDecl[] = [
  {
    name: 'count',
    args: ['any<array[any], object[any: any], set[any], string>'],
    result: 'number',
    fn: ([v]) => RNumber.int(countOf(v!)),
  },
  {
    name: 'sum',
    args: ['any<array[number], set[number]>'],
    result: 'number',
    fn: (args) => numbersOf(args, 0).reduce((acc, n) => acc.add(n), RNumber.ZERO),
  },
  {
    name: 'product',
    args: ['any<array[number], set[number]>'],
    result: 'number',
    fn: (args) => numbersOf(args, 0).reduce((acc, n) => acc.mul(n), RNumber.ONE),
  },
  { name: 'max', args: [ANY_COLLECTION], result: 'any', fn: (args) => extreme(args, 1) },
  { name: 'min', args: [ANY_COLLECTION], result: 'any', fn: (args) => extreme(args, -1) },
  {
    name: 'sort',
    args: [ANY_COLLECTION],
    result: 'array[any]',
    fn: (args) => {
      const v = args[0]!;
      if (v instanceof RSet) return v.sorted().slice();
      return [...membersOf(args, 0)].sort(compare);
    },
  },
  {
    name: 'all',
    deprecated: true,
    args: [ANY_COLLECTION],
    result: 'boolean',
    fn: (args) => membersOf(args, 0).every((v) => v === true),
  },
  {
    name: 'any',
    deprecated: true,
    args: [ANY_COLLECTION],
    result: 'boolean',
    fn: (args) => membersOf(args, 0).some((v) => v === true),
  },
  bitwise('bits.and', (a, b) => a & b),
  bitwise('bits.or', (a, b) => a | b),
  bitwise('bits.xor', (a, b) => a ^ b),
  {
    name: 'bits.negate',
    args: ['number'],
    result: 'number',
    fn: (args) => RNumber.fromBigInt(~int(args, 0).toBigInt()!),
  },
  {
    name: 'bits.lsh',
    args: ['number', 'number'],
    result: 'number',
    fn: (args) => {
      const a = int(args, 0).toBigInt()!;
      const shift = shiftOf(args);
      // Past this the number would be refused anyway (see MAX_NUMBER_BITS in eval/calls.ts): it is not built.
      if (shift > MAX_SHIFT) throw new BudgetExceeded('size', `bits.lsh: result too large (shift by ${shift} bits)`);
      return RNumber.fromBigInt(a << shift);
    },
  },
  {
    name: 'bits.rsh',
    args: ['number', 'number'],
    result: 'number',
    fn: (args) => {
      const a = int(args, 0).toBigInt()!;
      return RNumber.fromBigInt(a >> shiftOf(args));
    },
  },
];
