/**
 * Compiles a pipe-SQL query into one SQLite statement: each step becomes a common table
 * expression (`WITH s1 AS (…), s2 AS (…) SELECT … FROM sN`). Pure.
 *
 * Safe by construction:
 *   - the statement is built from the AST only and is always a WITH … SELECT;
 *   - every table and column the caller names is looked up in the schema, and what reaches SQL is
 *     the schema's own name or a name the compiler made up (`s3`, `c7`): no caller text is ever
 *     written into the statement, not even a quoted identifier or an alias;
 *   - every literal is a bound parameter (`?12`);
 *   - functions come from an allowlist, each written by the compiler;
 *   - every table source is filtered by the caller's read scope before any step of theirs runs;
 *   - the outer SELECT stops at `maxRows + 1` rows, so the runner can tell a cut result.
 */
import type { Expr, OrderKey, Query, SelectItem, Source, Step } from './ast.ts';
import { parseQuery } from './parser.ts';
import { QueryError, type Position } from './query-error.ts';
import type { ReadScope, TableSchema, ValueType } from './schema.ts';

export interface CompileOptions {
  readonly tables: readonly TableSchema[];
  readonly scope: ReadScope;
  /** What now() means, in milliseconds since the epoch (fixed per query, so a query is reproducible). */
  readonly now: number;
  /** The most rows a result may have; the statement asks for one more to detect a cut. */
  readonly maxRows: number;
}

export interface ResultColumn {
  readonly name: string;
  readonly type: ValueType;
}

export interface CompiledQuery {
  readonly sql: string;
  readonly params: readonly (string | number | null)[];
  readonly columns: readonly ResultColumn[];
}

/** Longest query text accepted: longer ones are refused before parsing. */
export const MAX_QUERY_LENGTH = 20_000;

export function compileQuery(text: string, options: CompileOptions): CompiledQuery {
  if (text.length > MAX_QUERY_LENGTH) throw new QueryError({ line: 1, column: 1 }, `the query is longer than ${MAX_QUERY_LENGTH} characters`);
  try {
    return new Compiler(options).compile(parseQuery(text));
  } catch (error) {
    // A pathological query (thousands of chained operators) must be refused, not crash the caller.
    if (error instanceof RangeError) throw new QueryError({ line: 1, column: 1 }, 'the query is too deeply nested');
    throw error;
  }
}

/** A column of a step's result: its name for the caller, the aliases it may be qualified with, and its SQL reference. */
interface Column {
  readonly name: string;
  readonly qualifiers: readonly string[];
  readonly type: ValueType;
  readonly sql: string;
  /** A table's column, unchanged: its values are what the store wrote (times are whole milliseconds). */
  readonly stored?: boolean;
}

interface Relation {
  /** The CTE holding the rows (columns c0, c1, … in order). */
  readonly cte: string;
  readonly columns: readonly Column[];
}

interface Compiled {
  readonly sql: string;
  readonly type: ValueType;
  /** Contains an aggregate call. */
  readonly aggregate: boolean;
  /** Where it uses a column that is neither grouped nor inside an aggregate (when grouping). */
  readonly bare?: Position;
  /** The value of a literal, for compile-time checks (time_bucket widths, timestamp strings). */
  readonly literal?: string | number | boolean | null;
  /** A table's column as stored (see Column.stored). */
  readonly stored?: boolean;
}

interface Environment {
  readonly columns: readonly Column[];
  /** Where the expression stands, for errors ("in WHERE"). */
  readonly clause: string;
  readonly aggregates: boolean;
  /** SQL of the grouping expressions, when the expression is evaluated per group. */
  readonly groups?: ReadonlySet<string>;
  /** Width of the time_bucket being grouped by, for rate(). */
  readonly bucketMs?: number;
  readonly insideAggregate?: boolean;
}

const AGGREGATES = new Set(['count', 'sum', 'avg', 'min', 'max']);
const SCALARS = ['lower', 'upper', 'length', 'coalesce', 'abs', 'round', 'now', 'date', 'time_bucket', 'rate'];
const FUNCTION_NAMES = [...AGGREGATES, ...SCALARS].join(', ');
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const INTERVAL_MS = { SECOND: 1000, MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000, WEEK: 604_800_000 } as const;

class Compiler {
  readonly #options: CompileOptions;
  readonly #tables: ReadonlyMap<string, TableSchema>;
  readonly #ctes: string[] = [];
  readonly #params: (string | number | null)[] = [];

  constructor(options: CompileOptions) {
    this.#options = options;
    this.#tables = new Map(options.tables.map((table) => [table.name.toLowerCase(), table]));
  }

  compile(query: Query): CompiledQuery {
    const result = this.#query(query);
    const names = outputNames(result.columns);
    const sql = `WITH ${this.#ctes.join(',\n')}\nSELECT ${result.columns.map((column) => column.sql).join(', ')} FROM ${result.cte} LIMIT ${this.#options.maxRows + 1}`;
    return { sql, params: this.#params, columns: result.columns.map((column, index) => ({ name: names[index]!, type: column.type })) };
  }

  #query(query: Query): Relation {
    const [first, ...rest] = query.steps;
    if (first?.kind !== 'from') throw new Error('a query starts with FROM');
    let relation = this.#source(first.source);
    for (let index = 0; index < rest.length; index++) {
      const step = rest[index]!;
      const next = rest[index + 1];
      // ORDER BY then LIMIT is one statement, so the limit surely applies to the sorted rows.
      if (step.kind === 'order-by' && next?.kind === 'limit') {
        relation = this.#orderBy(relation, step.keys, next);
        index++;
      } else {
        relation = this.#step(relation, step);
      }
    }
    return relation;
  }

  #step(input: Relation, step: Step): Relation {
    switch (step.kind) {
      case 'from':
        throw new QueryError(step.position, 'FROM starts a query; to combine tables use |> JOIN');
      case 'where': {
        const condition = this.#expr(step.condition, { columns: local(input), clause: 'WHERE', aggregates: false });
        return this.#emit(input, local(input).map((column) => column.sql), local(input), `WHERE ${condition.sql}`);
      }
      case 'select':
        return this.#select(input, step.items, step.distinct);
      case 'extend':
        return this.#extend(input, step.items);
      case 'set':
        return this.#set(input, step);
      case 'drop': {
        const dropped = new Set(step.columns.map((name) => this.#columnIndex(input, name.name, name.position)));
        const kept = local(input).filter((_, index) => !dropped.has(index));
        if (kept.length === 0) throw new QueryError(step.position, 'DROP cannot remove every column');
        return this.#emit(input, kept.map((column) => column.sql), kept, '');
      }
      case 'rename': {
        const columns = [...local(input)];
        for (const { from, to } of step.pairs) {
          const index = this.#columnIndex({ cte: input.cte, columns }, from.name, from.position);
          if (columns.some((column, other) => other !== index && sameName(column.name, to.name))) {
            throw new QueryError(to.position, `a column "${to.name}" exists already`);
          }
          columns[index] = { ...columns[index]!, name: to.name };
        }
        return { cte: input.cte, columns: input.columns.map((column, index) => ({ ...column, name: columns[index]!.name })) };
      }
      case 'aggregate':
        return this.#aggregate(input, step);
      case 'order-by':
        return this.#orderBy(input, step.keys);
      case 'limit':
        return this.#emit(input, local(input).map((column) => column.sql), local(input), `LIMIT ${step.count} OFFSET ${step.offset}`);
      case 'join':
        return this.#join(input, step);
      case 'as':
        return { cte: input.cte, columns: input.columns.map((column) => ({ ...column, qualifiers: [step.alias.name.toLowerCase()] })) };
      case 'select-block':
        return this.#selectBlock(input, step);
    }
  }

  /** A table (filtered by the caller's read scope) or a parenthesised query. */
  #source(source: Source): Relation {
    if (source.kind === 'subquery') {
      const inner = this.#query(source.query);
      const qualifiers = source.alias ? [source.alias.name.toLowerCase()] : [];
      return { cte: inner.cte, columns: inner.columns.map((column) => ({ ...column, qualifiers })) };
    }
    const table = this.#tables.get(source.name.name.toLowerCase());
    if (!table) {
      throw new QueryError(source.name.position, `unknown table "${source.name.name}"; tables are ${[...this.#tables.values()].map((known) => known.name).join(', ')}`);
    }
    const qualifier = (source.alias?.name ?? table.name).toLowerCase();
    const scope = this.#options.scope;
    let filter = '';
    if (!scope.all && table.scopedBy === 'administrators') {
      filter = ' WHERE 0';
    } else if (!scope.all) {
      const allowed = table.scopedBy === 'repository' ? scope.repositories : scope.namespaces;
      filter = ` WHERE ${table.scopedBy} IN (SELECT value FROM json_each(${this.#param(JSON.stringify(allowed))}))`;
    }
    const cte = this.#cte(table.columns.length, `SELECT ${table.columns.map((column) => column.name).join(', ')} FROM ${table.name}${filter}`);
    return { cte, columns: table.columns.map((column, index) => ({ name: column.name, qualifiers: [qualifier], type: column.type, sql: `c${index}`, stored: true })) };
  }

  #select(input: Relation, items: readonly SelectItem[], distinct: boolean): Relation {
    const env: Environment = { columns: local(input), clause: 'SELECT', aggregates: false };
    const expressions: string[] = [];
    const columns: Column[] = [];
    for (const item of items) {
      if (item.expr.kind === 'star') {
        for (const column of local(input)) {
          expressions.push(column.sql);
          columns.push({ name: column.name, qualifiers: [], type: column.type, sql: '', stored: column.stored });
        }
        continue;
      }
      const compiled = this.#expr(item.expr, env);
      expressions.push(compiled.sql);
      columns.push({ name: itemName(item, columns.length), qualifiers: [], type: compiled.type, sql: '', stored: compiled.stored });
    }
    requireUniqueNames(columns, items);
    return this.#emit(input, expressions, columns, '', distinct);
  }

  #extend(input: Relation, items: readonly SelectItem[]): Relation {
    const env: Environment = { columns: local(input), clause: 'EXTEND', aggregates: false };
    const columns = [...local(input)];
    const expressions = columns.map((column) => column.sql);
    for (const item of items) {
      const compiled = this.#expr(item.expr, env);
      const name = itemName(item, columns.length);
      if (columns.some((column) => sameName(column.name, name))) {
        throw new QueryError(item.alias?.position ?? item.expr.position, `a column "${name}" exists already; use SET to replace it, or another name`);
      }
      expressions.push(compiled.sql);
      columns.push({ name, qualifiers: [], type: compiled.type, sql: '', stored: compiled.stored });
    }
    return this.#emit(input, expressions, columns, '');
  }

  #set(input: Relation, step: Extract<Step, { kind: 'set' }>): Relation {
    const env: Environment = { columns: local(input), clause: 'SET', aggregates: false };
    const columns = [...local(input)];
    const expressions = columns.map((column) => column.sql);
    for (const { column, expr } of step.assignments) {
      const index = this.#columnIndex(input, column.name, column.position);
      const compiled = this.#expr(expr, env);
      expressions[index] = compiled.sql;
      columns[index] = { ...columns[index]!, type: compiled.type, stored: compiled.stored };
    }
    return this.#emit(input, expressions, columns, '');
  }

  #aggregate(input: Relation, step: Extract<Step, { kind: 'aggregate' }>): Relation {
    if (step.items.length === 0 && step.groupBy.length === 0) throw new QueryError(step.position, 'AGGREGATE needs at least one aggregate or GROUP BY');
    const groupEnv: Environment = { columns: local(input), clause: 'GROUP BY', aggregates: false };
    const groups = step.groupBy.map((item) => this.#expr(item.expr, groupEnv));
    const env: Environment = {
      columns: local(input), clause: 'AGGREGATE', aggregates: true, groups: new Set(groups.map((group) => group.sql)),
      ...bucketOf(step.groupBy.map((item) => item.expr)),
    };
    const columns: Column[] = step.groupBy.map((item, index) => ({ name: itemName(item, index), qualifiers: [], type: groups[index]!.type, sql: '', stored: groups[index]!.stored }));
    const expressions = groups.map((group) => group.sql);
    for (const item of step.items) {
      const compiled = this.#expr(item.expr, env);
      if (compiled.bare) throw notGrouped(compiled.bare);
      if (!compiled.aggregate) throw new QueryError(item.expr.position, 'each AGGREGATE item needs an aggregate such as count(*) or sum(bytes); put grouping expressions after GROUP BY');
      expressions.push(compiled.sql);
      columns.push({ name: itemName(item, columns.length), qualifiers: [], type: compiled.type, sql: '' });
    }
    requireUniqueNames(columns, [...step.groupBy, ...step.items]);
    const grouping = groups.length > 0 ? `GROUP BY ${groups.map((group) => group.sql).join(', ')}` : '';
    const ordering = step.orderGroups && groups.length > 0 ? ` ORDER BY ${groups.map((group) => group.sql).join(', ')}` : '';
    return this.#emit(input, expressions, columns, grouping + ordering);
  }

  #orderBy(input: Relation, keys: readonly OrderKey[], limit?: { count: number; offset: number }): Relation {
    const env: Environment = { columns: local(input), clause: 'ORDER BY', aggregates: false };
    const order = keys.map((key) => `${this.#expr(key.expr, env).sql}${key.descending ? ' DESC' : ''}`).join(', ');
    const tail = limit ? ` LIMIT ${limit.count} OFFSET ${limit.offset}` : '';
    return this.#emit(input, local(input).map((column) => column.sql), local(input), `ORDER BY ${order}${tail}`);
  }

  #join(left: Relation, step: Extract<Step, { kind: 'join' }>): Relation {
    const right = this.#source(step.source);
    const leftColumns = left.columns.map((column, index) => ({ ...column, sql: `l.c${index}` }));
    const rightColumns = right.columns.map((column, index) => ({ ...column, sql: `r.c${index}` }));
    const kind = step.type === 'left' ? 'LEFT JOIN' : 'JOIN';
    let columns: Column[];
    let condition: string;
    if (step.using) {
      const pairs = step.using.map((name) => {
        const leftIndex = this.#columnIndex({ cte: left.cte, columns: leftColumns }, name.name, name.position, 'the left side of the join');
        const rightIndex = this.#columnIndex({ cte: right.cte, columns: rightColumns }, name.name, name.position, 'the joined table');
        return { leftIndex, rightIndex };
      });
      condition = pairs.map(({ leftIndex, rightIndex }) => `${leftColumns[leftIndex]!.sql} = ${rightColumns[rightIndex]!.sql}`).join(' AND ');
      const leftUsed = new Set(pairs.map((pair) => pair.leftIndex));
      const rightUsed = new Set(pairs.map((pair) => pair.rightIndex));
      columns = [
        ...pairs.map(({ leftIndex, rightIndex }) => ({
          ...leftColumns[leftIndex]!, qualifiers: [...leftColumns[leftIndex]!.qualifiers, ...rightColumns[rightIndex]!.qualifiers],
        })),
        ...leftColumns.filter((_, index) => !leftUsed.has(index)),
        ...rightColumns.filter((_, index) => !rightUsed.has(index)),
      ];
    } else {
      columns = [...leftColumns, ...rightColumns];
      condition = this.#expr(step.on!, { columns, clause: 'JOIN … ON', aggregates: false }).sql;
    }
    const cte = this.#cte(columns.length, `SELECT ${columns.map((column) => column.sql).join(', ')} FROM ${left.cte} AS l ${kind} ${right.cte} AS r ON ${condition}`);
    return { cte, columns: columns.map((column, index) => ({ ...column, sql: `c${index}` })) };
  }

  #selectBlock(input: Relation, step: Extract<Step, { kind: 'select-block' }>): Relation {
    const groups = step.groupBy.map((expr) => this.#expr(expr, { columns: local(input), clause: 'GROUP BY', aggregates: false }));
    const env: Environment = {
      columns: local(input), clause: 'SELECT', aggregates: true, groups: new Set(groups.map((group) => group.sql)),
      ...bucketOf(step.groupBy),
    };
    const expressions: string[] = [];
    const columns: Column[] = [];
    const compiledItems: Compiled[] = [];
    for (const item of step.items) {
      if (item.expr.kind === 'star') {
        for (const column of local(input)) {
          expressions.push(column.sql);
          columns.push({ name: column.name, qualifiers: [], type: column.type, sql: '' });
          compiledItems.push({ sql: column.sql, type: column.type, aggregate: false, bare: item.expr.position });
        }
        continue;
      }
      const compiled = this.#expr(item.expr, env);
      compiledItems.push(compiled);
      expressions.push(compiled.sql);
      columns.push({ name: itemName(item, columns.length), qualifiers: [], type: compiled.type, sql: '' });
    }
    requireUniqueNames(columns, step.items);
    const having = step.having ? this.#expr(step.having, { ...env, clause: 'HAVING' }) : undefined;
    const aggregated = groups.length > 0 || compiledItems.some((item) => item.aggregate) || having !== undefined;
    if (aggregated) {
      const bare = [...compiledItems, ...(having ? [having] : [])].find((item) => item.bare)?.bare;
      if (bare) throw notGrouped(bare);
    }
    const order = step.orderBy.map((key) => {
      // A name of the SELECT list is ordered by that output column; anything else by the expression.
      if (key.expr.kind === 'column' && key.expr.qualifier === undefined) {
        const position = columns.findIndex((column) => sameName(column.name, (key.expr as { name: string }).name));
        if (position !== -1) return `${position + 1}${key.descending ? ' DESC' : ''}`;
      }
      const compiled = this.#expr(key.expr, { ...env, clause: 'ORDER BY', aggregates: aggregated });
      if (aggregated && compiled.bare) throw notGrouped(compiled.bare);
      return `${compiled.sql}${key.descending ? ' DESC' : ''}`;
    });
    const clauses = [
      groups.length > 0 ? `GROUP BY ${groups.map((group) => group.sql).join(', ')}` : '',
      having ? `HAVING ${having.sql}` : '',
      order.length > 0 ? `ORDER BY ${order.join(', ')}` : '',
      step.limit ? `LIMIT ${step.limit.count} OFFSET ${step.limit.offset}` : '',
    ].filter((clause) => clause !== '');
    return this.#emit(input, expressions, columns, clauses.join(' '), step.distinct);
  }

  /** A new CTE selecting `expressions` from `input`; its columns are named c0, c1, … in order. */
  #emit(input: Relation, expressions: readonly string[], columns: readonly Column[], tail: string, distinct = false): Relation {
    const body = `SELECT ${distinct ? 'DISTINCT ' : ''}${expressions.join(', ')} FROM ${input.cte}${tail ? ` ${tail}` : ''}`;
    const cte = this.#cte(columns.length, body);
    return { cte, columns: columns.map((column, index) => ({ ...column, sql: `c${index}` })) };
  }

  #cte(width: number, body: string): string {
    const name = `s${this.#ctes.length + 1}`;
    const names = Array.from({ length: width }, (_, index) => `c${index}`).join(', ');
    this.#ctes.push(`${name}(${names}) AS (${body})`);
    return name;
  }

  #param(value: string | number | null): string {
    this.#params.push(value);
    return `?${this.#params.length}`;
  }

  /** The index of an unqualified column of a relation, or a clear error. */
  #columnIndex(relation: Relation, name: string, position: Position, where?: string): number {
    const matches = relation.columns.flatMap((column, index) => (sameName(column.name, name) ? [index] : []));
    if (matches.length === 0) throw unknownColumn(position, name, relation.columns, where);
    if (matches.length > 1) throw new QueryError(position, `column "${name}" is ambiguous; qualify it (${matches.map((index) => `${relation.columns[index]!.qualifiers[0] ?? '?'}.${name}`).join(', ')})`);
    return matches[0]!;
  }

  // Expressions.

  #expr(expr: Expr, env: Environment): Compiled {
    const compiled = this.#exprInner(expr, env);
    // A grouping expression used whole (time_bucket('1h', time)) is a value of the group.
    if (compiled.bare && env.groups?.has(compiled.sql)) return { ...compiled, bare: undefined };
    return compiled;
  }

  #exprInner(expr: Expr, env: Environment): Compiled {
    switch (expr.kind) {
      case 'literal':
        if (expr.value === null) return { sql: 'NULL', type: 'null', aggregate: false, literal: null };
        if (typeof expr.value === 'boolean') return { sql: this.#param(expr.value ? 1 : 0), type: 'boolean', aggregate: false, literal: expr.value };
        if (typeof expr.value === 'number') {
          if (!Number.isFinite(expr.value)) throw new QueryError(expr.position, 'this number is too large');
          return { sql: this.#param(expr.value), type: Number.isInteger(expr.value) ? 'integer' : 'real', aggregate: false, literal: expr.value };
        }
        return { sql: this.#param(expr.value), type: 'text', aggregate: false, literal: expr.value };
      case 'timestamp':
        return { sql: this.#param(parseTimestamp(expr.text, expr.position)), type: 'timestamp', aggregate: false };
      case 'interval':
        return { sql: this.#param(expr.amount * INTERVAL_MS[expr.unit]), type: 'interval', aggregate: false };
      case 'column':
        return this.#column(expr, env);
      case 'star':
        throw new QueryError(expr.position, '* stands only in SELECT * and count(*)');
      case 'unary': {
        const operand = this.#expr(expr.operand, env);
        if (expr.op === 'NOT') return { ...operand, sql: `(NOT ${operand.sql})`, type: 'boolean', literal: undefined };
        if (operand.type === 'timestamp' || operand.type === 'text') throw new QueryError(expr.position, `cannot negate a ${operand.type}`);
        return { ...operand, sql: `(- ${operand.sql})`, literal: undefined };
      }
      case 'binary':
        return this.#binary(expr, env);
      case 'call':
        return this.#call(expr, env);
      case 'in': {
        const operand = this.#expr(expr.operand, env);
        const list = expr.list.map((item) => this.#coerced(item, operand.type, env));
        return combine(`(${operand.sql} ${expr.negated ? 'NOT IN' : 'IN'} (${list.map((item) => item.sql).join(', ')}))`, 'boolean', [operand, ...list]);
      }
      case 'between': {
        const operand = this.#expr(expr.operand, env);
        const low = this.#coerced(expr.low, operand.type, env);
        const high = this.#coerced(expr.high, operand.type, env);
        return combine(`(${operand.sql} ${expr.negated ? 'NOT BETWEEN' : 'BETWEEN'} ${low.sql} AND ${high.sql})`, 'boolean', [operand, low, high]);
      }
      case 'like': {
        const operand = this.#expr(expr.operand, env);
        const pattern = this.#expr(expr.pattern, env);
        return combine(`(${operand.sql} ${expr.negated ? 'NOT LIKE' : 'LIKE'} ${pattern.sql})`, 'boolean', [operand, pattern]);
      }
      case 'is-null': {
        const operand = this.#expr(expr.operand, env);
        return combine(`(${operand.sql} ${expr.negated ? 'IS NOT NULL' : 'IS NULL'})`, 'boolean', [operand]);
      }
      case 'case': {
        const operand = expr.operand ? this.#expr(expr.operand, env) : undefined;
        const parts: Compiled[] = operand ? [operand] : [];
        let sql = operand ? `(CASE ${operand.sql}` : '(CASE';
        let type: ValueType = 'null';
        for (const { when, then } of expr.whens) {
          const condition = operand ? this.#coerced(when, operand.type, env) : this.#expr(when, env);
          const value = this.#expr(then, env);
          parts.push(condition, value);
          if (type === 'null') type = value.type;
          sql += ` WHEN ${condition.sql} THEN ${value.sql}`;
        }
        if (expr.otherwise) {
          const otherwise = this.#expr(expr.otherwise, env);
          parts.push(otherwise);
          if (type === 'null') type = otherwise.type;
          sql += ` ELSE ${otherwise.sql}`;
        }
        return combine(`${sql} END)`, type, parts);
      }
    }
  }

  #column(expr: Extract<Expr, { kind: 'column' }>, env: Environment): Compiled {
    let candidates = env.columns;
    if (expr.qualifier !== undefined) {
      const qualifier = expr.qualifier.toLowerCase();
      candidates = env.columns.filter((column) => column.qualifiers.includes(qualifier));
      if (candidates.length === 0) {
        const known = [...new Set(env.columns.flatMap((column) => column.qualifiers))];
        throw new QueryError(expr.position, `unknown table or alias "${expr.qualifier}"${known.length > 0 ? `; here there are ${known.join(', ')}` : ' (after SELECT or AGGREGATE, name the result with |> AS alias)'}`);
      }
    }
    const matches = candidates.filter((column) => sameName(column.name, expr.name));
    if (matches.length === 0) throw unknownColumn(expr.position, expr.qualifier === undefined ? expr.name : `${expr.qualifier}.${expr.name}`, candidates);
    if (matches.length > 1) {
      throw new QueryError(expr.position, `column "${expr.name}" is ambiguous; qualify it (${matches.map((column) => `${column.qualifiers[0] ?? '?'}.${column.name}`).join(', ')})`);
    }
    const column = matches[0]!;
    const bare = env.groups && !env.insideAggregate ? expr.position : undefined;
    return { sql: column.sql, type: column.type, aggregate: false, ...(column.stored ? { stored: true } : {}), ...(bare ? { bare } : {}) };
  }

  /** An expression compared with a value of `type`: a string literal compared with a time is read as a time. */
  #coerced(expr: Expr, type: ValueType, env: Environment): Compiled {
    if (type === 'timestamp' && expr.kind === 'literal' && typeof expr.value === 'string') {
      return { sql: this.#param(parseTimestamp(expr.value, expr.position)), type: 'timestamp', aggregate: false };
    }
    return this.#expr(expr, env);
  }

  #binary(expr: Extract<Expr, { kind: 'binary' }>, env: Environment): Compiled {
    const { op } = expr;
    if (op === 'AND' || op === 'OR') {
      const left = this.#expr(expr.left, env);
      const right = this.#expr(expr.right, env);
      return combine(`(${left.sql} ${op} ${right.sql})`, 'boolean', [left, right]);
    }
    if (op === '=' || op === '!=' || op === '<' || op === '<=' || op === '>' || op === '>=') {
      // Compile the non-literal side first, so a string literal on the other side can be read as a time.
      const leftIsLiteral = expr.left.kind === 'literal';
      const first = this.#expr(leftIsLiteral ? expr.right : expr.left, env);
      const second = this.#coerced(leftIsLiteral ? expr.left : expr.right, first.type, env);
      const [left, right] = leftIsLiteral ? [second, first] : [first, second];
      return combine(`(${left.sql} ${op} ${right.sql})`, 'boolean', [left, right]);
    }
    const left = this.#expr(expr.left, env);
    const right = this.#expr(expr.right, env);
    if (op === '||') return combine(`(${left.sql} || ${right.sql})`, 'text', [left, right]);
    const type = arithmeticType(op, left.type, right.type, expr.position);
    // `/` divides as real numbers (7 / 2 = 3.5), as GoogleSQL does; SQLite would truncate integers.
    const sql = op === '/' ? `(${left.sql} * 1.0 / ${right.sql})` : `(${left.sql} ${op} ${right.sql})`;
    return combine(sql, type, [left, right]);
  }

  #call(expr: Extract<Expr, { kind: 'call' }>, env: Environment): Compiled {
    const { name, args } = expr;
    const arity = (min: number, max = min) => {
      if (args.length < min || args.length > max) {
        throw new QueryError(expr.position, `${name}() takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}`);
      }
    };
    if (expr.distinct && !['count', 'sum', 'avg'].includes(name)) throw new QueryError(expr.position, `DISTINCT is allowed in count, sum and avg, not in ${name}()`);
    if (AGGREGATES.has(name)) {
      if (!env.aggregates) throw new QueryError(expr.position, `${name}() aggregates, which ${env.clause} cannot do; use |> AGGREGATE … GROUP BY …`);
      if (env.insideAggregate) throw new QueryError(expr.position, `${name}() cannot stand inside another aggregate`);
      arity(1);
      if (args[0]!.kind === 'star') {
        if (name !== 'count' || expr.distinct) throw new QueryError(expr.position, `only count takes *, as count(*)`);
        return { sql: 'count(*)', type: 'integer', aggregate: true };
      }
      const argument = this.#expr(args[0]!, { ...env, insideAggregate: true });
      const type: ValueType = name === 'count' ? 'integer' : name === 'avg' ? 'real'
        : name === 'sum' ? (argument.type === 'interval' ? 'interval' : argument.type === 'integer' || argument.type === 'boolean' ? 'integer' : 'real')
          : argument.type;
      if ((name === 'sum' || name === 'avg') && (argument.type === 'text' || argument.type === 'timestamp')) {
        throw new QueryError(expr.position, `${name}() adds numbers; it cannot add a ${argument.type}`);
      }
      return { sql: `${name}(${expr.distinct ? 'DISTINCT ' : ''}${argument.sql})`, type, aggregate: true };
    }
    const compileArgs = () => args.map((arg) => this.#expr(arg, env));
    switch (name) {
      case 'lower': case 'upper': {
        arity(1);
        const [text] = compileArgs();
        return combine(`${name}(${text!.sql})`, 'text', [text!]);
      }
      case 'length': {
        arity(1);
        const [text] = compileArgs();
        return combine(`length(${text!.sql})`, 'integer', [text!]);
      }
      case 'abs': {
        arity(1);
        const [value] = compileArgs();
        return combine(`abs(${value!.sql})`, value!.type, [value!]);
      }
      case 'round': {
        arity(1, 2);
        const compiled = compileArgs();
        return combine(`round(${compiled.map((arg) => arg.sql).join(', ')})`, 'real', compiled);
      }
      case 'coalesce': {
        if (args.length < 2) throw new QueryError(expr.position, 'coalesce() takes 2 or more arguments');
        const compiled = compileArgs();
        const type = compiled.find((arg) => arg.type !== 'null')?.type ?? 'null';
        return combine(`coalesce(${compiled.map((arg) => arg.sql).join(', ')})`, type, compiled);
      }
      case 'now':
        arity(0);
        return { sql: this.#param(this.#options.now), type: 'timestamp', aggregate: false };
      case 'date': {
        arity(1);
        const [time] = compileArgs();
        requireTimestamp(time!, args[0]!.position, 'date()');
        return combine(`date(${time!.sql} / 1000, 'unixepoch')`, 'text', [time!]);
      }
      case 'time_bucket': {
        arity(2);
        const width = bucketWidth(args[0]!);
        const time = this.#expr(args[1]!, env);
        requireTimestamp(time, args[1]!.position, 'time_bucket()');
        // A stored time is whole milliseconds, so integer division buckets it; written so, the
        // expression matches the store's indexes on hourly and daily buckets (no sort to group).
        const whole = time.stored ? time.sql : `CAST(${time.sql} AS INTEGER)`;
        return combine(`(${whole} / ${width} * ${width})`, 'timestamp', [time]);
      }
      case 'rate': {
        arity(1, 2);
        if (!env.aggregates) throw new QueryError(expr.position, 'rate() is a rate per group: use it in AGGREGATE … GROUP BY time_bucket(…)');
        if (env.bucketMs === undefined) throw new QueryError(expr.position, 'rate() needs a GROUP BY time_bucket(…) to know the length of each group');
        const per = args[1] ? bucketWidth(args[1]) : 1000;
        const value = this.#expr(args[0]!, env);
        if (!value.aggregate) throw new QueryError(args[0]!.position, 'rate() takes an aggregate, as in rate(count(*)) or rate(sum(bytes), \'1m\')');
        return { ...value, sql: `(${value.sql} * ${this.#param(per / env.bucketMs)})`, type: 'real' };
      }
      default:
        throw new QueryError(expr.position, `unknown function "${name}"; functions are ${FUNCTION_NAMES}`);
    }
  }
}

/** The columns as a step's own SELECT refers to them (c0, c1, … of its input CTE). */
function local(relation: Relation): Column[] {
  return relation.columns.map((column, index) => ({ ...column, sql: `c${index}` }));
}

function combine(sql: string, type: ValueType, parts: readonly Compiled[]): Compiled {
  const bare = parts.find((part) => part.bare)?.bare;
  return { sql, type, aggregate: parts.some((part) => part.aggregate), ...(bare ? { bare } : {}) };
}

function arithmeticType(op: string, left: ValueType, right: ValueType, position: Position): ValueType {
  const numeric = (type: ValueType) => type === 'integer' || type === 'real' || type === 'boolean' || type === 'null';
  if (left === 'text' || right === 'text') throw new QueryError(position, `cannot use ${op} on text; use || to join strings`);
  if (left === 'timestamp' || right === 'timestamp') {
    if (op === '-' && left === 'timestamp' && right === 'timestamp') return 'interval';
    if ((op === '+' || op === '-') && left === 'timestamp' && (right === 'interval' || right === 'null')) return 'timestamp';
    if (op === '+' && left === 'interval' && right === 'timestamp') return 'timestamp';
    throw new QueryError(position, `cannot use ${op} on a time here; add or subtract an INTERVAL, as in time - INTERVAL 7 DAY`);
  }
  if (left === 'interval' || right === 'interval') {
    if ((op === '+' || op === '-') && left === right) return 'interval';
    if (op === '*' && (numeric(left) || numeric(right))) return 'interval';
    if (op === '/' && left === 'interval' && numeric(right)) return 'interval';
    if (op === '/' && left === 'interval' && right === 'interval') return 'real';
    throw new QueryError(position, `cannot use ${op} on these intervals`);
  }
  if (op === '/') return 'real';
  if (op === '%') return 'integer';
  return left === 'integer' && right === 'integer' ? 'integer' : 'real';
}

function requireTimestamp(compiled: Compiled, position: Position, what: string): void {
  if (compiled.type !== 'timestamp' && compiled.type !== 'null') throw new QueryError(position, `${what} takes a time (such as the column time), not a ${compiled.type}`);
}

/** '1h', '15m', '30s', '1d', '1w' in milliseconds. */
function bucketWidth(expr: Expr): number {
  const text = expr.kind === 'literal' && typeof expr.value === 'string' ? expr.value : undefined;
  const match = text === undefined ? null : /^\s*(\d+)\s*([smhdw])\s*$/.exec(text);
  const width = match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : 0;
  if (!match || !Number.isSafeInteger(width) || width <= 0) {
    throw new QueryError(expr.position, "an interval is written as a string such as '30s', '15m', '1h', '1d' or '1w'");
  }
  return width;
}

/** The width of the time_bucket among the grouping expressions, for rate(). */
function bucketOf(groupBy: readonly Expr[]): { bucketMs?: number } {
  const bucket = groupBy.find((expr): expr is Extract<Expr, { kind: 'call' }> => expr.kind === 'call' && expr.name === 'time_bucket' && expr.args.length === 2);
  return bucket ? { bucketMs: bucketWidth(bucket.args[0]!) } : {};
}

function parseTimestamp(text: string, position: Position): number {
  const trimmed = text.trim();
  // A bare date or date-time without a zone is UTC, as everywhere in Wharf.
  const normalized = /^\d{4}-\d{2}-\d{2}$/.test(trimmed) ? `${trimmed}T00:00:00Z`
    : /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(trimmed) ? `${trimmed.replace(' ', 'T')}Z` : trimmed;
  const value = /^\d{4}-\d{2}-\d{2}/.test(normalized) ? Date.parse(normalized) : Number.NaN;
  if (Number.isNaN(value)) throw new QueryError(position, `"${text}" is not a time; write it as '2026-12-01' or '2026-12-01T08:00:00Z'`);
  return value;
}

function itemName(item: SelectItem, index: number): string {
  if (item.alias) return item.alias.name;
  if (item.expr.kind === 'column') return item.expr.name;
  if (item.expr.kind === 'call') return item.expr.name;
  return `f${index}_`;
}

function requireUniqueNames(columns: readonly Column[], items: readonly SelectItem[]): void {
  const seen = new Set<string>();
  columns.forEach((column, index) => {
    const key = column.name.toLowerCase();
    if (seen.has(key)) {
      const item = items[Math.min(index, items.length - 1)];
      throw new QueryError(item?.alias?.position ?? item?.expr.position ?? { line: 1, column: 1 }, `two columns are named "${column.name}"; name one with AS`);
    }
    seen.add(key);
  });
}

/** Result names, made unique: a name two columns share (after a join) is given with its table. */
function outputNames(columns: readonly Column[]): string[] {
  const counts = new Map<string, number>();
  for (const column of columns) counts.set(column.name.toLowerCase(), (counts.get(column.name.toLowerCase()) ?? 0) + 1);
  const used = new Set<string>();
  return columns.map((column) => {
    let name = counts.get(column.name.toLowerCase())! > 1 && column.qualifiers[0] ? `${column.qualifiers[0]}.${column.name}` : column.name;
    for (let suffix = 2; used.has(name.toLowerCase()); suffix++) name = `${column.name}_${suffix}`;
    used.add(name.toLowerCase());
    return name;
  });
}

function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function unknownColumn(position: Position, name: string, columns: readonly Column[], where?: string): QueryError {
  const names = [...new Set(columns.map((column) => column.name))];
  return new QueryError(position, `unknown column "${name}"${where ? ` in ${where}` : ''}; columns are ${names.join(', ')}`);
}

function notGrouped(position: Position): QueryError {
  return new QueryError(position, 'this column is neither grouped nor aggregated; add it to GROUP BY or wrap it in an aggregate such as max()');
}
