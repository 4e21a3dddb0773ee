/** uri.parse and uri.is_valid: URIs read with Go's net/url rules (urlquery.* lives elsewhere). */
import { RObject, type Value } from '../value.ts';
import { str } from './operands.ts';
import { BuiltinError, type BuiltinDecl, type BuiltinFn } from './types.ts';
import { URLError, parseURL, splitHostPort } from './uri-parse.ts';

/** The parts of a URI; empty parts are left out. raw_path is the path as written when the
 *  default escaping would not reproduce it, else the decoded path. */
const parse: BuiltinFn = (args) => {
  let u;
  try {
    u = parseURL(str(args, 0));
  } catch (e) {
    if (e instanceof URLError) throw new BuiltinError(e.message);
    throw e;
  }
  const { hostname, port } = splitHostPort(u.host);
  const parts: [string, string][] = [
    ['scheme', u.scheme], ['hostname', hostname], ['port', port], ['path', u.path],
    ['raw_path', u.rawPath !== '' ? u.rawPath : u.path], ['raw_query', u.rawQuery], ['fragment', u.fragment],
  ];
  return RObject.from(parts.filter(([, v]) => v !== '') as [Value, Value][]);
};

/** Whether the text is a non-empty URI that parses. */
const isValid: BuiltinFn = (args) => {
  const s = args[0];
  if (typeof s !== 'string' || s === '') return false;
  try {
    parseURL(s);
    return true;
  } catch {
    return false;
  }
};

export const builtins: BuiltinDecl[] = [
  { name: 'uri.parse', args: ['string'], result: 'object[string: string]', fn: parse },
  { name: 'uri.is_valid', args: ['string'], result: 'boolean', fn: isValid },
];
