/** is_* / type_name, to_number and the v0 cast_* built-ins. */
import { RNumber, RObject, RSet, typeName, type Value } from '../value.ts';
import { BuiltinError, BuiltinTypeError, type BuiltinDecl } from './types.ts';
import { typeError } from './operands.ts';

function check(name: string, test: (v: Value) => boolean): BuiltinDecl {
  return { name, args: ['any'], result: 'boolean', fn: ([v]) => test(v!) };
}

/** A v0 cast: the converted value, or OPA's type error naming what the cast accepts. */
function cast(name: string, result: string, accepts: string, convert: (v: Value) => Value | undefined): BuiltinDecl {
  return {
    name,
    deprecated: true,
    args: ['any'],
    result,
    fn: ([v]) => {
      const out = convert(v!);
      if (out === undefined) throw typeError(1, accepts, v!);
      return out;
    },
  };
}

/** Go's strconv.ParseFloat syntax, minus hex floats, Inf and NaN (OPA rejects those). */
function parseNumberText(s: string): RNumber {
  const n = RNumber.tryParse(s.charCodeAt(0) === 43 /* + */ ? s.slice(1) : s, true);
  if (n) return n;
  // Go would parse these as ±Inf/NaN; OPA refuses them as not being numbers at all.
  if (/^[+-]?(inf|infinity|nan)$/i.test(s)) {
    throw new BuiltinTypeError(`operand 1 must be a valid number string but got ${JSON.stringify(s)}`);
  }
  throw new BuiltinError(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax`);
}

export const builtins: BuiltinDecl[] = [
  check('is_number', (v) => v instanceof RNumber),
  check('is_string', (v) => typeof v === 'string'),
  check('is_boolean', (v) => typeof v === 'boolean'),
  check('is_array', (v) => Array.isArray(v)),
  check('is_set', (v) => v instanceof RSet),
  check('is_object', (v) => v instanceof RObject),
  check('is_null', (v) => v === null),
  { name: 'type_name', args: ['any'], result: 'string', fn: ([v]) => typeName(v!) },
  {
    name: 'to_number',
    args: ['any<null, boolean, number, string>'],
    result: 'number',
    fn: ([v]) => {
      if (v === null) return RNumber.ZERO;
      if (typeof v === 'boolean') return v ? RNumber.ONE : RNumber.ZERO;
      if (v instanceof RNumber) return v;
      if (typeof v === 'string') return parseNumberText(v);
      throw typeError(1, 'one of {null, boolean, number, string}', v!);
    },
  },
  cast('cast_array', 'array[any]', 'one of {array, set}', (v) => (Array.isArray(v) ? v : v instanceof RSet ? v.sorted().slice() : undefined)),
  cast('cast_set', 'set[any]', 'one of {array, set}', (v) => (v instanceof RSet ? v : Array.isArray(v) ? RSet.from(v) : undefined)),
  cast('cast_string', 'string', 'string', (v) => (typeof v === 'string' ? v : undefined)),
  cast('cast_boolean', 'boolean', 'boolean', (v) => (typeof v === 'boolean' ? v : undefined)),
  cast('cast_null', 'null', 'null', (v) => (v === null ? null : undefined)),
  cast('cast_object', 'object[any: any]', 'object', (v) => (v instanceof RObject ? v : undefined)),
];
