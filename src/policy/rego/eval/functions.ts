/**
 * Calls of user-defined functions (`f(x) := … if …`). Each definition (rule) of a function
 * is prepared once into a plain call `(ev, args) => value`, choosing the cheapest way to run
 * it; a call then only binds its arguments and runs the prepared definitions.
 */
import type { Term } from '../ast.ts';
import type { CompiledRule, TreeNode } from '../compiler/tree.ts';
import { equal, type Value } from '../value.ts';
import { RegoEvalError } from '../errors.ts';
import type { Evaluator, K, VK } from './evaluator.ts';
import { Env } from './env.ts';
import { compiledBody, directRule } from './compile.ts';
import { defaultValue, evalRuleClauses, isConstant } from './docs.ts';
import { CPS } from './direct.ts';
import { constantTerm } from './ground.ts';

/** One definition (rule) of a function, prepared for calls. */
interface Definition {
  rule: CompiledRule;
  arity: number;
  /**
   * For definitions with plain, distinct var parameters: their names, and the definition's
   * value computed in an env where exactly those are bound (left as it was found).
   */
  params?: string[];
  inEnv?: (ev: Evaluator, env: Env, args: Value[]) => Value | undefined;
  /** The definition's value for argument values (any definition). */
  call: (ev: Evaluator, args: Value[]) => Value | undefined;
}

/** A function's definitions, prepared on its first call. */
export interface PreparedFunction {
  definitions: Definition[];
  /** Set when every definition binds the same parameter names: one env serves them all. */
  sharedParams?: string[];
  /**
   * The env of the shared parameters while no call uses it. A call takes it and gives it
   * back, so calls do not each allocate an env and the slots of the vars their bodies bind.
   * (Bodies unbind what they bind when they return; after an error the env is dropped.)
   */
  idleEnv?: Env;
}

const preparedFunctions = new WeakMap<TreeNode, PreparedFunction>();

export function prepareFunction(ev: Evaluator, node: TreeNode): PreparedFunction {
  let fn = preparedFunctions.get(node);
  if (!fn) {
    const definitions = node.rules.map((rule) => prepareDefinition(ev, rule));
    const first = definitions[0]?.params;
    const shared = first && definitions.every((d) => d.inEnv && sameNames(d.params!, first));
    fn = { definitions, sharedParams: shared ? first : undefined };
    preparedFunctions.set(node, fn);
  }
  return fn;
}

function sameNames(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

/**
 * The value of a user function for argument values, or undefined. Every definition whose
 * arity matches runs; those that produce a value must agree.
 */
export function functionValue(ev: Evaluator, node: TreeNode, args: Value[], fn = prepareFunction(ev, node)): Value | undefined {
  const params = fn.sharedParams;
  if (!params || params.length !== args.length) return definitionsValue(ev, node, fn, args, undefined);
  // A call nested in another call of the same function (only possible through `with`) finds
  // no idle env and makes its own.
  const env = fn.idleEnv ?? new Env();
  fn.idleEnv = undefined;
  for (let i = 0; i < params.length; i++) env.set(params[i], args[i]);
  const result = definitionsValue(ev, node, fn, args, env);
  // Unbound, the parameters keep no argument alive until the next call.
  for (const name of params) env.delete(name);
  fn.idleEnv = env;
  return result;
}

/** Runs the definitions, in `shared` when given (the shared parameters bound there). */
function definitionsValue(ev: Evaluator, node: TreeNode, fn: PreparedFunction, args: Value[], shared: Env | undefined): Value | undefined {
  let result: Value | undefined;
  for (const def of fn.definitions) {
    if (def.arity !== args.length) continue;
    const v = ev.tracksRules ? callTracked(ev, def, shared, args) : callDefinition(ev, def, shared, args);
    if (v === undefined) continue;
    if (result !== undefined && !equal(result, v)) throw multipleOutputs(def.rule);
    result = v;
  }
  if (result === undefined && node.defaultRule) result = defaultValue(ev, node.defaultRule);
  return result;
}

function callDefinition(ev: Evaluator, def: Definition, shared: Env | undefined, args: Value[]): Value | undefined {
  return shared ? def.inEnv!(ev, shared, args) : def.call(ev, args);
}

/** The same, with the definition's rule on the rule stack (for rego.metadata.*). */
function callTracked(ev: Evaluator, def: Definition, shared: Env | undefined, args: Value[]): Value | undefined {
  ev.ruleStack.push(def.rule);
  try {
    return callDefinition(ev, def, shared, args);
  } finally {
    ev.ruleStack.pop();
  }
}

/** Calls a user function node with argument values (continuation form). */
export function callFunction(ev: Evaluator, node: TreeNode, args: Value[], k: VK): boolean {
  const result = functionValue(ev, node, args);
  return result === undefined ? false : k(result);
}

function multipleOutputs(rule: CompiledRule): RegoEvalError {
  return new RegoEvalError('eval_conflict_error', 'functions must not produce multiple outputs for same inputs', rule.loc);
}

const FOUND: K = () => true;

/** How to run one definition, decided once per rule. */
function prepareDefinition(ev: Evaluator, rule: CompiledRule): Definition {
  const params = rule.args!;
  const arity = params.length;
  const general = (ev: Evaluator, args: Value[]) => generalCall(ev, rule, args);
  // Every clause a run of deterministic steps: evaluated with no continuations at all.
  const direct = directRule(ev, rule);
  if (direct) {
    const inEnv = (ev: Evaluator, env: Env, args: Value[]) => {
      const v = direct(ev, env);
      return v === CPS ? general(ev, args) : v;
    };
    return withParamsEnv(rule, paramNames(params), inEnv);
  }
  if (params.some((p) => p.kind === 'template')) return { rule, arity, call: (ev, args) => deferredCall(ev, rule, args) };
  // `f(x) if { some y in ys; … }`: constant values, so each clause is an existence check.
  if (simpleParams(params) && rule.clauses.every((c) => isConstant(c.value))) {
    const clauses = rule.clauses.map((c) => ({ body: compiledBody(ev, c.body), value: constantTerm(c.value)! }));
    const inEnv = (ev: Evaluator, env: Env) => {
      // A compiled body undoes its bindings when it returns.
      for (const { body, value } of clauses) {
        if (body(ev, env, FOUND)) return value;
      }
      return undefined;
    };
    return withParamsEnv(rule, paramNames(params), inEnv);
  }
  return { rule, arity, call: general };
}

/** A definition run in an env binding its parameters; called alone, it binds them itself. */
function withParamsEnv(rule: CompiledRule, params: string[], inEnv: NonNullable<Definition['inEnv']>): Definition {
  return { rule, arity: params.length, params, inEnv, call: (ev, args) => inEnv(ev, bindParams(params, args), args) };
}

function paramNames(params: Term[]): string[] {
  return params.map((p) => (p as Term & { kind: 'var' }).name);
}

/** A fresh env with each (distinct, plain var) parameter bound to its argument. */
function bindParams(names: string[], args: Value[]): Env {
  const env = new Env();
  for (let i = 0; i < names.length; i++) env.set(names[i], args[i]);
  return env;
}

/** Any definition: arguments unified with the parameters, then every solution's value. */
function generalCall(ev: Evaluator, rule: CompiledRule, args: Value[]): Value | undefined {
  let result: Value | undefined;
  const env = new Env();
  matchArgs(ev, rule.args!, args, 0, env, () => evalRuleClauses(ev, rule, env, (v) => {
    if (result !== undefined && !equal(result, v)) throw multipleOutputs(rule);
    result = v;
    return false;
  }));
  return result;
}

/**
 * Parameters written as template strings (`f($"{x}-{y}")`) can only be built once the body
 * has bound their vars: they are compared with the argument after the body succeeds.
 */
function deferredCall(ev: Evaluator, rule: CompiledRule, args: Value[]): Value | undefined {
  const params = rule.args!;
  const now = params.map((p, i) => (p.kind === 'template' ? undefined : i)).filter((i): i is number => i !== undefined);
  const later = params.map((p, i) => (p.kind === 'template' ? i : undefined)).filter((i): i is number => i !== undefined);
  let result: Value | undefined;
  const env = new Env();
  matchArgs(ev, now.map((i) => params[i]), now.map((i) => args[i]), 0, env, () => evalRuleClauses(ev, rule, env, (v) => {
    const ok = later.every((i) => ev.evalTerm(params[i], env, (built) => equal(built, args[i])));
    if (!ok) return false;
    if (result !== undefined && !equal(result, v)) throw multipleOutputs(rule);
    result = v;
    return false;
  }));
  return result;
}

/** Distinct plain var parameters (the direct path binds them without unification). */
export function simpleParams(params: Term[]): boolean {
  const seen = new Set<string>();
  for (const p of params) {
    if (p.kind !== 'var' || seen.has(p.name)) return false;
    seen.add(p.name);
  }
  return true;
}

function matchArgs(ev: Evaluator, params: Term[], args: Value[], i: number, env: Env, k: () => boolean): boolean {
  // Plain var parameters bind directly (the env is fresh, so nothing needs undoing).
  while (i < params.length) {
    const p = params[i];
    if (p.kind !== 'var') break;
    const prev = env.get(p.name);
    if (prev === undefined) env.set(p.name, args[i]);
    else if (!equal(prev, args[i])) return false;
    i++;
  }
  if (i === params.length) return k();
  return ev.match(params[i], args[i], env, () => matchArgs(ev, params, args, i + 1, env, k));
}
