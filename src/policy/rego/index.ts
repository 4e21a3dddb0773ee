/**
 * Public API of the Rego engine.
 *
 * ```ts
 * const compiled = compile([{ file: 'authz.rego', source }], { regoVersion: 'v1' });
 * const query = compiled.prepare('data.authz.allow');
 * const results = query.eval({ input: fromJS({ user: 'alice' }) });
 * // results[0].expressions[0].value === true
 * ```
 *
 * Compile once, evaluate many times: `prepare` parses and orders the query once, and each
 * `eval` only evaluates. Every evaluation is bounded by {@link EvalLimits}.
 *
 * Errors are {@link RegoError}s carrying OPA's codes: compile errors (`rego_parse_error`,
 * `rego_unsafe_var_error`, `rego_recursion_error`, `rego_type_error`, `rego_compile_error`)
 * from `compile`/`prepare`, run-time errors (`eval_conflict_error`, `eval_builtin_error`,
 * `eval_type_error` with strict built-in errors, `eval_limit_error`, `eval_cancel_error`)
 * from `eval`. Values are engine values (`fromJS`/`toJS` convert from and to JSON form).
 *
 * Left out by design: `http.send`, `net.lookup_ip_addr` (calls compile, and can be replaced
 * with `with`), and the OPA runtime (`opa.runtime()` returns an empty object).
 */
import type { Body, Expr, Module, Term } from './ast.ts';
import { walkExpr } from './ast.ts';
import { parseModule, parseQuery, parseTerm as parseTermAst, type ParseOptions } from './parser.ts';
import { compileModules, compileQuery, type CompiledPolicy } from './compiler/index.ts';
import { Evaluator } from './eval/evaluator.ts';
import { Env } from './eval/env.ts';
import { Budget, BudgetExceeded, EvalState, type BudgetLimit, type EvalLimits } from './eval/state.ts';
import { RegoError, RegoEvalError, type RegoErrorDetail } from './errors.ts';
import { RObject, type Value } from './value.ts';
import type { BuiltinContext } from './builtins/types.ts';
import { listTests, runTest, type TestResult } from './eval/testing.ts';
import { readsRuleMetadata } from './eval/metadata.ts';

export { RegoError, RegoEvalError, type RegoErrorDetail };
export type { BudgetLimit, EvalLimits, TestResult };
export { BudgetExceeded };
export { fromJS, toJS, toJSONText, type Value } from './value.ts';

export interface SourceModule {
  file: string;
  source: string;
}

export interface CompileOptions {
  /** Syntax of the modules: `v1` (default, OPA 1.x) or `v0`. */
  regoVersion?: 'v0' | 'v1';
  /** Enables the experimental `and`/`or` keywords (`import future.keywords.and`). */
  experimentalKeywords?: boolean;
  /** OPA's strict mode: unused imports and assignments, deprecated built-ins are errors. */
  strict?: boolean;
}

export interface EvalOptions {
  /** The `input` document; undefined means no input. */
  input?: Value;
  /** The base document under `data` (an object). */
  data?: Value;
  /** When true, the first failing built-in aborts the query with its error. */
  strictBuiltinErrors?: boolean;
  limits?: EvalLimits;
  /** Fixed `time.now_ns()` value in nanoseconds (default: the current time). */
  now?: bigint;
  /** Receives the output of `print(…)` calls. */
  print?: (message: string) => void;
}

export interface ExpressionResult {
  value: Value;
  text: string;
  location: { row: number; col: number };
}

export interface QueryResult {
  /** Values of the query's variables (generated vars omitted). */
  bindings: Record<string, Value>;
  /** Value of each top-level expression of the query, in source order. */
  expressions: ExpressionResult[];
}

/**
 * The built-ins' view of one query evaluation. The clock is read and the cache created only
 * when a built-in asks for them, so the common evaluation allocates neither.
 */
class QueryContext implements BuiltinContext {
  readonly strict: boolean;
  readonly budget: Budget;
  private now: bigint | undefined;
  private map: Map<string, Value> | undefined;

  constructor(now: bigint | undefined, strict: boolean, budget: Budget) {
    this.now = now;
    this.strict = strict;
    this.budget = budget;
  }

  get nowNs(): bigint {
    return (this.now ??= BigInt(Date.now()) * 1_000_000n);
  }

  get cache(): Map<string, Value> {
    return (this.map ??= new Map());
  }
}

/** A compiled policy: modules parsed, names resolved, bodies ordered. */
export class Compiled {
  readonly policy: CompiledPolicy;
  readonly modules: Module[];

  constructor(policy: CompiledPolicy) {
    this.policy = policy;
    this.modules = policy.modules;
  }

  /** Parses and compiles a query once; the result can be evaluated many times. Throws RegoError. */
  prepare(query: string): PreparedQuery {
    return new PreparedQuery(this.policy, query);
  }

  /** Names (`data.pkg.test_x`) of every `test_` rule, in module order. */
  tests(): string[] {
    return listTests(this.policy);
  }

  /** Runs one `test_` rule; see {@link TestResult}. */
  runTest(name: string, options: EvalOptions = {}): TestResult {
    return runTest(this, name, options);
  }
}

/** A query ready to run against inputs. */
export class PreparedQuery {
  private readonly policy: CompiledPolicy;
  private readonly body: Body;
  private readonly order: Map<Expr, number>;
  private readonly texts: string[];
  private readonly locations: { row: number; col: number }[];
  private readonly vars: string[];
  private readonly readsRuleMetadata: boolean;

  constructor(policy: CompiledPolicy, query: string) {
    this.policy = policy;
    const parsed = parseQuery(query, 'query');
    this.body = compileQuery(parsed, policy);
    this.order = new Map();
    // Reordering rebuilds expressions, so match them to the source order by location.
    const byLoc = new Map(parsed.map((e, i) => [`${e.loc.row}:${e.loc.col}`, i]));
    for (const e of this.body) this.order.set(e, byLoc.get(`${e.loc.row}:${e.loc.col}`) ?? 0);
    this.texts = expressionTexts(query, parsed);
    this.locations = parsed.map((e) => ({ row: e.loc.row, col: e.loc.col }));
    const vars = new Set<string>();
    for (const e of parsed) collectQueryVars(e, vars);
    this.vars = [...vars];
    this.readsRuleMetadata = readsRuleMetadata(policy, this.body);
  }

  /** Evaluates the query; throws RegoError on run-time errors (conflicts, strict built-in errors, limits). */
  eval(options: EvalOptions = {}): QueryResult[] {
    const data = options.data instanceof RObject ? options.data : new RObject();
    const budget = new Budget(options.limits);
    const ctx = new QueryContext(options.now, options.strictBuiltinErrors ?? false, budget);
    const ev = new Evaluator({
      policy: this.policy, state: new EvalState(options.input, data), budget, builtinCtx: ctx, strict: ctx.strict, print: options.print,
      readsRuleMetadata: this.readsRuleMetadata,
    });
    const results: QueryResult[] = [];
    const values: Value[] = this.texts.map(() => true);
    const env = new Env();
    try {
      this.evalQuery(ev, 0, env, values, () => {
        const bindings: Record<string, Value> = {};
        for (const v of this.vars) {
          const val = env.get(v);
          if (val !== undefined) bindings[v] = val;
        }
        const expressions = values.map((value, i) => ({ value, text: this.texts[i], location: this.locations[i] }));
        results.push({ bindings, expressions });
        if (results.length > budget.maxResults) {
          throw new RegoEvalError('eval_limit_error', `query produced more than ${budget.maxResults} results`);
        }
        return false;
      });
    } catch (e) {
      if (e instanceof RangeError) throw new RegoEvalError('eval_limit_error', 'evaluation exceeded the maximum call depth (recursion?)');
      throw e;
    }
    return results;
  }

  private evalQuery(ev: Evaluator, i: number, env: Env, values: Value[], k: () => boolean): boolean {
    if (i === this.body.length) return k();
    const e = this.body[i];
    const slot = this.order.get(e) ?? i;
    const next = () => this.evalQuery(ev, i + 1, env, values, k);
    if (e.node.type === 'term' && !e.negated) {
      // Like OPA, a plain term at the top of a query reports its value even when false;
      // a call (`1 == 2`) that returns false still fails.
      const isCall = e.node.term.kind === 'call';
      return ev.evalExpr(e, env, next, (v: Value) => {
        if (v === false && isCall) return false;
        values[slot] = v;
        return next();
      });
    }
    values[slot] = true;
    return ev.evalExpr(e, env, next);
  }
}

/** User-visible vars of a query expression (closures and generated names excluded). */
function collectQueryVars(e: Expr, out: Set<string>): void {
  if (e.node.type === 'every' || e.node.type === 'group' || e.node.type === 'logic') return;
  walkExpr(e, (t: Term): boolean | void => {
    if (t.kind === 'var' && !t.name.includes('$') && t.name !== 'data' && t.name !== 'input') out.add(t.name);
    if (t.kind === 'arraycompr' || t.kind === 'setcompr' || t.kind === 'objectcompr') return false;
  });
}

/** Source text of each query expression, split at the next expression's start. */
function expressionTexts(query: string, body: Body): string[] {
  const lines = query.split('\n');
  const offset = (row: number, col: number) => lines.slice(0, row - 1).reduce((n, l) => n + l.length + 1, 0) + col - 1;
  return body.map((e, i) => {
    const start = offset(e.loc.row, e.loc.col);
    const end = i + 1 < body.length ? offset(body[i + 1].loc.row, body[i + 1].loc.col) : query.length;
    return query.slice(start, end).trim().replace(/;$/, '').trim();
  });
}

/** Parses and compiles modules together. Throws RegoError with every problem found. */
export function compile(modules: SourceModule[], options: CompileOptions = {}): Compiled {
  const parseOptions: ParseOptions = { regoVersion: options.regoVersion ?? 'v1', experimentalKeywords: options.experimentalKeywords };
  const parsed: Module[] = [];
  const errors: RegoErrorDetail[] = [];
  for (const m of modules) {
    try {
      parsed.push(parseModule(m.source, m.file, parseOptions));
    } catch (e) {
      if (e instanceof RegoError) errors.push(...e.errors);
      else throw e;
    }
  }
  if (errors.length) throw new RegoError(errors);
  return new Compiled(compileModules(parsed, { regoVersion: options.regoVersion, strict: options.strict }));
}

/** Parses a Rego term (e.g. `{"a", set()}`) and evaluates it to a value; it must be ground. */
export function parseTerm(text: string): Value {
  const term = parseTermAst(text, 'term');
  const policy = compileModules([]);
  const budget = new Budget();
  const ev = new Evaluator({
    policy, state: new EvalState(undefined, new RObject()), budget, strict: true,
    builtinCtx: { nowNs: 0n, cache: new Map(), strict: true, budget },
  });
  let out: Value | undefined;
  ev.evalTerm(term, new Env(), (v) => {
    out = v;
    return true;
  });
  if (out === undefined) throw RegoError.single('rego_parse_error', 'term is not a ground value', term.loc);
  return out;
}
