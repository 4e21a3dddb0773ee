/**
 * Calls: user functions under `data`, built-ins from the table, evaluator-level built-ins
 * (`walk`, `print`, `trace`, `rego.metadata.*`) and `with` mocks that replace any of them.
 */
import type { CallTerm, Term } from '../ast.ts';
import { BUILTINS } from '../builtins/index.ts';
import { BuiltinError, BuiltinTypeError, type BuiltinDecl } from '../builtins/types.ts';
import { nodeAt, type TreeNode } from '../compiler/tree.ts';
import { arityFor } from '../compiler/index.ts';
import { RegoError, RegoEvalError } from '../errors.ts';
import { RNumber, RObject, RSet, type Value } from '../value.ts';
import { callFunction } from './functions.ts';
import { BudgetExceeded } from './state.ts';
import type { Evaluator, VK } from './evaluator.ts';
import { Env } from './env.ts';
import { formatPrintValue } from './format.ts';
import { metadataChain, metadataRule } from './metadata.ts';
import { parseModuleBuiltin } from './parse-module.ts';

/** What a call resolves to, computed once per call site. */
export interface CallPlan {
  kind: 'special' | 'function' | 'builtin' | 'missing';
  hasOutput: boolean;
  inputs: Term[];
  arity: number;
  node?: TreeNode;
  decl?: BuiltinDecl;
}

const plans = new WeakMap<CallTerm, CallPlan>();

/**
 * OPA built-ins that need the network: policies using them compile, and tests can replace
 * them with `with`; called for real they fail like a built-in error (undefined unless strict).
 */
const UNSUPPORTED = new Map<string, BuiltinDecl>(['http.send', 'net.lookup_ip_addr'].map((name) => [name, {
  name, args: ['any'], result: 'any',
  fn: () => {
    throw new BuiltinError('not supported by this engine (no network access from policies)');
  },
}]));
const SPECIAL = new Set(['print', 'walk', 'trace', 'rego.metadata.rule', 'rego.metadata.chain', 'opa.runtime', 'rego.parse_module']);

export function planFor(ev: Evaluator, call: CallTerm): CallPlan {
  let plan = plans.get(call);
  if (plan) return plan;
  const name = call.name;
  const arity = arityFor(name, ev.policy.functionArity) ?? call.args.length;
  const hasOutput = call.args.length === arity + 1;
  const inputs = hasOutput ? call.args.slice(0, arity) : call.args;
  if (SPECIAL.has(name)) plan = { kind: 'special', hasOutput, inputs, arity };
  else if (name.startsWith('data.')) {
    const node = nodeAt(ev.policy.root, name.split('.').slice(1), false);
    plan = node?.isFunction ? { kind: 'function', hasOutput, inputs, arity, node } : { kind: 'missing', hasOutput, inputs, arity };
  } else {
    const decl = BUILTINS.get(name) ?? UNSUPPORTED.get(name);
    plan = decl ? { kind: 'builtin', hasOutput, inputs, arity, decl } : { kind: 'missing', hasOutput, inputs, arity };
  }
  plans.set(call, plan);
  return plan;
}

/**
 * Evaluates a call. `k` receives the call's value; with an extra output argument
 * (`count(x, n)`) the value is unified with that argument and `k` receives `true`.
 */
export function evalCall(ev: Evaluator, call: CallTerm, env: Env, k: VK): boolean {
  if (ev.state.mocks.size) {
    const mock = ev.state.mocks.get(call.name);
    if (mock) {
      if (mock.kind === 'value') return ev.evalTerms(call.args, 0, [], env, () => k(mock.value));
      // A replacement function runs without any mocks (mocks never call other mocks); the
      // rest of the body, run by `k`, sees them again.
      const replaced: CallTerm = { ...call, name: mock.name };
      return ev.evalTerms(planFor(ev, replaced).inputs, 0, [], env, (args) => {
        const results: Value[] = [];
        withoutMocks(ev, () => evalCallWithValues(ev, replaced, args, (v) => (results.push(v), false)));
        const plan = planFor(ev, replaced);
        for (const v of results) {
          const halted = plan.hasOutput ? ev.match(call.args[plan.arity], v, env, () => k(true)) : k(v);
          if (halted) return true;
        }
        return false;
      });
    }
  }
  const plan = planFor(ev, call);
  const finish: VK = plan.hasOutput ? (v) => ev.match(call.args[plan.arity], v, env, () => k(true)) : k;
  switch (plan.kind) {
    case 'function':
      return ev.evalTerms(plan.inputs, 0, [], env, (args) => callFunction(ev, plan.node!, args, finish));
    case 'builtin':
      return ev.evalTerms(plan.inputs, 0, [], env, (args) => callBuiltin(ev, plan.decl!, args, call, finish));
    case 'special':
      return evalSpecial(ev, call, plan.inputs, env, k, finish);
    case 'missing':
      if (call.name.startsWith('data.')) return false;
      throw new RegoEvalError('rego_type_error', `undefined function ${call.name}`, call.loc);
  }
}

/** Calls a function or built-in with already evaluated arguments. */
function evalCallWithValues(ev: Evaluator, call: CallTerm, args: Value[], k: VK): boolean {
  const plan = planFor(ev, call);
  switch (plan.kind) {
    case 'function':
      return callFunction(ev, plan.node!, args, k);
    case 'builtin':
      return callBuiltin(ev, plan.decl!, args, call, k);
    case 'special': {
      // Specials evaluate terms, so the values are passed as vars bound in a fresh env.
      const env = new Env(args.map((a, i): [string, Value] => [`$arg${i}`, a]));
      const vars: Term[] = args.map((_, i) => ({ kind: 'var', name: `$arg${i}`, loc: call.loc }));
      return evalSpecial(ev, { ...call, args: vars }, vars, env, k, k);
    }
    case 'missing':
      throw new RegoEvalError('rego_type_error', `undefined function ${call.name}`, call.loc);
  }
}

function callBuiltin(ev: Evaluator, decl: BuiltinDecl, args: Value[], call: CallTerm, finish: VK): boolean {
  const result = callBuiltinValue(ev, decl, args, call);
  return result === undefined ? false : finish(result);
}

/**
 * Calls a built-in; undefined when it is undefined or fails outside strict mode. The characters
 * and elements of its operands and of its result count as work against the budget, so a call on
 * large values counts for what it costs (built-ins that can build far more than they read also
 * reserve the size first, see WorkBudget).
 */
export function callBuiltinValue(ev: Evaluator, decl: BuiltinDecl, args: Value[], call: CallTerm): Value | undefined {
  try {
    let cells = 0;
    for (let i = 0; i < args.length; i++) cells += cellsOf(args[i]!);
    if (cells > 0) ev.budget.charge(cells);
    const result = decl.fn(args, ev.builtinCtx);
    if (result !== undefined) chargeResult(ev, result, call);
    return result;
  } catch (e) {
    return builtinFailure(ev, e, call);
  }
}

/** The same for a built-in with a `binary` form, given its two operands. */
export function callBinaryBuiltinValue(ev: Evaluator, decl: BuiltinDecl, a: Value, b: Value, call: CallTerm): Value | undefined {
  try {
    const cells = cellsOf(a) + cellsOf(b);
    if (cells > 0) ev.budget.charge(cells);
    const result = decl.binary!(a, b, ev.builtinCtx);
    if (result !== undefined) chargeResult(ev, result, call);
    return result;
  } catch (e) {
    return builtinFailure(ev, e, call);
  }
}

/**
 * Characters of a string, elements of a collection (the top level only), bits of a big number
 * (arithmetic and formatting cost grows with them), 0 for other scalars.
 */
function cellsOf(v: Value): number {
  if (typeof v === 'string') return v.length;
  if (typeof v !== 'object' || v === null) return 0;
  if (Array.isArray(v)) return v.length;
  if (v instanceof RNumber) return v.isSmall() || (v.mant < CHEAP_NUMBER && v.mant > -CHEAP_NUMBER) ? 0 : bitsOf(v);
  return (v as RObject | RSet).size;
}

/**
 * Numbers with more bits than this fail the evaluation (about 1e157826; literals stop at 1e100000):
 * arithmetic on them takes milliseconds, and each step could double their size.
 */
const MAX_NUMBER_BITS = 1 << 19;

/** Numbers below 1024 bits cost next to nothing: not counted. */
const CHEAP_NUMBER = 1n << 1024n;

function bitsOf(n: RNumber): number {
  return 4 * n.mant.toString(16).length;
}

/** A result past the size cap fails the evaluation even when it was built (by a built-in that does not reserve). */
function chargeResult(ev: Evaluator, result: Value, call: CallTerm): void {
  const cells = cellsOf(result);
  if (cells === 0) return;
  if (result instanceof RNumber && cells > MAX_NUMBER_BITS) {
    throw new BudgetExceeded('size', `${call.name}: result too large (a number of ${cells} bits; at most ${MAX_NUMBER_BITS})`, call.loc);
  }
  ev.budget.reserve(cells, call.name);
}

/**
 * JavaScript's own size limits, hit while building a value: a budget error like the size cap,
 * never a built-in error that non-strict evaluation would drop.
 */
const ENGINE_SIZE_LIMIT = /^(Invalid (string|array|typed array) length|Maximum BigInt size exceeded|Array buffer allocation failed)/;

function builtinFailure(ev: Evaluator, e: unknown, call: CallTerm): undefined {
  if (e instanceof RegoError) throw e;
  if (e instanceof RangeError && ENGINE_SIZE_LIMIT.test(e.message)) {
    throw new BudgetExceeded('size', `${call.name}: result too large (${e.message})`, call.loc);
  }
  // Outside strict mode a failing built-in makes its expression undefined, as in OPA.
  if (!ev.strict) return undefined;
  const code = e instanceof BuiltinTypeError ? 'eval_type_error' : 'eval_builtin_error';
  const message = e instanceof Error ? e.message : String(e);
  throw new RegoEvalError(code, `${call.name}: ${message}`, call.loc);
}

function evalSpecial(ev: Evaluator, call: CallTerm, inputs: Term[], env: Env, k: VK, finish: VK): boolean {
  switch (call.name) {
    case 'print':
      return evalPrint(ev, call, env, k);
    case 'walk':
      return ev.evalTerms(inputs, 0, [], env, ([x]) => walkValue(x, [], finish));
    case 'trace':
      return ev.evalTerms(inputs, 0, [], env, () => finish(true));
    case 'rego.metadata.rule':
      return finish(metadataRule(ev));
    case 'rego.parse_module':
      return ev.evalTerms(inputs, 0, [], env, ([file, source]) => {
        const decl: BuiltinDecl = { name: call.name, args: ['string', 'string'], result: 'object', fn: () => parseModuleBuiltin(file, source) };
        return callBuiltin(ev, decl, [], call, finish);
      });
    case 'opa.runtime':
      // No OPA runtime here: like `opa eval` without configuration, an empty object.
      return finish(new RObject());
    default:
      return finish(metadataChain(ev));
  }
}

function withoutMocks(ev: Evaluator, f: () => boolean): boolean {
  const mocks = ev.state.mocks;
  if (mocks.size === 0) return f();
  const saved = [...mocks];
  mocks.clear();
  try {
    return f();
  } finally {
    for (const [name, mock] of saved) mocks.set(name, mock);
  }
}

/** `print(a, b, …)`: each argument's value (or `<undefined>`), space-separated; always true. */
function evalPrint(ev: Evaluator, call: CallTerm, env: Env, k: VK): boolean {
  const parts: string[] = [];
  for (const arg of call.args) {
    const values: string[] = [];
    ev.evalTerm(arg, env, (v) => (values.push(formatPrintValue(v)), false));
    parts.push(values.length === 0 ? '<undefined>' : values.length === 1 ? values[0] : `{${values.join(', ')}}`);
  }
  ev.print(parts.join(' '));
  return k(true);
}

/** `walk(x)`: every `[path, value]` pair of x, x itself first. */
function walkValue(x: Value, path: Value[], k: VK): boolean {
  if (k([path.slice(), x])) return true;
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) {
      path.push(RNumber.int(i));
      const halted = walkValue(x[i], path, k);
      path.pop();
      if (halted) return true;
    }
  } else if (x instanceof RObject) {
    for (const [key, value] of x.sortedEntries()) {
      path.push(key);
      const halted = walkValue(value, path, k);
      path.pop();
      if (halted) return true;
    }
  } else if (x instanceof RSet) {
    for (const v of x.sorted()) {
      path.push(v);
      const halted = walkValue(v, path, k);
      path.pop();
      if (halted) return true;
    }
  }
  return false;
}
