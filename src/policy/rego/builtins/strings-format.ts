/** sprintf (Go's fmt) and strings.render_template (Go's text/template). */
import { RNumber, RObject, type Value } from '../value.ts';
import { BuiltinError, binaryBuiltin, type BuiltinDecl } from './types.ts';
import { RegoError } from '../errors.ts';
import { arrayOperand, obj, str, stringOperand } from './operands.ts';
import { goSprintf, type GoArg } from './go-fmt.ts';
import { regoText } from './rego-text.ts';
import { renderTemplate } from './go-template.ts';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Converts a value the way OPA does before calling fmt.Sprintf. */
export function toGoArg(v: Value): GoArg {
  if (typeof v === 'string') return { kind: 'string', v };
  if (v instanceof RNumber) {
    const text = v.toString(); // OPA decides by the number's text: "1.0" is a float, "1" an int
    if (/^-?[0-9]+$/.test(text)) {
      const b = BigInt(text);
      return b >= INT64_MIN && b <= INT64_MAX ? { kind: 'int', v: b } : { kind: 'bigint', v: b };
    }
    const f = Number(text);
    return Number.isFinite(f) ? { kind: 'float', v: f } : { kind: 'string', v: text };
  }
  return { kind: 'string', v: regoText(v) };
}

export const builtins: BuiltinDecl[] = [
  binaryBuiltin({ name: 'sprintf', args: ['string', 'array[any]'], result: 'string' }, (format, values, ctx) =>
    goSprintf(stringOperand(format, 1), arrayOperand(values, 2).map(toGoArg), ctx.budget)),
  {
    name: 'strings.render_template',
    args: ['string', 'object[string: any]'],
    result: 'string',
    fn: (args, ctx) => {
      const template = str(args, 0);
      const vars: RObject = obj(args, 1);
      try {
        return renderTemplate(template, vars, ctx.budget);
      } catch (e) {
        if (e instanceof RegoError) throw e; // the budget's: it fails the evaluation
        throw new BuiltinError(e instanceof Error ? e.message : String(e));
      }
    },
  },
];
