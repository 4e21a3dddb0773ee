/**
 * regex.globs_match: do two simplified regular expressions (literals, '.', [sets], escapes, with
 * '*' and '+' quantifiers) match at least one common string? Decided by searching the product
 * of the two patterns' automata.
 */
import { BuiltinError } from './types.ts';

type CharClass = { any: true } | { any: false; negated: boolean; ranges: [number, number][] };
interface Token {
  cls: CharClass;
  star: boolean;
}

function invalid(input: string, pos: number, what: string): BuiltinError {
  return new BuiltinError(`input:${input}, pos:${pos}, ${what}: the input provided is invalid`);
}

function parseSet(input: string, chars: string[], start: number): [CharClass, number] {
  let i = start + 1;
  let negated = false;
  if (chars[i] === '^') {
    negated = true;
    i++;
  }
  const ranges: [number, number][] = [];
  while (i < chars.length && chars[i] !== ']') {
    let c = chars[i]!;
    if (c === '\\') {
      i++;
      if (i >= chars.length) throw invalid(input, i, 'escape at end of input');
      c = chars[i]!;
    }
    let lo = c.codePointAt(0)!;
    let hi = lo;
    if (chars[i + 1] === '-' && i + 2 < chars.length && chars[i + 2] !== ']') {
      let h = chars[i + 2]!;
      if (h === '\\') {
        h = chars[i + 3] ?? '';
        i++;
      }
      hi = h.codePointAt(0) ?? lo;
      i += 2;
      if (hi < lo) throw invalid(input, i + 1, 'invalid range in set');
    }
    ranges.push([lo, hi]);
    i++;
  }
  if (i >= chars.length) throw invalid(input, start + 1, "set-open '[' with no closing ']'");
  return [{ any: false, negated, ranges }, i + 1];
}

export function parseGlobPattern(input: string): Token[] {
  const chars = [...input];
  const tokens: Token[] = [];
  let i = 0;
  while (i < chars.length) {
    const c = chars[i]!;
    if (c === '*' || c === '+') {
      const prev = tokens[tokens.length - 1];
      if (!prev || prev.star) throw invalid(input, i + 1, `quantifier '${c}' with no preceding character`);
      if (c === '*') prev.star = true;
      else tokens.push({ cls: prev.cls, star: true });
      i++;
    } else if (c === ']') {
      throw invalid(input, i + 1, "set-close ']' with no preceding '['");
    } else if (c === '[') {
      const [cls, next] = parseSet(input, chars, i);
      tokens.push({ cls, star: false });
      i = next;
    } else if (c === '.') {
      tokens.push({ cls: { any: true }, star: false });
      i++;
    } else {
      let lit = c;
      if (c === '\\') {
        if (i + 1 >= chars.length) throw invalid(input, i + 1, 'escape at end of input');
        lit = chars[++i]!;
      }
      const cp = lit.codePointAt(0)!;
      tokens.push({ cls: { any: false, negated: false, ranges: [[cp, cp]] }, star: false });
      i++;
    }
  }
  return tokens;
}

function covered(lo: number, hi: number, ranges: [number, number][]): boolean {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  let next = lo;
  for (const [a, b] of sorted) {
    if (a > next) return false;
    if (b >= next) next = b + 1;
    if (next > hi) return true;
  }
  return next > hi;
}

function intersects(x: CharClass, y: CharClass): boolean {
  if (x.any || y.any) return true;
  if (x.negated && y.negated) return true;
  if (!x.negated && !y.negated) {
    return x.ranges.some(([a, b]) => y.ranges.some(([c, d]) => a <= d && c <= b));
  }
  const [pos, neg] = x.negated ? [y, x] : [x, y];
  return pos.ranges.some(([a, b]) => !covered(a, b, neg.ranges));
}

export function globsIntersect(a: string, b: string): boolean {
  const ta = parseGlobPattern(a);
  const tb = parseGlobPattern(b);
  const seen = new Set<number>();
  const width = tb.length + 1;
  const stack: [number, number][] = [[0, 0]];
  while (stack.length) {
    const [i, j] = stack.pop()!;
    const id = i * width + j;
    if (seen.has(id)) continue;
    seen.add(id);
    if (i === ta.length && j === tb.length) return true;
    const x = ta[i];
    const y = tb[j];
    if (x?.star) stack.push([i + 1, j]);
    if (y?.star) stack.push([i, j + 1]);
    if (x && y && intersects(x.cls, y.cls)) stack.push([x.star ? i : i + 1, y.star ? j : j + 1]);
  }
  return false;
}
