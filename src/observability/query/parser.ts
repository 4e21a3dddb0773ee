/**
 * Parses the pipe syntax of GoogleSQL (and plain SELECT) into the steps of ast.ts. Pure.
 *
 *   FROM pulls |> WHERE time > now() - INTERVAL 7 DAY
 *              |> AGGREGATE count(*) AS pulls GROUP BY repository
 *              |> ORDER BY pulls DESC |> LIMIT 10
 *
 * A plain `SELECT … FROM … WHERE … GROUP BY … HAVING … ORDER BY … LIMIT` becomes the same steps
 * (FROM, WHERE, one select block), and may be followed by pipe operators too.
 */
import type { BinaryOp, Expr, IntervalUnit, Named, OrderKey, Query, SelectItem, Source, Step } from './ast.ts';
import { tokenize, type Token } from './lexer.ts';
import { QueryError } from './query-error.ts';

/** Words that end an expression or a list, so they are never taken as an alias without AS. */
const RESERVED = new Set([
  'SELECT', 'FROM', 'WHERE', 'GROUP', 'BY', 'ORDER', 'LIMIT', 'OFFSET', 'AS', 'AND', 'OR', 'NOT', 'IN', 'IS', 'NULL',
  'BETWEEN', 'LIKE', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'JOIN', 'LEFT', 'RIGHT', 'FULL', 'CROSS', 'INNER', 'OUTER', 'ON', 'USING',
  'HAVING', 'ASC', 'DESC', 'DISTINCT', 'TRUE', 'FALSE', 'INTERVAL', 'TIMESTAMP', 'AGGREGATE', 'EXTEND', 'SET', 'DROP', 'RENAME',
  'UNION', 'EXCEPT', 'INTERSECT', 'WINDOW', 'WITH', 'NULLS',
]);

const INTERVAL_UNITS: Record<string, IntervalUnit> = {
  SECOND: 'SECOND', SECONDS: 'SECOND', MINUTE: 'MINUTE', MINUTES: 'MINUTE', HOUR: 'HOUR', HOURS: 'HOUR', DAY: 'DAY', DAYS: 'DAY', WEEK: 'WEEK', WEEKS: 'WEEK',
};

const PIPE_OPERATORS = 'WHERE, SELECT, EXTEND, SET, DROP, RENAME, AGGREGATE, ORDER BY, LIMIT, JOIN, LEFT JOIN or AS';

export function parseQuery(source: string): Query {
  const parser = new Parser(tokenize(source));
  const query = parser.query();
  parser.expectEnd();
  return query;
}

/** How deeply parentheses and subqueries may nest (deeper is refused, not a stack overflow). */
const MAX_NESTING = 64;

class Parser {
  readonly #tokens: Token[];
  #index = 0;
  #depth = 0;

  constructor(tokens: Token[]) {
    this.#tokens = tokens;
  }

  query(): Query {
    const steps: Step[] = [];
    const start = this.#peek();
    if (this.#isKeyword('FROM')) {
      this.#next();
      steps.push({ kind: 'from', source: this.#source(), position: start.position });
      steps.push(...this.#joins());
    } else if (this.#isKeyword('SELECT')) {
      steps.push(...this.#selectQuery());
    } else {
      throw this.#error(start, 'a query starts with FROM or SELECT');
    }
    while (this.#isSymbol('|>')) {
      this.#next();
      steps.push(this.#pipeOperator());
    }
    return { steps };
  }

  expectEnd(): void {
    const token = this.#peek();
    if (token.kind !== 'end') {
      throw this.#error(token, `expected |> and a pipe operator (${PIPE_OPERATORS}) or the end of the query`);
    }
  }

  #selectQuery(): Step[] {
    const start = this.#expectKeyword('SELECT');
    const distinct = this.#acceptKeyword('DISTINCT');
    const items = this.#selectItems(true);
    const fromToken = this.#expectKeyword('FROM');
    const steps: Step[] = [{ kind: 'from', source: this.#source(), position: fromToken.position }, ...this.#joins()];
    if (this.#isKeyword('WHERE')) {
      const where = this.#next();
      steps.push({ kind: 'where', condition: this.#expr(), position: where.position });
    }
    let groupBy: Expr[] = [];
    if (this.#isKeyword('GROUP')) {
      this.#next();
      this.#expectKeyword('BY');
      groupBy = this.#list(() => this.#expr());
    }
    const having = this.#acceptKeyword('HAVING') ? this.#expr() : undefined;
    const orderBy = this.#isKeyword('ORDER') ? this.#orderBy() : [];
    const limit = this.#isKeyword('LIMIT') ? this.#limit() : undefined;
    steps.push({
      kind: 'select-block', distinct, items, groupBy, orderBy, position: start.position,
      ...(having ? { having } : {}), ...(limit ? { limit } : {}),
    });
    return steps;
  }

  #pipeOperator(): Step {
    const token = this.#peek();
    const word = token.kind === 'identifier' ? token.text.toUpperCase() : '';
    const position = token.position;
    switch (word) {
      case 'WHERE':
        this.#next();
        return { kind: 'where', condition: this.#expr(), position };
      case 'SELECT': {
        this.#next();
        const distinct = this.#acceptKeyword('DISTINCT');
        return { kind: 'select', distinct, items: this.#selectItems(true), position };
      }
      case 'EXTEND':
        this.#next();
        return { kind: 'extend', items: this.#selectItems(false), position };
      case 'SET':
        this.#next();
        return {
          kind: 'set', position,
          assignments: this.#list(() => {
            const column = this.#name();
            this.#expectSymbol('=');
            return { column, expr: this.#expr() };
          }),
        };
      case 'DROP':
        this.#next();
        return { kind: 'drop', columns: this.#list(() => this.#name()), position };
      case 'RENAME':
        this.#next();
        return {
          kind: 'rename', position,
          pairs: this.#list(() => {
            const from = this.#name();
            this.#acceptKeyword('AS');
            return { from, to: this.#name() };
          }),
        };
      case 'AGGREGATE': {
        this.#next();
        const items = this.#isKeyword('GROUP') ? [] : this.#selectItems(false);
        let groupBy: SelectItem[] = [];
        let orderGroups = false;
        if (this.#acceptKeyword('GROUP')) {
          if (this.#acceptKeyword('AND')) {
            this.#expectKeyword('ORDER');
            orderGroups = true;
          }
          this.#expectKeyword('BY');
          groupBy = this.#selectItems(false);
        }
        return { kind: 'aggregate', items, groupBy, orderGroups, position };
      }
      case 'ORDER':
        return { kind: 'order-by', keys: this.#orderBy(), position };
      case 'LIMIT':
        return { kind: 'limit', ...this.#limit(), position };
      case 'AS':
        this.#next();
        return { kind: 'as', alias: this.#name(), position };
      case 'JOIN': case 'INNER': case 'LEFT':
        return this.#join();
      case 'RIGHT': case 'FULL': case 'CROSS':
        throw this.#error(token, `${word} JOIN is not supported: use JOIN or LEFT JOIN with USING or ON`);
      default:
        throw this.#error(token, `expected a pipe operator (${PIPE_OPERATORS}) after |>`);
    }
  }

  #joins(): Step[] {
    const joins: Step[] = [];
    while (this.#isKeyword('JOIN') || this.#isKeyword('INNER') || this.#isKeyword('LEFT')) joins.push(this.#join());
    if (this.#isKeyword('RIGHT') || this.#isKeyword('FULL') || this.#isKeyword('CROSS')) {
      throw this.#error(this.#peek(), `${this.#peek().text.toUpperCase()} JOIN is not supported: use JOIN or LEFT JOIN with USING or ON`);
    }
    if (this.#isSymbol(',')) throw this.#error(this.#peek(), 'comma joins are not supported: use JOIN … USING (…) or JOIN … ON …');
    return joins;
  }

  #join(): Step {
    const start = this.#peek();
    let type: 'inner' | 'left' = 'inner';
    if (this.#acceptKeyword('LEFT')) {
      type = 'left';
      this.#acceptKeyword('OUTER');
    } else {
      this.#acceptKeyword('INNER');
    }
    this.#expectKeyword('JOIN');
    const source = this.#source();
    if (this.#acceptKeyword('USING')) {
      this.#expectSymbol('(');
      const using = this.#list(() => this.#name());
      this.#expectSymbol(')');
      return { kind: 'join', type, source, using, position: start.position };
    }
    if (this.#acceptKeyword('ON')) return { kind: 'join', type, source, on: this.#expr(), position: start.position };
    throw this.#error(this.#peek(), 'a JOIN needs USING (columns) or ON condition');
  }

  #source(): Source {
    const token = this.#peek();
    if (this.#isSymbol('(')) {
      this.#enter(token);
      this.#next();
      const query = this.query();
      this.#expectSymbol(')');
      this.#depth--;
      const alias = this.#alias();
      return { kind: 'subquery', query, position: token.position, ...(alias ? { alias } : {}) };
    }
    const name = this.#name('a table name');
    const alias = this.#alias();
    return { kind: 'table', name, ...(alias ? { alias } : {}) };
  }

  #alias(): Named | undefined {
    if (this.#acceptKeyword('AS')) return this.#name();
    const token = this.#peek();
    if ((token.kind === 'identifier' && !RESERVED.has(token.text.toUpperCase())) || token.kind === 'quoted-identifier') return this.#name();
    return undefined;
  }

  #selectItems(allowStar: boolean): SelectItem[] {
    return this.#list(() => {
      if (allowStar && this.#isSymbol('*')) {
        const star = this.#next();
        return { expr: { kind: 'star', position: star.position } };
      }
      const expr = this.#expr();
      const alias = this.#alias();
      return alias ? { expr, alias } : { expr };
    });
  }

  #orderBy(): OrderKey[] {
    this.#expectKeyword('ORDER');
    this.#expectKeyword('BY');
    return this.#list(() => {
      const expr = this.#expr();
      const descending = this.#acceptKeyword('DESC');
      if (!descending) this.#acceptKeyword('ASC');
      return { expr, descending };
    });
  }

  #limit(): { count: number; offset: number } {
    this.#expectKeyword('LIMIT');
    const count = this.#count('LIMIT');
    const offset = this.#acceptKeyword('OFFSET') ? this.#count('OFFSET') : 0;
    return { count, offset };
  }

  #count(clause: string): number {
    const token = this.#next();
    const value = Number(token.text);
    if (token.kind !== 'number' || !Number.isSafeInteger(value) || value < 0) throw this.#error(token, `${clause} takes a whole number`);
    return value;
  }

  #list<T>(item: () => T): T[] {
    const items = [item()];
    while (this.#isSymbol(',')) {
      this.#next();
      items.push(item());
    }
    return items;
  }

  // Expressions, lowest precedence first.

  #expr(): Expr {
    return this.#or();
  }

  #or(): Expr {
    let left = this.#and();
    while (this.#isKeyword('OR')) {
      const token = this.#next();
      left = { kind: 'binary', op: 'OR', left, right: this.#and(), position: token.position };
    }
    return left;
  }

  #and(): Expr {
    let left = this.#not();
    while (this.#isKeyword('AND')) {
      const token = this.#next();
      left = { kind: 'binary', op: 'AND', left, right: this.#not(), position: token.position };
    }
    return left;
  }

  #not(): Expr {
    if (this.#isKeyword('NOT')) {
      const token = this.#next();
      this.#enter(token);
      const operand = this.#not();
      this.#depth--;
      return { kind: 'unary', op: 'NOT', operand, position: token.position };
    }
    return this.#comparison();
  }

  #comparison(): Expr {
    const left = this.#concat();
    const token = this.#peek();
    if (token.kind === 'symbol' && ['=', '!=', '<>', '<', '<=', '>', '>='].includes(token.text)) {
      this.#next();
      const op = (token.text === '<>' ? '!=' : token.text) as BinaryOp;
      return { kind: 'binary', op, left, right: this.#concat(), position: token.position };
    }
    if (this.#isKeyword('IS')) {
      this.#next();
      const negated = this.#acceptKeyword('NOT');
      this.#expectKeyword('NULL');
      return { kind: 'is-null', operand: left, negated, position: token.position };
    }
    const negated = this.#isKeyword('NOT') && ['IN', 'BETWEEN', 'LIKE'].includes(this.#peek(1).text.toUpperCase());
    if (negated) this.#next();
    if (this.#acceptKeyword('IN')) {
      this.#expectSymbol('(');
      const list = this.#list(() => this.#concat());
      this.#expectSymbol(')');
      return { kind: 'in', operand: left, list, negated, position: token.position };
    }
    if (this.#acceptKeyword('BETWEEN')) {
      const low = this.#concat();
      this.#expectKeyword('AND');
      return { kind: 'between', operand: left, low, high: this.#concat(), negated, position: token.position };
    }
    if (this.#acceptKeyword('LIKE')) return { kind: 'like', operand: left, pattern: this.#concat(), negated, position: token.position };
    return left;
  }

  #concat(): Expr {
    let left = this.#additive();
    while (this.#isSymbol('||')) {
      const token = this.#next();
      left = { kind: 'binary', op: '||', left, right: this.#additive(), position: token.position };
    }
    return left;
  }

  #additive(): Expr {
    let left = this.#multiplicative();
    while (this.#isSymbol('+') || this.#isSymbol('-')) {
      const token = this.#next();
      left = { kind: 'binary', op: token.text as BinaryOp, left, right: this.#multiplicative(), position: token.position };
    }
    return left;
  }

  #multiplicative(): Expr {
    let left = this.#unary();
    while (this.#isSymbol('*') || this.#isSymbol('/') || this.#isSymbol('%')) {
      const token = this.#next();
      left = { kind: 'binary', op: token.text as BinaryOp, left, right: this.#unary(), position: token.position };
    }
    return left;
  }

  #unary(): Expr {
    if (this.#isSymbol('-')) {
      const token = this.#next();
      this.#enter(token);
      const operand = this.#unary();
      this.#depth--;
      return { kind: 'unary', op: '-', operand, position: token.position };
    }
    if (this.#isSymbol('+')) this.#next();
    return this.#primary();
  }

  #primary(): Expr {
    const token = this.#peek();
    if (token.kind === 'number') {
      this.#next();
      return { kind: 'literal', value: Number(token.text), position: token.position };
    }
    if (token.kind === 'string') {
      this.#next();
      return { kind: 'literal', value: token.text, position: token.position };
    }
    if (this.#isSymbol('(')) {
      this.#enter(token);
      this.#next();
      if (this.#isKeyword('SELECT') || this.#isKeyword('FROM')) throw this.#error(this.#peek(), 'subqueries in expressions are not supported: use JOIN (FROM …) USING (…)');
      const inner = this.#expr();
      this.#expectSymbol(')');
      this.#depth--;
      return inner;
    }
    if (token.kind === 'quoted-identifier') return this.#columnOrCall();
    if (token.kind !== 'identifier') throw this.#error(token, token.kind === 'end' ? 'the query ends where an expression should be' : `expected an expression, found ${describe(token)}`);
    const word = token.text.toUpperCase();
    switch (word) {
      case 'NULL':
        this.#next();
        return { kind: 'literal', value: null, position: token.position };
      case 'TRUE': case 'FALSE':
        this.#next();
        return { kind: 'literal', value: word === 'TRUE', position: token.position };
      case 'INTERVAL': {
        this.#next();
        const negative = this.#isSymbol('-') ? (this.#next(), true) : false;
        const amountToken = this.#next();
        const amount = amountToken.kind === 'number' ? Number(amountToken.text)
          : amountToken.kind === 'string' && /^\d+$/.test(amountToken.text) ? Number(amountToken.text) : Number.NaN;
        if (!Number.isSafeInteger(amount)) throw this.#error(amountToken, 'INTERVAL takes a whole number, as in INTERVAL 7 DAY');
        const unitToken = this.#next();
        const unit = INTERVAL_UNITS[unitToken.text.toUpperCase()];
        if (unitToken.kind !== 'identifier' || !unit) throw this.#error(unitToken, 'INTERVAL takes a unit: SECOND, MINUTE, HOUR, DAY or WEEK');
        return { kind: 'interval', amount: negative ? -amount : amount, unit, position: token.position };
      }
      case 'TIMESTAMP': {
        if (this.#peek(1).kind !== 'string') break;
        this.#next();
        return { kind: 'timestamp', text: this.#next().text, position: token.position };
      }
      case 'CASE':
        return this.#case();
      default:
        if (RESERVED.has(word) && this.#peek(1).text !== '(') throw this.#error(token, `expected an expression, found the keyword ${word}`);
    }
    return this.#columnOrCall();
  }

  #columnOrCall(): Expr {
    const first = this.#name();
    if (this.#isSymbol('(')) {
      this.#next();
      if (this.#isSymbol('*')) {
        const star = this.#next();
        this.#expectSymbol(')');
        return { kind: 'call', name: first.name.toLowerCase(), args: [{ kind: 'star', position: star.position }], distinct: false, position: first.position };
      }
      const distinct = this.#acceptKeyword('DISTINCT');
      const args = this.#isSymbol(')') ? [] : this.#list(() => this.#expr());
      this.#expectSymbol(')');
      return { kind: 'call', name: first.name.toLowerCase(), args, distinct, position: first.position };
    }
    if (this.#isSymbol('.')) {
      this.#next();
      const second = this.#name();
      return { kind: 'column', qualifier: first.name, name: second.name, position: first.position };
    }
    return { kind: 'column', name: first.name, position: first.position };
  }

  #case(): Expr {
    const start = this.#expectKeyword('CASE');
    const operand = this.#isKeyword('WHEN') ? undefined : this.#expr();
    const whens: { when: Expr; then: Expr }[] = [];
    while (this.#acceptKeyword('WHEN')) {
      const when = this.#expr();
      this.#expectKeyword('THEN');
      whens.push({ when, then: this.#expr() });
    }
    if (whens.length === 0) throw this.#error(this.#peek(), 'CASE needs at least one WHEN … THEN …');
    const otherwise = this.#acceptKeyword('ELSE') ? this.#expr() : undefined;
    this.#expectKeyword('END');
    return { kind: 'case', whens, position: start.position, ...(operand ? { operand } : {}), ...(otherwise ? { otherwise } : {}) };
  }

  /** An identifier (bare or in backquotes); a keyword is refused where a name is wanted. */
  #name(what = 'a name'): Named {
    const token = this.#next();
    if (token.kind === 'quoted-identifier') {
      if (token.text === '') throw this.#error(token, 'an empty name');
      return { name: token.text, position: token.position };
    }
    if (token.kind !== 'identifier') throw this.#error(token, `expected ${what}, found ${describe(token)}`);
    if (RESERVED.has(token.text.toUpperCase())) throw this.#error(token, `expected ${what}, found the keyword ${token.text.toUpperCase()} (quote a name with backquotes)`);
    return { name: token.text, position: token.position };
  }

  #enter(token: Token): void {
    if (++this.#depth > MAX_NESTING) throw this.#error(token, `parentheses nest deeper than ${MAX_NESTING} levels`);
  }

  #peek(ahead = 0): Token {
    return this.#tokens[Math.min(this.#index + ahead, this.#tokens.length - 1)]!;
  }

  #next(): Token {
    const token = this.#peek();
    if (token.kind !== 'end') this.#index++;
    return token;
  }

  #isKeyword(word: string): boolean {
    const token = this.#peek();
    return token.kind === 'identifier' && token.text.toUpperCase() === word;
  }

  #isSymbol(symbol: string): boolean {
    const token = this.#peek();
    return token.kind === 'symbol' && token.text === symbol;
  }

  #acceptKeyword(word: string): boolean {
    if (!this.#isKeyword(word)) return false;
    this.#next();
    return true;
  }

  #expectKeyword(word: string): Token {
    if (!this.#isKeyword(word)) throw this.#error(this.#peek(), `expected ${word}, found ${describe(this.#peek())}`);
    return this.#next();
  }

  #expectSymbol(symbol: string): Token {
    if (!this.#isSymbol(symbol)) throw this.#error(this.#peek(), `expected "${symbol}", found ${describe(this.#peek())}`);
    return this.#next();
  }

  #error(token: Token, problem: string): QueryError {
    return new QueryError(token.position, problem);
  }
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'end': return 'the end of the query';
    case 'string': return `the string '${token.text}'`;
    case 'number': return `the number ${token.text}`;
    case 'symbol': return `"${token.text}"`;
    default: return `"${token.text}"`;
  }
}

