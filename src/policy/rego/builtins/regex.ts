/** regex.* built-ins with RE2 semantics (re2js), plus v0 re_match. */
import { RE2JS } from 're2js';
import type { Value } from '../value.ts';
import { BuiltinError, type BuiltinDecl } from './types.ts';
import { int, str } from './operands.ts';
import { globsIntersect } from './regex-globs.ts';

const CACHE_LIMIT = 500;
const cache = new Map<string, RE2JS>();

/** Compiles (cached); a syntax error becomes a built-in error with Go's message. */
export function compileRegex(pattern: string): RE2JS {
  let re = cache.get(pattern);
  if (re) return re;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    throw new BuiltinError(e instanceof Error ? e.message : String(e));
  }
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(pattern, re);
  return re;
}

/** Go's FindAll…Index: successive matches; an empty match abutting the previous one is skipped. */
function findAll(re: RE2JS, s: string, limit: number): number[][] {
  const out: number[][] = [];
  const m = re.matcher(s);
  const groups = re.groupCount();
  let pos = 0;
  let prevEnd = -1;
  while (pos <= s.length && (limit < 0 || out.length < limit)) {
    if (!m.find(pos)) break;
    const start = m.start();
    const end = m.end();
    const step = end > start ? end : start + (s.codePointAt(start)! > 0xffff ? 2 : 1);
    if (!(start === end && start === prevEnd)) {
      const idx: number[] = [];
      for (let g = 0; g <= groups; g++) idx.push(m.start(g), m.end(g));
      out.push(idx);
      prevEnd = end;
    }
    pos = step;
  }
  return out;
}

function slice(s: string, start: number, end: number): string {
  return start < 0 ? '' : s.slice(start, end);
}

/** Go's Regexp.Expand template syntax: $1, ${1}, $name, ${name}, $$. */
function expand(template: string, s: string, idx: number[], names: Record<string, number>): string {
  return template.replace(/\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g, (whole, _all, braced, bare) => {
    if (whole === '$$') return '$';
    const name: string = braced ?? bare;
    const g = /^[0-9]+$/.test(name) ? Number(name) : names[name];
    if (g === undefined || 2 * g + 1 >= idx.length) return '';
    return slice(s, idx[2 * g]!, idx[2 * g + 1]!);
  });
}

function regexSplit(re: RE2JS, s: string): string[] {
  if (s === '') return [''];
  const matches = findAll(re, s, -1);
  const out: string[] = [];
  let beg = 0;
  for (const m of matches) {
    if (m[1] === 0) continue; // Go skips an empty match at the very start
    out.push(s.slice(beg, m[0]));
    beg = m[1]!;
  }
  out.push(s.slice(beg));
  return out;
}

/** regex.template_match: text outside the delimiters is literal, inside is a regex. */
function templateRegex(template: string, open: string, close: string): string {
  let out = '^';
  let i = 0;
  while (i < template.length) {
    const start = template.indexOf(open, i);
    if (start < 0) {
      out += RE2JS.quote(template.slice(i));
      break;
    }
    out += RE2JS.quote(template.slice(i, start));
    let depth = 1;
    let j = start + open.length;
    for (; j < template.length; j++) {
      if (template.startsWith(open, j)) depth++;
      else if (template.startsWith(close, j) && --depth === 0) break;
    }
    if (depth !== 0) throw new BuiltinError(`unbalanced braces in template: ${template}`);
    out += '(' + template.slice(start + open.length, j) + ')';
    i = j + close.length;
  }
  return out + '$';
}

function firstChar(s: string, name: string): string {
  const c = [...s];
  if (c.length !== 1) throw new BuiltinError(`${name} must be a single character`);
  return c[0]!;
}

const match: BuiltinDecl['fn'] = (args) => compileRegex(str(args, 0)).test(str(args, 1));

export const builtins: BuiltinDecl[] = [
  { name: 'regex.match', args: ['string', 'string'], result: 'boolean', fn: match },
  { name: 're_match', deprecated: true, args: ['string', 'string'], result: 'boolean', fn: match },
  {
    name: 'regex.is_valid',
    args: ['any'],
    result: 'boolean',
    fn: ([p]) => {
      if (typeof p !== 'string') return false;
      try {
        compileRegex(p);
        return true;
      } catch {
        return false;
      }
    },
  },
  {
    name: 'regex.split',
    args: ['string', 'string'],
    result: 'array[string]',
    fn: (args) => regexSplit(compileRegex(str(args, 0)), str(args, 1)),
  },
  {
    name: 'regex.find_n',
    args: ['string', 'string', 'number'],
    result: 'array[string]',
    fn: (args) => {
      const s = str(args, 1);
      const n = int(args, 2).toSafeInteger() ?? -1;
      return findAll(compileRegex(str(args, 0)), s, n).map((m) => s.slice(m[0], m[1]));
    },
  },
  {
    name: 'regex.find_all_string_submatch_n',
    args: ['string', 'string', 'number'],
    result: 'array[array[string]]',
    fn: (args) => {
      const s = str(args, 1);
      const n = int(args, 2).toSafeInteger() ?? -1;
      return findAll(compileRegex(str(args, 0)), s, n).map((m) => {
        const groups: Value[] = [];
        for (let g = 0; g < m.length; g += 2) groups.push(slice(s, m[g]!, m[g + 1]!));
        return groups;
      });
    },
  },
  {
    name: 'regex.replace',
    args: ['string', 'string', 'string'],
    result: 'string',
    fn: (args, ctx) => {
      const s = str(args, 0);
      const re = compileRegex(str(args, 1));
      const repl = str(args, 2);
      const names = re.namedGroups();
      let out = '';
      let last = 0;
      for (const m of findAll(re, s, -1)) {
        const piece = s.slice(last, m[0]) + expand(repl, s, m, names);
        out += piece;
        // A pattern that matches everywhere repeats the replacement at every position.
        ctx.budget?.grew(piece.length, out.length, 'regex.replace');
        last = m[1]!;
      }
      return out + s.slice(last);
    },
  },
  {
    name: 'regex.template_match',
    args: ['string', 'string', 'string', 'string'],
    result: 'boolean',
    fn: (args) => {
      const open = firstChar(str(args, 2), 'delimiter_start');
      const close = firstChar(str(args, 3), 'delimiter_end');
      return compileRegex(templateRegex(str(args, 0), open, close)).test(str(args, 1));
    },
  },
  {
    name: 'regex.globs_match',
    args: ['string', 'string'],
    result: 'boolean',
    fn: (args) => globsIntersect(str(args, 0), str(args, 1)),
  },
];

