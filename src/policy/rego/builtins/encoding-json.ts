/** json.marshal*, json.unmarshal, json.is_valid and yaml.* (via the `yaml` package). */
import { parseDocument, stringify } from 'yaml';
import { RNumber, RObject, RSet, fromJS, toJS, JSONNumber, type Value } from '../value.ts';
import { BuiltinError, BuiltinTypeError, type BuiltinDecl, type WorkBudget } from './types.ts';
import { obj, str } from './operands.ts';

/** A JSON string as Go's encoding/json writes it (HTML-safe escapes included). */
function goJSONString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

function keyText(k: Value): string {
  return typeof k === 'string' ? k : marshal(k, undefined, '', 0);
}

/** Serialises like Go's json.Marshal / MarshalIndent (object keys sorted, sets as arrays). */
/** `budget`: with an indent or prefix, each line repeats them, so each level reserves its text first. */
function marshal(v: Value, indent: string | undefined, prefix: string, depth: number, budget?: WorkBudget): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return goJSONString(v);
  if (v instanceof RNumber) return v.toString();
  const items: string[] = [];
  let open: string;
  let close: string;
  if (Array.isArray(v) || v instanceof RSet) {
    [open, close] = ['[', ']'];
    for (const x of Array.isArray(v) ? v : v.sorted()) items.push(marshal(x, indent, prefix, depth + 1, budget));
  } else {
    [open, close] = ['{', '}'];
    const entries = [...(v as RObject).entries()].map(([k, x]): [string, Value] => [keyText(k), x]);
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const sep = indent === undefined ? ':' : ': ';
    for (const [k, x] of entries) items.push(goJSONString(k) + sep + marshal(x, indent, prefix, depth + 1, budget));
  }
  if (items.length === 0) return open + close;
  if (indent === undefined) return open + items.join(',') + close;
  if (budget) {
    const lineStart = 1 + prefix.length + indent.length * (depth + 1);
    let length = (lineStart + 1) * (items.length + 1);
    for (const item of items) length += item.length;
    budget.reserve(length, 'json.marshal_with_options');
  }
  const inner = '\n' + prefix + indent.repeat(depth + 1);
  return open + inner + items.join(',' + inner) + '\n' + prefix + indent.repeat(depth) + close;
}

interface MarshalOptions {
  indent: string | undefined;
  prefix: string;
}

function marshalOptions(o: RObject): MarshalOptions {
  let pretty: boolean | undefined;
  let indent = '\t';
  let prefix = '';
  for (const [k, v] of o.entries()) {
    if (k === 'pretty') {
      if (typeof v !== 'boolean') throw new BuiltinTypeError('pretty option must be a boolean');
      pretty = v;
    } else if (k === 'indent') {
      if (typeof v !== 'string') throw new BuiltinTypeError('indent option must be a string');
      indent = v;
      pretty ??= true;
    } else if (k === 'prefix') {
      if (typeof v !== 'string') throw new BuiltinTypeError('prefix option must be a string');
      prefix = v;
      pretty ??= true;
    } else {
      throw new BuiltinTypeError(`object contained unknown key ${JSON.stringify(typeof k === 'string' ? k : String(k))}`);
    }
  }
  return pretty ? { indent, prefix } : { indent: undefined, prefix: '' };
}

/** JSON text → Value with numbers exact (the reviver sees each number's source text). */
export function parseJSON(text: string): Value {
  const reviver = (_key: string, value: unknown, context?: { source?: string }): unknown =>
    typeof value === 'number' && context?.source !== undefined ? RNumber.parse(context.source) : value;
  return fromJS(JSON.parse(text, reviver as (this: unknown, key: string, value: unknown) => unknown));
}

function yamlMessage(e: { code: string; message: string; linePos?: { line: number }[] }): string {
  const line = e.linePos?.[0]?.line ?? 1;
  const first = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  if (e.code === 'MISSING_CHAR' && first.startsWith('Flow sequence')) return `yaml: line ${line}: did not find expected ',' or ']'`;
  if (e.code === 'MISSING_CHAR' && first.startsWith('Flow map')) return `yaml: line ${line}: did not find expected ',' or '}'`;
  return `yaml: line ${line}: ${first}`;
}

export function parseYAML(text: string): Value {
  const doc = parseDocument(text, { version: '1.1', intAsBigInt: true, uniqueKeys: false });
  if (doc.errors.length > 0) throw new BuiltinError(yamlMessage(doc.errors[0]!));
  return fromJS(doc.toJS({ maxAliasCount: 1000 }));
}

function yamlReady(x: unknown): unknown {
  if (x instanceof JSONNumber) return Number(x.text);
  if (Array.isArray(x)) return x.map(yamlReady);
  if (x && typeof x === 'object') {
    return Object.fromEntries(Object.entries(x as Record<string, unknown>).map(([k, v]) => [k, yamlReady(v)]));
  }
  return x;
}

function validity(parse: (s: string) => unknown): BuiltinDecl['fn'] {
  return ([v]) => {
    if (typeof v !== 'string') return false;
    try {
      parse(v);
      return true;
    } catch {
      return false;
    }
  };
}

export const builtins: BuiltinDecl[] = [
  { name: 'json.marshal', args: ['any'], result: 'string', fn: ([v]) => marshal(v!, undefined, '', 0) },
  {
    name: 'json.marshal_with_options',
    args: ['any', 'object[string: any<boolean, string>]'],
    result: 'string',
    fn: (args, ctx) => {
      const { indent, prefix } = marshalOptions(obj(args, 1));
      return prefix + marshal(args[0]!, indent, prefix, 0, ctx.budget);
    },
  },
  {
    name: 'json.unmarshal',
    args: ['string'],
    result: 'any',
    fn: (args) => {
      try {
        return parseJSON(str(args, 0));
      } catch (e) {
        if (e instanceof SyntaxError) throw new BuiltinError(e.message);
        throw e;
      }
    },
  },
  { name: 'json.is_valid', args: ['string'], result: 'boolean', fn: validity((s) => JSON.parse(s)) },
  {
    name: 'yaml.marshal',
    args: ['any'],
    result: 'string',
    fn: ([v]) => stringify(yamlReady(toJS(v!)), { version: '1.1' }),
  },
  { name: 'yaml.unmarshal', args: ['string'], result: 'any', fn: (args) => parseYAML(str(args, 0)) },
  { name: 'yaml.is_valid', args: ['string'], result: 'boolean', fn: validity(parseYAML) },
];
