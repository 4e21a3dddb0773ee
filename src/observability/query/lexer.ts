/**
 * Splits a query into tokens, each with its line and column. Pure. Comments (`-- …`, `# …`,
 * `/* … *\/`) are skipped; anything else the language has no use for (a `;`, a `@`, a `$`) is an
 * error here, so nothing unexpected ever reaches the parser.
 */
import { QueryError, type Position } from './query-error.ts';

export type TokenKind = 'identifier' | 'quoted-identifier' | 'string' | 'number' | 'symbol' | 'end';

export interface Token {
  readonly kind: TokenKind;
  /** An identifier as written (keywords are identifiers until the parser says otherwise), a string's value, a number's text, a symbol. */
  readonly text: string;
  readonly position: Position;
}

const SYMBOLS = ['|>', '<=', '>=', '!=', '<>', '||', '(', ')', ',', '.', '*', '+', '-', '/', '%', '=', '<', '>'];
const STRING_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '`': '`', '0': '\0' };

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  let line = 1;
  let lineStart = 0;
  const here = (): Position => ({ line, column: index - lineStart + 1 });
  const advance = (count: number) => {
    for (let i = 0; i < count; i++) {
      if (source[index] === '\n') {
        line++;
        lineStart = index + 1;
      }
      index++;
    }
  };
  while (index < source.length) {
    const char = source[index]!;
    if (/\s/.test(char)) {
      advance(1);
      continue;
    }
    if ((char === '-' && source[index + 1] === '-') || char === '#') {
      while (index < source.length && source[index] !== '\n') advance(1);
      continue;
    }
    if (char === '/' && source[index + 1] === '*') {
      const start = here();
      const close = source.indexOf('*/', index + 2);
      if (close === -1) throw new QueryError(start, 'this comment is never closed with */');
      advance(close + 2 - index);
      continue;
    }
    const position = here();
    if (/[A-Za-z_]/.test(char)) {
      let end = index + 1;
      while (end < source.length && /[A-Za-z0-9_]/.test(source[end]!)) end++;
      tokens.push({ kind: 'identifier', text: source.slice(index, end), position });
      advance(end - index);
      continue;
    }
    if (/[0-9]/.test(char) || (char === '.' && /[0-9]/.test(source[index + 1] ?? ''))) {
      const match = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(source.slice(index))!;
      const after = source[index + match[0].length];
      if (after !== undefined && /[A-Za-z_]/.test(after)) throw new QueryError(position, `"${match[0]}${after}" is not a number`);
      tokens.push({ kind: 'number', text: match[0], position });
      advance(match[0].length);
      continue;
    }
    if (char === "'" || char === '"' || char === '`') {
      const { value, length } = readQuoted(source, index, position);
      tokens.push({ kind: char === '`' ? 'quoted-identifier' : 'string', text: value, position });
      advance(length);
      continue;
    }
    const symbol = SYMBOLS.find((candidate) => source.startsWith(candidate, index));
    if (symbol) {
      tokens.push({ kind: 'symbol', text: symbol, position });
      advance(symbol.length);
      continue;
    }
    if (char === '|') throw new QueryError(position, 'unexpected "|": a pipe is written |>');
    if (char === ';') throw new QueryError(position, 'unexpected ";": give one query, without a semicolon');
    throw new QueryError(position, `unexpected character ${JSON.stringify(char)}`);
  }
  tokens.push({ kind: 'end', text: '', position: here() });
  return tokens;
}

/** A quoted string or identifier: the quote doubled or a backslash escape stands for itself. */
function readQuoted(source: string, start: number, position: Position): { value: string; length: number } {
  const quote = source[start]!;
  let value = '';
  let index = start + 1;
  while (index < source.length) {
    const char = source[index]!;
    if (char === quote) {
      if (source[index + 1] === quote) {
        value += quote;
        index += 2;
        continue;
      }
      return { value, length: index + 1 - start };
    }
    if (char === '\\') {
      const escaped = source[index + 1];
      if (escaped === undefined || !(escaped in STRING_ESCAPES)) {
        throw new QueryError(position, `unknown escape \\${escaped ?? ''} in a quoted ${quote === '`' ? 'identifier' : 'string'}`);
      }
      value += STRING_ESCAPES[escaped];
      index += 2;
      continue;
    }
    if (char === '\n' && quote === '`') throw new QueryError(position, 'a quoted identifier cannot span lines');
    value += char;
    index++;
  }
  throw new QueryError(position, `this ${quote === '`' ? 'identifier' : 'string'} is never closed with ${quote}`);
}
