/** json.verify_schema and json.match_schema. */
import { RObject, type Value } from '../value.ts';
import { BuiltinError, type BuiltinDecl } from './types.ts';
import { parseJSON } from './encoding-json.ts';
import { SchemaInvalid, Validator, checkSchema } from './jsonschema-validator.ts';

/** A schema or document operand: a JSON string or a value. */
function documentOf(args: Value[], i: number): Value {
  const v = args[i]!;
  if (typeof v !== 'string') return v;
  try {
    return parseJSON(v);
  } catch (e) {
    throw new BuiltinError(e instanceof Error ? e.message : String(e));
  }
}

function schemaOf(args: Value[], i: number): Value {
  const schema = documentOf(args, i);
  checkSchema(schema);
  return schema;
}

export const builtins: BuiltinDecl[] = [
  {
    name: 'json.verify_schema',
    args: ['any<string, object[any: any]>'],
    result: 'array[any<boolean, null, string>]',
    fn: (args) => {
      try {
        schemaOf(args, 0);
        return [true, null];
      } catch (e) {
        if (e instanceof SchemaInvalid || e instanceof BuiltinError) return [false, `jsonschema: ${e.message}`];
        throw e;
      }
    },
  },
  {
    name: 'json.match_schema',
    args: ['any<string, object[any: any]>', 'any<string, object[any: any]>'],
    result: 'array[any<boolean, array[object[string: any]]>]',
    fn: (args) => {
      const doc = documentOf(args, 0);
      let schema: Value;
      try {
        schema = schemaOf(args, 1);
      } catch (e) {
        if (e instanceof SchemaInvalid) throw new BuiltinError(e.message);
        throw e;
      }
      const validator = new Validator(schema);
      validator.validate(schema, doc, []);
      const errors = validator.errors.map((e) =>
        RObject.from([
          ['error', `${e.field}: ${e.desc}`],
          ['type', e.type],
          ['field', e.field],
          ['desc', e.desc],
        ]),
      );
      return [errors.length === 0, errors];
    },
  },
];
