/** glob.match (gobwas/glob semantics) and glob.quote_meta. */
import { RE2JS } from 're2js';
import { RSet, type Value } from '../value.ts';
import { BuiltinError, BuiltinTypeError, type BuiltinDecl } from './types.ts';
import { str, typeError } from './operands.ts';

const CACHE_LIMIT = 500;
const cache = new Map<string, RE2JS>();

function escapeClassChar(c: string): string {
  return /[\\\]\[^-]/.test(c) ? '\\' + c : c;
}

function escapeLiteral(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? '\\' + c : c;
}

/**
 * Translates a glob into an RE2 expression (linear-time matching, so no glob can make matching
 * blow up). `*` matches any run of non-delimiters, `**` any run at all, `?` one non-delimiter;
 * `[abc]`, `[!a-z]`, `{alt,ernatives}` and `\` escapes.
 */
export function globToRegExp(glob: string, delimiters: string[]): RE2JS {
  const key = delimiters.join('\u0000') + '\u0001' + glob;
  const hit = cache.get(key);
  if (hit) return hit;
  const notDelim = delimiters.length ? '[^' + delimiters.map(escapeClassChar).join('') + ']' : '.';
  const chars = [...glob];
  let i = 0;
  const parse = (inAlternatives: boolean): string => {
    let out = '';
    while (i < chars.length) {
      const c = chars[i]!;
      if (inAlternatives && (c === ',' || c === '}')) return out;
      i++;
      if (c === '*') {
        if (chars[i] === '*') {
          while (chars[i] === '*') i++;
          out += '.*';
        } else out += notDelim + '*';
      } else if (c === '?') out += notDelim;
      else if (c === '\\') {
        if (i >= chars.length) throw new BuiltinError('unexpected end of input');
        out += escapeLiteral(chars[i++]!);
      } else if (c === '[') {
        const negated = chars[i] === '!';
        if (negated) i++;
        let set = '';
        while (i < chars.length && chars[i] !== ']') {
          const lo = chars[i++]!;
          if (chars[i] === '-' && chars[i + 1] !== undefined && chars[i + 1] !== ']') {
            set += escapeClassChar(lo) + '-' + escapeClassChar(chars[i + 1]!);
            i += 2;
          } else set += escapeClassChar(lo);
        }
        if (i >= chars.length) throw new BuiltinError('unexpected end of input');
        i++;
        out += '[' + (negated ? '^' : '') + set + ']';
      } else if (c === '{') {
        const alternatives: string[] = [];
        for (;;) {
          alternatives.push(parse(true));
          if (i >= chars.length) throw new BuiltinError('unexpected end of input');
          if (chars[i++] === '}') break;
        }
        out += '(?:' + alternatives.join('|') + ')';
      } else out += escapeLiteral(c);
    }
    return out;
  };
  let re: RE2JS;
  try {
    re = RE2JS.compile('^' + parse(false) + '$', RE2JS.DOTALL);
  } catch (e) {
    throw new BuiltinError(e instanceof Error ? e.message : String(e));
  }
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, re);
  return re;
}

function delimitersOf(v: Value): string[] {
  if (v === null) return [];
  let items: Iterable<Value>;
  if (Array.isArray(v)) items = v;
  else if (v instanceof RSet) items = v.values();
  else throw typeError(2, 'array', v);
  const out: string[] = [];
  for (const d of items) {
    if (typeof d !== 'string') throw new BuiltinTypeError(`operand 2 must be array of strings but got array containing ${typeof d}`);
    out.push(...d);
  }
  return out.length ? out : ['.'];
}

export const builtins: BuiltinDecl[] = [
  {
    name: 'glob.match',
    args: ['string', 'any<null, array[string]>', 'string'],
    result: 'boolean',
    fn: (args) => globToRegExp(str(args, 0), delimitersOf(args[1]!)).matches(str(args, 2)),
  },
  {
    name: 'glob.quote_meta',
    args: ['string'],
    result: 'string',
    fn: (args) => str(args, 0).replace(/[*?\\[\]{}]/g, (c) => '\\' + c),
  },
];
