/** Operand checks that produce OPA's exact type-error messages. */
import { RNumber, RObject, RSet, typeName, type Value } from '../value.ts';
import { BuiltinTypeError } from './types.ts';

export function typeError(pos: number, want: string, got: Value): BuiltinTypeError {
  return new BuiltinTypeError(`operand ${pos} must be ${want} but got ${typeName(got)}`);
}

export function str(args: Value[], i: number): string {
  return stringOperand(args[i]!, i + 1);
}

/** Operand `pos` (1-based), which must be a string. */
export function stringOperand(v: Value, pos: number): string {
  if (typeof v !== 'string') throw typeError(pos, 'string', v);
  return v;
}

export function num(args: Value[], i: number): RNumber {
  return numberOperand(args[i]!, i + 1);
}

/** Operand `pos` (1-based), which must be a number. */
export function numberOperand(v: Value, pos: number): RNumber {
  if (!(v instanceof RNumber)) throw typeError(pos, 'number', v);
  return v;
}

export function bool(args: Value[], i: number): boolean {
  const v = args[i]!;
  if (typeof v !== 'boolean') throw typeError(i + 1, 'boolean', v);
  return v;
}

export function arr(args: Value[], i: number): Value[] {
  return arrayOperand(args[i]!, i + 1);
}

/** Operand `pos` (1-based), which must be an array. */
export function arrayOperand(v: Value, pos: number): Value[] {
  if (!Array.isArray(v)) throw typeError(pos, 'array', v);
  return v;
}

export function obj(args: Value[], i: number): RObject {
  const v = args[i]!;
  if (!(v instanceof RObject)) throw typeError(i + 1, 'object', v);
  return v;
}

export function set(args: Value[], i: number): RSet {
  const v = args[i]!;
  if (!(v instanceof RSet)) throw typeError(i + 1, 'set', v);
  return v;
}

/** An integer operand (OPA: "operand N must be integer number but got floating-point number"). */
export function int(args: Value[], i: number): RNumber {
  const n = num(args, i);
  if (!n.isInteger()) {
    throw new BuiltinTypeError(`operand ${i + 1} must be integer number but got floating-point number`);
  }
  return n;
}

/** A small integer operand as a JS number (sizes, counts, indexes). */
export function smallInt(args: Value[], i: number): number {
  const n = int(args, i);
  const s = n.toSafeInteger();
  if (s === undefined) throw new BuiltinTypeError(`operand ${i + 1} must be integer number but got number`);
  return s;
}

/** "one of {array, set}" style check returning the members of an array or set. */
export function arrayOrSet(args: Value[], i: number): Value[] {
  const v = args[i]!;
  if (Array.isArray(v)) return v;
  if (v instanceof RSet) return [...v.values()];
  throw typeError(i + 1, 'one of {array, set}', v);
}

/** Strings from an array or set operand, with OPA's message for a bad element. */
export function stringsOf(args: Value[], i: number, want = 'one of {array, set}'): string[] {
  const v = args[i]!;
  let items: Iterable<Value>;
  if (Array.isArray(v)) items = v;
  else if (v instanceof RSet) items = v.values();
  else throw typeError(i + 1, want, v);
  const out: string[] = [];
  for (const x of items) {
    if (typeof x !== 'string') throw typeError(i + 1, `${want} of strings`, x);
    out.push(x);
  }
  return out;
}

export const num$ = RNumber.of;
