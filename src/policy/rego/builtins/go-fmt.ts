/**
 * Go's fmt.Sprintf for the argument kinds OPA's sprintf passes to it: int (int64), *big.Int,
 * float64 and string (every other Rego value arrives as its Rego text, a string).
 * Verbs, flags, width, precision and the %!verb(type=value) error forms follow Go.
 */
import { goQuote } from './rego-text.ts';
import type { WorkBudget } from './types.ts';

export type GoArg =
  | { kind: 'int'; v: bigint } // int64 range
  | { kind: 'bigint'; v: bigint } // *big.Int
  | { kind: 'float'; v: number }
  | { kind: 'string'; v: string };

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width: number | undefined;
  prec: number | undefined;
}

const TYPE_NAMES: Record<GoArg['kind'], string> = {
  int: 'int',
  bigint: '*big.Int',
  float: 'float64',
  string: 'string',
};

/**
 * One `%…` directive of a format. Flags and fixed width/precision are in `spec`; a `*` width or
 * precision takes its value from the next argument at each call.
 */
interface Directive {
  spec: Readonly<Spec>;
  starWidth: boolean;
  starPrec: boolean;
  /** The verb, or undefined when the format ends before one (`%!(NOVERB)`). */
  verb: string | undefined;
}

/** A parsed format: literal text and directives, in order. */
type Piece = string | Directive;

/** Formats are usually literals in a policy: each is parsed once, then reused. */
const parsedFormats = new Map<string, Piece[]>();
const MAX_PARSED_FORMATS = 512;

function parsedFormat(format: string): Piece[] {
  let pieces = parsedFormats.get(format);
  if (!pieces) {
    pieces = parseFormat(format);
    if (parsedFormats.size >= MAX_PARSED_FORMATS) parsedFormats.clear();
    parsedFormats.set(format, pieces);
  }
  return pieces;
}

function parseFormat(format: string): Piece[] {
  const pieces: Piece[] = [];
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      pieces.push(format.slice(i));
      break;
    }
    if (pct > i) pieces.push(format.slice(i, pct));
    i = pct + 1;
    const spec: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false, width: undefined, prec: undefined };
    for (; i < format.length; i++) {
      const c = format[i];
      if (c === '-') spec.minus = true;
      else if (c === '+') spec.plus = true;
      else if (c === '#') spec.sharp = true;
      else if (c === ' ') spec.space = true;
      else if (c === '0') spec.zero = !spec.minus;
      else break;
    }
    let starWidth = false;
    if (format[i] === '*') {
      starWidth = true;
      i++;
    } else if (isDigit(format, i)) {
      const [width, end] = parseNumber(format, i);
      spec.width = width;
      i = end;
    }
    let starPrec = false;
    if (format[i] === '.') {
      i++;
      if (format[i] === '*') {
        starPrec = true;
        i++;
      } else {
        const [prec, end] = parseNumber(format, i);
        spec.prec = prec ?? 0;
        i = end;
      }
    }
    if (i >= format.length) {
      pieces.push({ spec, starWidth, starPrec, verb: undefined });
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    pieces.push({ spec, starWidth, starPrec, verb });
  }
  return pieces;
}

/**
 * Go's limit on a width or precision (fmt's tooLarge): a `*` argument past it is %!(BADWIDTH) or
 * %!(BADPREC), and a literal number that grows past it before its last digit swallows the rest
 * of the format (%!(NOVERB)). So one directive pads to about ten million characters at most.
 */
const TOO_LARGE = 1_000_000;

/** Go's parsenum: the number at i and the index after it; past the limit, no number and the format's end. */
function parseNumber(format: string, i: number): [number | undefined, number] {
  let n = 0;
  let present = false;
  for (; isDigit(format, i); i++) {
    if (n > TOO_LARGE) return [undefined, format.length];
    n = n * 10 + format.charCodeAt(i) - 48;
    present = true;
  }
  return [present ? n : undefined, i];
}

/** `budget`: each directive with a width or precision reserves the output it may reach first. */
export function goSprintf(format: string, args: GoArg[], budget?: WorkBudget): string {
  let out = '';
  let argi = 0;
  for (const piece of parsedFormat(format)) {
    if (typeof piece === 'string') {
      out += piece;
      continue;
    }
    let spec = piece.spec;
    if (piece.starWidth || piece.starPrec) {
      const resolved = { ...spec };
      if (piece.starWidth) {
        const a = args[argi++];
        if (a && a.kind === 'int' && a.v <= BigInt(TOO_LARGE) && a.v >= BigInt(-TOO_LARGE)) {
          resolved.width = Number(a.v);
          if (resolved.width < 0) {
            resolved.minus = true;
            resolved.width = -resolved.width;
          }
        } else out += '%!(BADWIDTH)';
      }
      if (piece.starPrec) {
        const a = args[argi++];
        if (a && a.kind === 'int' && a.v >= 0n && a.v <= BigInt(TOO_LARGE)) resolved.prec = Number(a.v);
        else out += '%!(BADPREC)';
      }
      spec = resolved;
    }
    const verb = piece.verb;
    if (verb === undefined) {
      out += '%!(NOVERB)';
      break;
    }
    if (verb === '%') {
      out += '%';
      continue;
    }
    const arg = args[argi++];
    if (!arg) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    if (budget && (spec.width || spec.prec)) budget.reserve(out.length + (spec.width ?? 0) + (spec.prec ?? 0), 'sprintf');
    out += formatArg(arg, verb, spec);
  }
  if (argi < args.length) {
    out += '%!(EXTRA ' + args.slice(argi).map((a) => `${TYPE_NAMES[a.kind]}=${plain(a)}`).join(', ') + ')';
  }
  return out;
}

function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

/** The %v rendering, used inside error forms. */
function plain(a: GoArg): string {
  return formatArg(a, 'v', { minus: false, plus: false, sharp: false, space: false, zero: false, width: undefined, prec: undefined });
}

function badVerb(a: GoArg, verb: string): string {
  return `%!${verb}(${TYPE_NAMES[a.kind]}=${plain(a)})`;
}

function formatArg(a: GoArg, verb: string, spec: Spec): string {
  if (verb === 'T') return pad(TYPE_NAMES[a.kind], spec, false);
  switch (a.kind) {
    case 'int':
    case 'bigint':
      return formatInteger(a, verb, spec);
    case 'float':
      return formatFloat(a, verb, spec);
    case 'string':
      return formatString(a, verb, spec);
  }
}

function pad(s: string, spec: Spec, zeroAllowed: boolean): string {
  const width = spec.width ?? 0;
  // No width (the usual case): nothing to count.
  if (width === 0) return s;
  const len = [...s].length;
  if (len >= width) return s;
  if (spec.minus) return s + ' '.repeat(width - len);
  if (spec.zero && zeroAllowed) {
    const sign = /^[+\- ]/.test(s) ? s[0]! : '';
    return sign + '0'.repeat(width - len) + s.slice(sign.length);
  }
  return ' '.repeat(width - len) + s;
}

function signOf(negative: boolean, spec: Spec): string {
  return negative ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
}

function formatInteger(a: GoArg & { v: bigint }, verb: string, spec: Spec): string {
  const n = a.v;
  const negative = n < 0n;
  const abs = negative ? -n : n;
  let digits: string;
  let prefix = '';
  switch (verb) {
    case 'v':
    case 'd':
      digits = abs.toString(10);
      break;
    case 's':
      if (a.kind !== 'bigint') return badVerb(a, verb);
      digits = abs.toString(10);
      break;
    case 'b':
      digits = abs.toString(2);
      if (spec.sharp) prefix = '0b';
      break;
    case 'o':
      digits = abs.toString(8);
      if (spec.sharp) prefix = '0';
      break;
    case 'O':
      digits = abs.toString(8);
      prefix = '0o';
      break;
    case 'x':
      digits = abs.toString(16);
      if (spec.sharp) prefix = '0x';
      break;
    case 'X':
      digits = abs.toString(16).toUpperCase();
      if (spec.sharp) prefix = '0X';
      break;
    case 'c':
      if (a.kind !== 'int') return badVerb(a, verb);
      return pad(codePointText(n), spec, false);
    case 'q':
      if (a.kind !== 'int') return badVerb(a, verb);
      return pad("'" + goQuote(codePointText(n)).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'") + "'", spec, false);
    case 'U': {
      if (a.kind !== 'int') return badVerb(a, verb);
      return pad('U+' + abs.toString(16).toUpperCase().padStart(4, '0'), spec, false);
    }
    default:
      return badVerb(a, verb);
  }
  if (spec.prec !== undefined) {
    if (spec.prec === 0 && abs === 0n) digits = '';
    digits = digits.padStart(spec.prec, '0');
    return pad(signOf(negative, spec) + prefix + digits, { ...spec, zero: false }, false);
  }
  const body = signOf(negative, spec) + prefix + digits;
  if (spec.zero && !spec.minus && spec.width !== undefined && body.length < spec.width) {
    const head = signOf(negative, spec) + prefix;
    return head + '0'.repeat(spec.width - body.length) + digits;
  }
  return pad(body, spec, false);
}

function codePointText(n: bigint): string {
  return n >= 0n && n <= 0x10ffffn && !(n >= 0xd800n && n <= 0xdfffn) ? String.fromCodePoint(Number(n)) : '\ufffd';
}

/** Shortest round-trip digits of |x| and the decimal point position (value = 0.digits × 10^dp). */
function shortestDigits(x: number): { digits: string; dp: number } {
  const [mant, exp] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '').replace(/0+$/, '') || '0';
  return { digits, dp: Number(exp) + 1 };
}

/** |x| rounded to `prec` significant digits (prec ≥ 1), trailing zeros trimmed. */
function roundedDigits(x: number, prec: number): { digits: string; dp: number } {
  if (prec > 100) prec = 100;
  const [mant, exp] = Math.abs(x).toExponential(prec - 1).split('e') as [string, string];
  const digits = mant.replace('.', '').replace(/0+$/, '') || '0';
  return { digits, dp: Number(exp) + 1 };
}

function goExponent(e: number): string {
  const sign = e < 0 ? '-' : '+';
  const abs = Math.abs(e);
  return 'e' + sign + (abs < 10 ? '0' + abs : String(abs));
}

/** %e from digit string: d.ddd e±XX with exactly `prec` fraction digits. */
function fmtE(digits: string, dp: number, prec: number): string {
  const first = digits[0] ?? '0';
  let frac = digits.slice(1);
  frac = frac.length < prec ? frac + '0'.repeat(prec - frac.length) : frac.slice(0, prec);
  const exp = digits === '0' ? 0 : dp - 1;
  return first + (prec > 0 ? '.' + frac : '') + goExponent(exp);
}

/** %f from digit string with exactly `prec` fraction digits. */
function fmtF(digits: string, dp: number, prec: number): string {
  let intPart: string;
  let frac: string;
  if (dp <= 0) {
    intPart = '0';
    frac = '0'.repeat(-dp) + digits;
  } else if (dp >= digits.length) {
    intPart = digits + '0'.repeat(dp - digits.length);
    frac = '';
  } else {
    intPart = digits.slice(0, dp);
    frac = digits.slice(dp);
  }
  frac = frac.length < prec ? frac + '0'.repeat(prec - frac.length) : frac.slice(0, prec);
  return intPart + (prec > 0 ? '.' + frac : '');
}

function fixed(x: number, prec: number): string {
  const abs = Math.abs(x);
  if (abs < 1e21 && prec <= 100) return abs.toFixed(prec);
  const { digits, dp } = shortestDigits(x);
  return fmtF(digits, dp, prec);
}

function formatFloat(a: GoArg & { v: number }, verb: string, spec: Spec): string {
  const x = a.v;
  const negative = x < 0 || Object.is(x, -0);
  let body: string;
  if (!Number.isFinite(x)) {
    body = Number.isNaN(x) ? 'NaN' : 'Inf';
    const sign = Number.isNaN(x) ? (spec.plus ? '+' : spec.space ? ' ' : '') : x < 0 ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
    return pad(sign + body, { ...spec, zero: false }, false);
  }
  switch (verb) {
    case 'v':
    case 'g':
    case 'G': {
      let r: { digits: string; dp: number };
      let eprec: number;
      let prec: number;
      if (spec.prec === undefined) {
        r = x === 0 ? { digits: '0', dp: 1 } : shortestDigits(x);
        prec = r.digits.length;
        eprec = 6;
      } else {
        prec = spec.prec === 0 ? 1 : spec.prec;
        r = x === 0 ? { digits: '0', dp: 1 } : roundedDigits(x, prec);
        eprec = prec;
        if (eprec > r.digits.length && r.digits.length >= r.dp) eprec = r.digits.length;
      }
      const exp = r.dp - 1;
      if (exp < -4 || exp >= eprec) {
        const p = Math.min(prec, r.digits.length);
        body = fmtE(r.digits, r.dp, p - 1);
      } else {
        const p = prec > r.dp ? r.digits.length : prec;
        body = fmtF(r.digits, r.dp, Math.max(p - r.dp, 0));
      }
      if (verb === 'G') body = body.toUpperCase();
      break;
    }
    case 'e':
    case 'E': {
      const prec = spec.prec ?? 6;
      const r = x === 0 ? { digits: '0', dp: 1 } : roundedDigits(x, prec + 1);
      body = fmtE(r.digits, r.dp, prec);
      if (verb === 'E') body = body.toUpperCase();
      break;
    }
    case 'f':
    case 'F':
      body = fixed(x, spec.prec ?? 6);
      break;
    default:
      return badVerb(a, verb);
  }
  const s = signOf(negative && x !== 0 ? true : Object.is(x, -0), spec) + body;
  return pad(s, spec, true);
}

function formatString(a: GoArg & { v: string }, verb: string, spec: Spec): string {
  let s = a.v;
  switch (verb) {
    case 'v':
    case 's':
      if (spec.prec !== undefined) s = [...s].slice(0, spec.prec).join('');
      return pad(s, spec, true);
    case 'q':
      if (spec.sharp && !s.includes('`') && !/[\u0000-\u0008\u000a-\u001f\u007f]/.test(s)) return pad('`' + s + '`', spec, true);
      return pad(goQuote(s), spec, true);
    case 'x':
    case 'X': {
      let bytes = [...new TextEncoder().encode(s)];
      if (spec.prec !== undefined) bytes = bytes.slice(0, spec.prec);
      let hex = bytes.map((b) => b.toString(16).padStart(2, '0')).map((h) => (spec.sharp ? '0x' + h : h));
      if (!spec.space && spec.sharp) hex = [hex.join('').replace(/0x/g, '').replace(/^/, '0x')];
      let text = hex.join(spec.space ? ' ' : '');
      if (verb === 'X') text = text.toUpperCase();
      return pad(text, spec, true);
    }
    default:
      return badVerb(a, verb);
  }
}
