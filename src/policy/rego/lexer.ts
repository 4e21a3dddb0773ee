/**
 * Tokenizer for Rego source. Newlines are not tokens: each token records whether a
 * newline (or any whitespace) preceded it, which is all the parser needs to split
 * expressions and refs the way OPA does.
 */
import { RegoError, type Location } from './errors.ts';

export type TokenType = 'ident' | 'string' | 'rawstring' | 'number' | 'template' | 'punct' | 'eof';

/** One piece of a `$"…{expr}…"` template: literal text or the source of an embedded expression. */
export type TemplatePart = { text: string } | { source: string; loc: Location };

export interface Token {
  type: TokenType;
  /** Identifier name, decoded string value, number text or punctuation. */
  value: string;
  loc: Location;
  /** Offset just past the token's last character. */
  end: number;
  start: number;
  newlineBefore: boolean;
  spaceBefore: boolean;
  parts?: TemplatePart[];
}

export interface Comment {
  text: string;
  loc: Location;
}

const PUNCTUATION = [':=', '==', '!=', '<=', '>=', '{', '}', '[', ']', '(', ')', '.', ',', ';', ':', '=', '<', '>', '+', '-', '*', '/', '%', '&', '|'];

/** Longer strings are rarely compared or used as keys: not worth adding to the string table. */
const MAX_INTERNALIZED = 256;

/**
 * The engine's canonical copy of a string: the one JavaScript engines keep for property names
 * (V8's string table), found by using the string as a property name. Identifiers and string
 * literals are internalized, so each name is one string object everywhere in the policy, and
 * the same object as the matching key of an input parsed from JSON (JSON keys are property
 * names too): looking a field up or a var in the env then compares pointers, not characters.
 */
function internalize(text: string): string {
  if (text.length > MAX_INTERNALIZED) return text;
  for (const key in { [text]: true }) return key;
  return text;
}

/** Tokenizes one source file; `origin` lets embedded template expressions keep their real locations. */
export class Lexer {
  readonly tokens: Token[] = [];
  readonly comments: Comment[] = [];
  private pos = 0;
  private row: number;
  private lineStart: number;
  private readonly src: string;
  private readonly file: string;
  private readonly colBase: number;

  constructor(src: string, file: string, origin: Location = { file, row: 1, col: 1 }) {
    this.src = src;
    this.file = file;
    this.row = origin.row;
    this.lineStart = 0;
    this.colBase = origin.col;
    this.run();
  }

  private location(at: number): Location {
    const col = at - this.lineStart + 1 + (this.firstLine ? this.colBase - 1 : 0);
    return { file: this.file, row: this.row, col };
  }

  /** True until the first newline: only the first line is offset by the origin's column. */
  private firstLine = true;

  private fail(message: string, at: number): never {
    throw RegoError.single('rego_parse_error', message, this.location(at));
  }

  private run(): void {
    let newline = false;
    let space = false;
    const src = this.src;
    while (true) {
      // Skip whitespace and comments, remembering whether a newline was crossed.
      while (this.pos < src.length) {
        const c = src[this.pos];
        if (c === '\n') {
          newline = true;
          space = true;
          this.pos++;
          this.row++;
          this.lineStart = this.pos;
          this.firstLine = false;
        } else if (c === ' ' || c === '\t' || c === '\r') {
          space = true;
          this.pos++;
        } else if (c === '#') {
          const start = this.pos;
          while (this.pos < src.length && src[this.pos] !== '\n') this.pos++;
          this.comments.push({ text: src.slice(start + 1, this.pos), loc: this.location(start) });
        } else break;
      }
      const start = this.pos;
      const loc = this.location(start);
      const push = (type: TokenType, value: string, parts?: TemplatePart[]) => {
        this.tokens.push({ type, value, loc, start, end: this.pos, newlineBefore: newline, spaceBefore: space, parts });
        newline = false;
        space = false;
      };
      if (this.pos >= src.length) {
        push('eof', '');
        return;
      }
      const c = src[this.pos];
      if (isIdentStart(c)) {
        while (this.pos < src.length && isIdentPart(src[this.pos])) this.pos++;
        push('ident', internalize(src.slice(start, this.pos)));
      } else if (isDigit(c) || (c === '.' && isDigit(src[this.pos + 1] ?? ''))) {
        push('number', this.readNumber());
      } else if (c === '"') {
        push('string', internalize(this.readString()));
      } else if (c === '`') {
        const close = src.indexOf('`', this.pos + 1);
        if (close < 0) this.fail('non-terminated raw string', start);
        const text = src.slice(this.pos + 1, close);
        this.advanceOver(text);
        this.pos = close + 1;
        push('rawstring', internalize(text));
      } else if (c === '$' && (src[this.pos + 1] === '"' || src[this.pos + 1] === '`')) {
        const parts = this.readTemplate();
        push('template', '', parts);
      } else {
        const p = PUNCTUATION.find((q) => src.startsWith(q, this.pos));
        if (!p) this.fail(`illegal token '${c}'`, start);
        this.pos += p.length;
        push('punct', p);
      }
    }
  }

  /** Keeps row accounting right when a token spans lines (raw strings). */
  private advanceOver(text: string): void {
    let idx = text.indexOf('\n');
    while (idx >= 0) {
      this.row++;
      this.lineStart = this.pos + 1 + idx + 1;
      this.firstLine = false;
      idx = text.indexOf('\n', idx + 1);
    }
  }

  private readNumber(): string {
    const src = this.src;
    const start = this.pos;
    while (isDigit(src[this.pos] ?? '')) this.pos++;
    if (src[this.pos] === '.' && isDigit(src[this.pos + 1] ?? '')) {
      this.pos++;
      while (isDigit(src[this.pos] ?? '')) this.pos++;
    }
    if (src[this.pos] === 'e' || src[this.pos] === 'E') {
      let p = this.pos + 1;
      if (src[p] === '+' || src[p] === '-') p++;
      if (isDigit(src[p] ?? '')) {
        this.pos = p;
        while (isDigit(src[this.pos] ?? '')) this.pos++;
      }
    }
    return src.slice(start, this.pos);
  }

  /** Reads a double-quoted string with JSON escapes; returns the decoded value. */
  private readString(): string {
    const src = this.src;
    const start = this.pos;
    this.pos++;
    let out = '';
    while (true) {
      if (this.pos >= src.length || src[this.pos] === '\n') this.fail('non-terminated string', start);
      const c = src[this.pos];
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c === '\\') {
        out += this.readEscape(start, false);
        continue;
      }
      out += c;
      this.pos++;
    }
  }

  private readEscape(start: number, template: boolean): string {
    const src = this.src;
    const e = src[this.pos + 1];
    this.pos += 2;
    switch (e) {
      case '"': return '"';
      case '\\': return '\\';
      case '/': return '/';
      case 'b': return '\b';
      case 'f': return '\f';
      case 'n': return '\n';
      case 'r': return '\r';
      case 't': return '\t';
      case 'u': {
        const hex = src.slice(this.pos, this.pos + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('illegal unicode escape', start);
        this.pos += 4;
        return String.fromCharCode(parseInt(hex, 16));
      }
      case '{':
        if (template) return '{';
        break;
    }
    this.fail(`illegal escape sequence '\\${e ?? ''}'`, start);
  }

  /** Reads `$"…{expr}…"` or `` $`…{expr}…` ``; embedded expressions are returned as source text. */
  private readTemplate(): TemplatePart[] {
    const src = this.src;
    const start = this.pos;
    const raw = src[this.pos + 1] === '`';
    const quote = raw ? '`' : '"';
    this.pos += 2;
    const parts: TemplatePart[] = [];
    let text = '';
    while (true) {
      if (this.pos >= src.length) this.fail('non-terminated template string', start);
      const c = src[this.pos];
      if (c === quote) {
        this.pos++;
        if (text) parts.push({ text });
        return parts;
      }
      if (c === '\n' && !raw) this.fail('non-terminated template string', start);
      if (c === '\\' && raw && src[this.pos + 1] === '{') {
        // Raw templates keep backslashes, except `\{` which writes a literal brace.
        text += '{';
        this.pos += 2;
        continue;
      }
      if (c === '\\' && !raw) {
        text += this.readEscape(start, true);
        continue;
      }
      if (c === '{') {
        if (text) parts.push({ text });
        text = '';
        const exprStart = this.pos + 1;
        const loc = this.location(exprStart);
        const exprEnd = this.findClosingBrace(exprStart, start);
        parts.push({ source: src.slice(exprStart, exprEnd), loc });
        this.pos = exprEnd + 1;
        continue;
      }
      if (c === '\n') {
        this.row++;
        this.lineStart = this.pos + 1;
        this.firstLine = false;
      }
      text += c;
      this.pos++;
    }
  }

  private findClosingBrace(from: number, templateStart: number): number {
    const src = this.src;
    let depth = 0;
    let i = from;
    while (i < src.length) {
      const c = src[i];
      if (c === '"') {
        i++;
        while (i < src.length && src[i] !== '"') i += src[i] === '\\' ? 2 : 1;
      } else if (c === '`') {
        i = src.indexOf('`', i + 1);
        if (i < 0) break;
      } else if (c === '{') depth++;
      else if (c === '}') {
        if (depth === 0) return i;
        depth--;
      }
      i++;
    }
    this.fail('non-terminated template expression', templateStart);
  }
}

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

function isIdentPart(c: string): boolean {
  return isIdentStart(c) || isDigit(c);
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}
