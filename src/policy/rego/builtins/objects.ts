/** object.get/keys/remove/filter/union/union_n/subset. */
import { RNumber, RObject, RSet, equal, typeName, type Value } from '../value.ts';
import { BuiltinTypeError, type BuiltinDecl } from './types.ts';
import { arr, obj, typeError } from './operands.ts';

/** Looks one step into a composite value, or undefined. */
export function child(v: Value, key: Value): Value | undefined {
  if (v instanceof RObject) return v.get(key);
  if (Array.isArray(v)) {
    if (!(key instanceof RNumber)) return undefined;
    const i = key.toSafeInteger();
    return i !== undefined && i >= 0 ? v[i] : undefined;
  }
  if (v instanceof RSet) return v.has(key) ? key : undefined;
  return undefined;
}

/** The keys named by a key-list operand: an object's keys, a set's members, an array's items. */
function keyList(args: Value[], i: number): Value[] {
  const v = args[i]!;
  if (v instanceof RObject) return [...v.keys()];
  if (v instanceof RSet) return [...v.values()];
  if (Array.isArray(v)) return v;
  throw typeError(i + 1, 'one of {object, set, array}', v);
}

/** Deep merge, b winning on conflicts; nested objects merge recursively. */
export function mergeObjects(a: RObject, b: RObject): RObject {
  const out = RObject.from(a.entries());
  for (const [k, bv] of b.entries()) {
    const av = a.get(k);
    out.set(k, av instanceof RObject && bv instanceof RObject ? mergeObjects(av, bv) : bv);
  }
  return out;
}

/** Whether `sub` occurs as a contiguous run inside `sup`. */
function isSubArray(sup: Value[], sub: Value[]): boolean {
  if (sub.length === 0) return true;
  for (let start = 0; start + sub.length <= sup.length; start++) {
    let ok = true;
    for (let j = 0; j < sub.length && ok; j++) ok = equal(sup[start + j]!, sub[j]!);
    if (ok) return true;
  }
  return false;
}

/** object.subset: objects recursively, sets by membership, arrays as contiguous runs. */
function isSubset(sup: Value, sub: Value): boolean {
  if (sup instanceof RObject && sub instanceof RObject) {
    for (const [k, sv] of sub.entries()) {
      const pv = sup.get(k);
      if (pv === undefined) return false;
      if (!isNestedSubset(pv, sv)) return false;
    }
    return true;
  }
  if (sup instanceof RSet && sub instanceof RSet) {
    for (const v of sub.values()) if (!sup.has(v)) return false;
    return true;
  }
  if (Array.isArray(sup) && Array.isArray(sub)) return isSubArray(sup, sub);
  if (Array.isArray(sup) && sub instanceof RSet) {
    for (const v of sub.values()) if (!sup.some((x) => equal(x, v))) return false;
    return true;
  }
  return false;
}

function isNestedSubset(sup: Value, sub: Value): boolean {
  const comparable =
    (sup instanceof RObject && sub instanceof RObject) ||
    (sup instanceof RSet && sub instanceof RSet) ||
    (Array.isArray(sup) && (Array.isArray(sub) || sub instanceof RSet));
  return comparable ? isSubset(sup, sub) : equal(sup, sub);
}

function checkSubsetOperands(args: Value[]): void {
  const [sup, sub] = args as [Value, Value];
  const collection = (v: Value) => v instanceof RObject || v instanceof RSet || Array.isArray(v);
  if (!collection(sup)) throw typeError(1, 'one of {object, set, array}', sup);
  if (!collection(sub)) throw typeError(2, 'one of {object, set, array}', sub);
  const sameKind =
    typeName(sup) === typeName(sub) || (Array.isArray(sup) && sub instanceof RSet);
  if (!sameKind) {
    throw new BuiltinTypeError('both arguments to object.subset must be of the same type or array and set');
  }
}

export const builtins: BuiltinDecl[] = [
  {
    name: 'object.get',
    args: ['object[any: any]', 'any', 'any'],
    result: 'any',
    fn: (args) => {
      const o = obj(args, 0);
      const key = args[1]!;
      const fallback = args[2]!;
      if (!Array.isArray(key)) return o.get(key) ?? fallback;
      let cur: Value = o;
      for (const k of key) {
        const next = child(cur, k);
        if (next === undefined) return fallback;
        cur = next;
      }
      return cur;
    },
  },
  {
    name: 'object.keys',
    args: ['object[any: any]'],
    result: 'set[any]',
    fn: (args) => RSet.from(obj(args, 0).keys()),
  },
  {
    name: 'object.remove',
    args: ['object[any: any]', 'any<array[any], object[any: any], set[any]>'],
    result: 'object[any: any]',
    fn: (args) => {
      const o = obj(args, 0);
      const drop = RSet.from(keyList(args, 1));
      const out = new RObject();
      for (const [k, v] of o.entries()) if (!drop.has(k)) out.set(k, v);
      return out;
    },
  },
  {
    name: 'object.filter',
    args: ['object[any: any]', 'any<array[any], object[any: any], set[any]>'],
    result: 'object[any: any]',
    fn: (args) => {
      const o = obj(args, 0);
      const out = new RObject();
      for (const k of keyList(args, 1)) {
        const v = o.get(k);
        if (v !== undefined) out.set(k, v);
      }
      return out;
    },
  },
  {
    name: 'object.union',
    args: ['object[any: any]', 'object[any: any]'],
    result: 'any',
    fn: (args) => mergeObjects(obj(args, 0), obj(args, 1)),
  },
  {
    name: 'object.union_n',
    args: ['array[object[any: any]]'],
    result: 'any',
    fn: (args) => {
      let out = new RObject();
      for (const v of arr(args, 0)) {
        if (!(v instanceof RObject)) {
          throw new BuiltinTypeError(`operand 1 must be array of objects but got array containing ${typeName(v)}`);
        }
        out = mergeObjects(out, v);
      }
      return out;
    },
  },
  {
    name: 'object.subset',
    args: ['any<array[any], object[any: any], set[any]>', 'any<array[any], object[any: any], set[any]>'],
    result: 'any',
    fn: (args) => {
      checkSubsetOperands(args);
      return isSubset(args[0]!, args[1]!);
    },
  },
];
