/** Comparison and arithmetic operators, set operators, rounding and numbers.range*. */
import { RNumber, RObject, RSet, compare, equal, type Value } from '../value.ts';
import { BuiltinError, binaryBuiltin, type BuiltinContext, type BuiltinDecl } from './types.ts';
import { int, num, numberOperand, set, typeError } from './operands.ts';

/** Ranges longer than this are refused rather than exhausting memory. */
const MAX_RANGE = 10_000_000;

function comparison(name: string, infix: string, test: (c: number) => boolean): BuiltinDecl {
  return binaryBuiltin({ name, infix, args: ['any', 'any'], result: 'boolean' }, (a, b) => test(compare(a, b)));
}

function arithmetic(name: string, infix: string, op: (a: RNumber, b: RNumber) => RNumber): BuiltinDecl {
  return binaryBuiltin({ name, infix, args: ['number', 'number'], result: 'number' }, (a, b) => op(numberOperand(a, 1), numberOperand(b, 2)));
}

/** Runs an RNumber operation, turning its RangeError (zero divisor, …) into a built-in error. */
function guarded(op: (a: RNumber, b: RNumber) => RNumber): (a: RNumber, b: RNumber) => RNumber {
  return (a, b) => {
    try {
      return op(a, b);
    } catch (e) {
      if (e instanceof RangeError) throw new BuiltinError(e.message);
      throw e;
    }
  };
}

function setDifference(a: RSet, b: RSet): RSet {
  const out = new RSet();
  for (const v of a.values()) if (!b.has(v)) out.add(v);
  return out;
}

export function setUnion(sets: Iterable<RSet>): RSet {
  const out = new RSet();
  for (const s of sets) for (const v of s.values()) out.add(v);
  return out;
}

export function setIntersection(sets: RSet[]): RSet {
  if (sets.length === 0) return new RSet();
  const [first, ...rest] = [...sets].sort((x, y) => x.size - y.size);
  const out = new RSet();
  for (const v of first!.values()) if (rest.every((s) => s.has(v))) out.add(v);
  return out;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Elements between two looks at the budget while a range is built. */
const RANGE_CHUNK = 64 * 1024;

function range(from: bigint, to: bigint, step: bigint, ctx: BuiltinContext): Value[] {
  const length = (from <= to ? to - from : from - to) / step + 1n;
  // Too large for the budget is a budget error (the evaluation fails); without one, a built-in error.
  if (ctx.budget) ctx.budget.reserve(length > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(length), 'numbers.range');
  else if (length > BigInt(MAX_RANGE)) throw new BuiltinError(`range too large (${length} elements)`);
  const out: Value[] = [];
  const delta = from <= to ? step : -step;
  // Within safe integers the loop runs on plain numbers (several times faster than bigints).
  const safe = [from, to, delta].every((x) => x >= -MAX_SAFE && x <= MAX_SAFE);
  let big = from;
  let small = Number(from);
  const smallDelta = Number(delta);
  for (let n = Number(length); n > 0; n -= RANGE_CHUNK) {
    // Building costs far more than reserving counted: look at the clock as it goes.
    if (out.length > 0) ctx.budget?.charge(RANGE_CHUNK);
    for (let c = Math.min(n, RANGE_CHUNK); c > 0; c--) {
      if (safe) {
        out.push(RNumber.int(small));
        small += smallDelta;
      } else {
        out.push(RNumber.fromBigInt(big));
        big += delta;
      }
    }
  }
  return out;
}

/** `x in coll` (internal.member_2) and `k, v in coll` (internal.member_3). */
function member(x: Value, coll: Value): boolean {
  if (coll instanceof RSet) return coll.has(x);
  if (Array.isArray(coll)) return coll.some((v) => equal(v, x));
  if (coll instanceof RObject) {
    for (const v of coll.values()) if (equal(v, x)) return true;
  }
  return false;
}

function memberWithKey(k: Value, x: Value, coll: Value): boolean {
  if (Array.isArray(coll)) {
    if (!(k instanceof RNumber)) return false;
    const i = k.toSafeInteger();
    return i !== undefined && i >= 0 && i < coll.length && equal(coll[i]!, x);
  }
  if (coll instanceof RObject) {
    const v = coll.get(k);
    return v !== undefined && equal(v, x);
  }
  if (coll instanceof RSet) return equal(k, x) && coll.has(x);
  return false;
}

export const builtins: BuiltinDecl[] = [
  comparison('equal', '==', (c) => c === 0),
  comparison('neq', '!=', (c) => c !== 0),
  comparison('lt', '<', (c) => c < 0),
  comparison('lte', '<=', (c) => c <= 0),
  comparison('gt', '>', (c) => c > 0),
  comparison('gte', '>=', (c) => c >= 0),
  arithmetic('plus', '+', (a, b) => a.add(b)),
  arithmetic('mul', '*', (a, b) => a.mul(b)),
  arithmetic('div', '/', guarded((a, b) => a.div(b))),
  arithmetic('rem', '%', guarded((a, b) => a.rem(b))),
  {
    name: 'minus',
    infix: '-',
    args: ['any<number, set[any]>', 'any<number, set[any]>'],
    result: 'any<number, set[any]>',
    fn: (args) => {
      const [a] = args;
      if (a instanceof RNumber) return a.sub(num(args, 1));
      if (a instanceof RSet) return setDifference(a, set(args, 1));
      throw typeError(1, 'one of {number, set}', a!);
    },
  },
  {
    name: 'or',
    infix: '|',
    args: ['set[any]', 'set[any]'],
    result: 'set[any]',
    fn: (args) => setUnion([set(args, 0), set(args, 1)]),
  },
  {
    name: 'and',
    infix: '&',
    args: ['set[any]', 'set[any]'],
    result: 'set[any]',
    fn: (args) => setIntersection([set(args, 0), set(args, 1)]),
  },
  { name: 'abs', args: ['number'], result: 'number', fn: (args) => num(args, 0).abs() },
  { name: 'ceil', args: ['number'], result: 'number', fn: (args) => num(args, 0).ceil() },
  { name: 'floor', args: ['number'], result: 'number', fn: (args) => num(args, 0).floor() },
  { name: 'round', args: ['number'], result: 'number', fn: (args) => num(args, 0).round() },
  {
    name: 'numbers.range',
    args: ['number', 'number'],
    result: 'array[number]',
    fn: (args, ctx) => range(int(args, 0).toBigInt()!, int(args, 1).toBigInt()!, 1n, ctx),
  },
  {
    name: 'numbers.range_step',
    args: ['number', 'number', 'number'],
    result: 'array[number]',
    fn: (args, ctx) => {
      const from = int(args, 0).toBigInt()!;
      const to = int(args, 1).toBigInt()!;
      const step = num(args, 2);
      if (!step.isInteger() || step.sign() <= 0) throw new BuiltinError('step must be a positive integer');
      return range(from, to, step.toBigInt()!, ctx);
    },
  },
  binaryBuiltin({ name: 'internal.member_2', args: ['any', 'any'], result: 'boolean' }, member),
  {
    name: 'internal.member_3',
    args: ['any', 'any', 'any'],
    result: 'boolean',
    fn: ([k, x, coll]) => memberWithKey(k!, x!, coll!),
  },
];

