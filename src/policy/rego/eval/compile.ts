/**
 * Bodies compiled for speed. The compiler's ordering pass records which vars are bound
 * before each expression, so most expressions are known to succeed at most once: a
 * comparison, `x := f(y)`, `not …`, a built-in call over bound vars. Runs of such
 * deterministic steps execute in a plain loop (no continuations), binding vars directly and
 * undoing them afterwards; only expressions that may iterate (`some x in xs`, refs with
 * unbound vars, `with`) go through the general continuation-passing evaluator.
 */
import type { Body, Expr, Term } from '../ast.ts';
import { walkExpr, walkTerm } from '../ast.ts';
import { boundBefore } from '../compiler/safety.ts';
import type { CompiledRule } from '../compiler/tree.ts';
import { arityFor } from '../compiler/index.ts';
import { equal, RObject, RSet, type Value } from '../value.ts';
import { CPS, evalDirect } from './direct.ts';
import { constantTerm } from './ground.ts';
import { callBinaryBuiltinValue, callBuiltinValue, planFor } from './calls.ts';
import type { BuiltinDecl } from '../builtins/types.ts';
import { dataStart, nodeValue } from './docs.ts';
import { functionValue, prepareFunction, simpleParams, type PreparedFunction } from './functions.ts';
import { lookup, type Env, type Evaluator, type K } from './evaluator.ts';
import type { Slot } from './env.ts';

/** Evaluates a term known to have at most one value. */
export type DirectFn = (ev: Evaluator, env: Env) => Value | undefined;

/**
 * A deterministic step (one that succeeds at most once). Most of them evaluate one term:
 * a `test` holds when the term's value is defined and not false, an `absent` step (a
 * negation) when it is undefined or false, and a `bind` step binds the var `binds` to it.
 * Other steps decide in `run`. Telling the kinds apart lets the loops call the term's
 * evaluator directly: one indirect call per step rather than two, in the evaluator's
 * hottest loop.
 */
interface DetStep {
  det: true;
  kind: 'test' | 'absent' | 'bind' | 'run';
  term: Operand | undefined;
  run: ((ev: Evaluator, env: Env) => boolean) | undefined;
  binds: string | undefined;
  /** For a negation: operands that must be defined before it is decided (Expr.defined). */
  defined: Operand[] | undefined;
}

/** Every step built with the same fields, so the loops see one object shape. */
function detStep(kind: DetStep['kind'], term: Operand | undefined, run?: DetStep['run'], binds?: string, defined?: Operand[]): DetStep {
  return { det: true, kind, term, run, binds, defined };
}

const succeed = () => true;

/** Runs a deterministic step: false when it fails. */
function runDetStep(ev: Evaluator, env: Env, step: DetStep): boolean {
  switch (step.kind) {
    case 'test': {
      const v = step.term!.value(ev, env);
      return v !== undefined && v !== false;
    }
    case 'absent': {
      if (step.defined !== undefined && !allDefined(ev, env, step.defined)) return false;
      const v = step.term!.value(ev, env);
      return v === undefined || v === false;
    }
    case 'bind': {
      const v = step.term!.value(ev, env);
      if (v === undefined) return false;
      env.set(step.binds!, v);
      return true;
    }
    case 'run':
      return step.run!(ev, env);
  }
}

interface CpsStep {
  det: false;
  run: (ev: Evaluator, env: Env, k: K) => boolean;
}

type Step = DetStep | CpsStep;

export type BodyFn = (ev: Evaluator, env: Env, k: K) => boolean;

const compiled = new WeakMap<Body, BodyFn>();

/**
 * Bodies whose solutions are collected in order (array comprehensions). Everywhere else the
 * solutions land in a set, an object or a single value, so iterating a set needs no sorting;
 * here it is iterated in OPA's sorted order so arrays come out as OPA builds them.
 */
const orderedBodies = new WeakSet<Body>();

export function markOrdered(body: Body): void {
  orderedBodies.add(body);
}

export function compiledBody(ev: Evaluator, body: Body): BodyFn {
  let fn = compiled.get(body);
  if (!fn) {
    fn = compileBody(ev, body);
    compiled.set(body, fn);
  }
  return fn;
}

function compileBody(ev: Evaluator, body: Body): BodyFn {
  const ordered = orderedBodies.has(body);
  const steps = body.map((e) => compileExpr(ev, e, ordered));
  const n = steps.length;
  const exec = (ev: Evaluator, env: Env, from: number, k: K): boolean => {
    let i = from;
    let ok = true;
    while (i < n) {
      const step = steps[i];
      if (!step.det) break;
      ev.budget.step(body[i].loc);
      if (step.binds !== undefined && env.has(step.binds)) {
        // Already bound (an unusual ordering): fall back to the general evaluator.
        break;
      }
      if (!runDetStep(ev, env, step)) {
        ok = false;
        break;
      }
      i++;
    }
    let result = false;
    if (ok) {
      if (i === n) result = k();
      else {
        const step = steps[i];
        const next = i + 1;
        result = step.det
          ? ev.evalExpr(body[i], env, () => exec(ev, env, next, k))
          : step.run(ev, env, () => exec(ev, env, next, k));
      }
    }
    // Undo the bindings of the deterministic steps that ran (steps from..i-1 all succeeded).
    for (let j = from; j < i; j++) {
      const name = (steps[j] as DetStep).binds;
      if (name !== undefined) env.delete(name);
    }
    return result;
  };
  return (ev, env, k) => exec(ev, env, 0, k);
}

function compileExpr(ev: Evaluator, e: Expr, ordered = true): Step {
  const bound = boundBefore.get(e);
  const general: CpsStep = { det: false, run: (ev, env, k) => ev.evalExpr(e, env, k) };
  if (!bound || e.with.length) return general;
  const n = e.node;
  if (e.negated) {
    const defined = e.defined && operandsFor(ev, e.defined, bound);
    if (e.defined && !defined) return general;
    if (n.type === 'term' && !(n.term.kind === 'call' && hasOutputArg(ev, n.term))) {
      const operand = operandFor(ev, n.term, bound);
      if (operand) return detStep('absent', operand, undefined, undefined, defined);
    }
    const positive: Expr = { ...e, negated: false, defined: undefined };
    if (defined) return detStep('run', undefined, (ev, env) => allDefined(ev, env, defined) && !ev.evalExprNoWith(positive, env, succeed));
    return detStep('run', undefined, (ev, env) => !ev.evalExprNoWith(positive, env, succeed));
  }
  switch (n.type) {
    case 'some':
      return detStep('run', undefined, succeed);
    case 'every':
    case 'logic':
    case 'group':
      return detStep('run', undefined, (ev, env) => ev.evalExprNoWith(e, env, succeed));
    case 'term': {
      const t = n.term;
      if (t.kind === 'call' && hasOutputArg(ev, t)) return outputCall(ev, t, bound) ?? general;
      const operand = operandFor(ev, t, bound);
      return operand ? detStep('test', operand) : general;
    }
    case 'assign':
      return bindStep(ev, n.left, n.right, bound) ?? general;
    case 'unify':
      return bindStep(ev, n.left, n.right, bound) ?? bindStep(ev, n.right, n.left, bound) ?? compareStep(ev, n.left, n.right, bound) ?? general;
    case 'somein':
      return someInStep(ev, n.key, n.value, n.collection, bound, ordered) ?? general;
  }
}

/** `x := <single value>` / `x = <single value>` with x not yet bound. */
function bindStep(ev: Evaluator, target: Term, source: Term, bound: ReadonlySet<string>): DetStep | undefined {
  if (target.kind !== 'var' || bound.has(target.name)) return undefined;
  const operand = operandFor(ev, source, bound);
  return operand && detStep('bind', operand, undefined, target.name);
}

function compareStep(ev: Evaluator, a: Term, b: Term, bound: ReadonlySet<string>): DetStep | undefined {
  const oa = operandFor(ev, a, bound);
  const ob = oa && operandFor(ev, b, bound);
  if (!oa || !ob) return undefined;
  return detStep('run', undefined, (ev, env) => {
    const va = oa.value(ev, env);
    if (va === undefined) return false;
    const vb = ob.value(ev, env);
    return vb !== undefined && equal(va, vb);
  });
}

/** `some v in xs` / `some k, v in xs` with fresh vars: a loop instead of unification. */
function someInStep(ev: Evaluator, key: Term | undefined, value: Term, collection: Term, bound: ReadonlySet<string>, ordered: boolean): CpsStep | undefined {
  if (value.kind !== 'var' || bound.has(value.name)) return undefined;
  if (key && (key.kind !== 'var' || bound.has(key.name) || key.name === value.name)) return undefined;
  const coll = directFn(ev, collection, bound);
  if (!coll) return undefined;
  const v = value.name;
  const kName = key?.kind === 'var' ? key.name : undefined;
  return {
    det: false,
    run: (ev, env, k) => {
      const c = coll(ev, env);
      if (c === undefined) return false;
      // Each element binds through the vars' slots: no env lookup per iteration.
      const valueSlot = env.slot(v);
      if (kName === undefined) {
        if (Array.isArray(c)) return bindEachItem(ev, c, valueSlot, k);
        // Order cannot be observed here (see orderedBodies): skip sorting the set.
        if (c instanceof RSet && !ordered) return bindEachItem(ev, c.members(), valueSlot, k);
      }
      if (!(Array.isArray(c) || c instanceof RObject || c instanceof RSet)) return false;
      const keySlot = kName === undefined ? undefined : env.slot(kName);
      return ev.iterate(c, (keyValue, item) => {
        valueSlot.value = item;
        if (keySlot) keySlot.value = keyValue;
        const r = k();
        valueSlot.value = undefined;
        if (keySlot) keySlot.value = undefined;
        return r;
      });
    },
  };
}

/** Binds `slot` to each item in turn and runs `k`; true when `k` halts the search. */
function bindEachItem(ev: Evaluator, items: Value[], slot: Slot, k: K): boolean {
  for (let i = 0; i < items.length; i++) {
    ev.budget.step(undefined);
    slot.value = items[i];
    const halted = k();
    slot.value = undefined;
    if (halted) return true;
  }
  return false;
}

function hasOutputArg(ev: Evaluator, t: Term & { kind: 'call' }): boolean {
  const arity = arityFor(t.name, ev.policy.functionArity);
  return arity !== undefined && t.args.length === arity + 1;
}

/** `count(xs, n)`: the call's value bound to a fresh var. */
function outputCall(ev: Evaluator, t: Term & { kind: 'call' }, bound: ReadonlySet<string>): DetStep | undefined {
  const out = t.args[t.args.length - 1];
  if (t.name === 'walk' || out.kind !== 'var' || bound.has(out.name)) return undefined;
  const call: Term = { ...t, args: t.args.slice(0, -1) };
  return bindStep(ev, out, call, bound);
}

/** A direct evaluator for a term that cannot iterate given the bound vars, else undefined. */
function directFn(ev: Evaluator, t: Term, bound: ReadonlySet<string>): DirectFn | undefined {
  if (!singleValued(ev, t, bound)) return undefined;
  const constant = constantTerm(t);
  if (constant !== undefined) return () => constant;
  switch (t.kind) {
    case 'var': {
      const name = t.name;
      return (_ev, env) => env.get(name);
    }
    case 'ref': {
      const fast = localRefFn(ev, t, bound) ?? dataRefFn(ev, t);
      if (fast) return fast;
      break;
    }
    case 'call': {
      const fast = builtinCallFn(ev, t, bound) ?? functionCallFn(ev, t, bound);
      if (fast) return fast;
      break;
    }
    case 'array': {
      const items = operandsFor(ev, t.items, bound);
      if (items) return (ev, env) => evalArguments(ev, env, items);
      break;
    }
  }
  return generalFn(t);
}

/** Falls back to the direct-style interpreter, and from there to the general evaluator. */
function generalFn(t: Term): DirectFn {
  return (ev, env) => {
    const v = evalDirect(ev, t, env);
    if (v !== CPS) return v;
    // Mocks, overrides or comprehensions: take the (only) value from the general evaluator.
    let out: Value | undefined;
    ev.evalTerm(t, env, (x) => {
      out = x;
      return true;
    });
    return out;
  };
}

/** `x.a[k].b` / `input.a.b` with single-valued keys: a chain of lookups. */
function localRefFn(ev: Evaluator, t: Term & { kind: 'ref' }, bound: ReadonlySet<string>): DirectFn | undefined {
  if (t.head.kind !== 'var' || t.head.name === 'data') return undefined;
  const keys = operandsFor(ev, t.path, bound);
  if (!keys) return undefined;
  const name = t.head.name;
  const isInput = name === 'input';
  return (ev, env) => {
    let v: Value | undefined = env.get(name);
    if (v === undefined) {
      if (!isInput) return undefined;
      v = ev.state.input;
    }
    for (let i = 0; i < keys.length && v !== undefined; i++) v = refStep(ev, env, v, keys[i]);
    return v;
  };
}

/** One step down a ref; the usual constant field name reads the object directly. */
function refStep(ev: Evaluator, env: Env, v: Value, key: Operand): Value | undefined {
  if (typeof key.constant === 'string' && v instanceof RObject) return v.get(key.constant);
  const k = key.value(ev, env);
  return k === undefined ? undefined : lookup(v, k);
}

/** `data.pkg.rule.a.b` with a constant path ending at or below a rule: its cached value. */
function dataRefFn(ev: Evaluator, t: Term & { kind: 'ref' }): DirectFn | undefined {
  if (t.head.kind !== 'var' || t.head.name !== 'data' || !t.path.every((p) => p.kind === 'string')) return undefined;
  const { node, index } = dataStart(ev, t.path);
  if (!(node.rules.length || node.defaultRule) || node.isFunction) return undefined;
  const rest = t.path.slice(index).map((p) => (p as Term & { kind: 'string' }).value);
  const general = generalFn(t);
  return (ev, env) => {
    if (ev.state.overrides.size) return general(ev, env);
    let v: Value | undefined = nodeValue(ev, node);
    for (let i = 0; i < rest.length && v !== undefined; i++) {
      const key = rest[i];
      v = v instanceof RObject ? v.get(key) : v instanceof RSet ? (v.has(key) ? key : undefined) : undefined;
    }
    return v;
  };
}

/** A built-in call over single-valued arguments, resolved once. */
function builtinCallFn(ev: Evaluator, t: Term & { kind: 'call' }, bound: ReadonlySet<string>): DirectFn | undefined {
  const plan = planFor(ev, t);
  if (plan.kind !== 'builtin' || plan.hasOutput) return undefined;
  const args = operandsFor(ev, plan.inputs, bound);
  if (!args) return undefined;
  const decl = plan.decl!;
  const general = generalFn(t);
  if (decl.binary && args.length === 2) return binaryBuiltinCallFn(decl, args[0], args[1], t, general);
  return (ev, env) => {
    if (ev.state.mocks.size) return general(ev, env);
    const values = evalArguments(ev, env, args);
    return values && callBuiltinValue(ev, decl, values, t);
  };
}

/** A call of a two-operand built-in with a `binary` form: no argument array to build. */
function binaryBuiltinCallFn(decl: BuiltinDecl, left: Operand, right: Operand, t: Term & { kind: 'call' }, general: DirectFn): DirectFn {
  return (ev, env) => {
    if (ev.state.mocks.size) return general(ev, env);
    const a = left.value(ev, env);
    if (a === undefined) return undefined;
    const b = right.value(ev, env);
    return b === undefined ? undefined : callBinaryBuiltinValue(ev, decl, a, b, t);
  };
}

/** A user function call over single-valued arguments, its function resolved once. */
function functionCallFn(ev: Evaluator, t: Term & { kind: 'call' }, bound: ReadonlySet<string>): DirectFn | undefined {
  const plan = planFor(ev, t);
  if (plan.kind !== 'function' || plan.hasOutput) return undefined;
  const args = operandsFor(ev, plan.inputs, bound);
  if (!args) return undefined;
  const node = plan.node!;
  const general = generalFn(t);
  let prepared: PreparedFunction | undefined;
  return (ev, env) => {
    if (ev.state.mocks.size) return general(ev, env);
    const values = evalArguments(ev, env, args);
    return values && functionValue(ev, node, values, (prepared ??= prepareFunction(ev, node)));
  };
}

/**
 * A single-valued term as a step or a call reads it. Most such terms are constants, vars or
 * field paths (`c.image`, `input.request.kind`): those are read inline, which saves a call
 * through a closure each time (such indirect calls are the interpreter's main overhead);
 * any other term goes through its direct evaluator.
 */
class Operand {
  readonly constant: Value | undefined;
  /** The var a var or field path starts from. */
  readonly varName: string | undefined;
  /** The constant field names of a field path. */
  readonly fields: string[] | undefined;
  readonly fn: DirectFn;

  constructor(t: Term, fn: DirectFn) {
    this.constant = constantTerm(t);
    const path = this.constant === undefined ? fieldPath(t) : undefined;
    this.varName = t.kind === 'var' ? t.name : path?.head;
    this.fields = path?.fields;
    this.fn = fn;
  }

  value(ev: Evaluator, env: Env): Value | undefined {
    if (this.constant !== undefined) return this.constant;
    if (this.varName === undefined) return this.fn(ev, env);
    const v = env.get(this.varName);
    if (this.fields === undefined) return v;
    if (v !== undefined) return fieldsOf(v, this.fields);
    // A path from `input` (no local var of that name) reads the input document.
    return this.varName === 'input' ? fieldsOf(ev.state.input, this.fields) : undefined;
  }
}

/** `x.a.b` / `input.a.b`: a var (not `data`) followed by constant field names. */
function fieldPath(t: Term): { head: string; fields: string[] } | undefined {
  if (t.kind !== 'ref' || t.head.kind !== 'var' || t.head.name === 'data') return undefined;
  const fields: string[] = [];
  for (const p of t.path) {
    if (p.kind !== 'string') return undefined;
    fields.push(p.value);
  }
  return { head: t.head.name, fields };
}

/** Follows constant field names down from a value (objects by key, sets by membership). */
function fieldsOf(start: Value | undefined, fields: string[]): Value | undefined {
  let v = start;
  for (let i = 0; i < fields.length && v !== undefined; i++) {
    const key = fields[i];
    v = v instanceof RObject ? v.get(key) : v instanceof RSet ? (v.has(key) ? key : undefined) : undefined;
  }
  return v;
}

/** The operand for a single-valued term, else undefined. */
function operandFor(ev: Evaluator, t: Term, bound: ReadonlySet<string>): Operand | undefined {
  const fn = directFn(ev, t, bound);
  return fn && new Operand(t, fn);
}

/** Operands for terms that are all single-valued, else undefined. */
function operandsFor(ev: Evaluator, terms: Term[], bound: ReadonlySet<string>): Operand[] | undefined {
  const operands: Operand[] = [];
  for (const t of terms) {
    const operand = operandFor(ev, t, bound);
    if (!operand) return undefined;
    operands.push(operand);
  }
  return operands;
}

/** Whether every operand has a value. */
function allDefined(ev: Evaluator, env: Env, operands: Operand[]): boolean {
  for (let i = 0; i < operands.length; i++) if (operands[i].value(ev, env) === undefined) return false;
  return true;
}

/** The operands' values (call arguments, array items), or undefined when one is undefined. */
function evalArguments(ev: Evaluator, env: Env, operands: Operand[]): Value[] | undefined {
  // Array literals for the usual one or two arguments: V8 allocates them inline, which is
  // cheaper than `new Array(n)` (calls evaluate their arguments at every step).
  if (operands.length === 1) {
    const a = operands[0].value(ev, env);
    return a === undefined ? undefined : [a];
  }
  if (operands.length === 2) {
    const a = operands[0].value(ev, env);
    const b = a === undefined ? undefined : operands[1].value(ev, env);
    return b === undefined ? undefined : [a!, b];
  }
  const values: Value[] = new Array(operands.length);
  for (let i = 0; i < operands.length; i++) {
    const v = operands[i].value(ev, env);
    if (v === undefined) return undefined;
    values[i] = v;
  }
  return values;
}

/** Whether a term has at most one value when `bound` vars are bound. */
function singleValued(ev: Evaluator, t: Term, bound: ReadonlySet<string>): boolean {
  switch (t.kind) {
    case 'var':
      return bound.has(t.name);
    case 'ref':
      if (t.head.kind === 'var' && t.head.name !== 'data' && t.head.name !== 'input' && !bound.has(t.head.name)) return false;
      if (t.head.kind !== 'var' && !singleValued(ev, t.head, bound)) return false;
      return t.path.every((p) => singleValued(ev, p, bound));
    case 'array':
    case 'set':
      return t.items.every((i) => singleValued(ev, i, bound));
    case 'object':
      return t.entries.every(([k, v]) => singleValued(ev, k, bound) && singleValued(ev, v, bound));
    case 'call':
      if (t.name === 'walk' || hasOutputArg(ev, t)) return false;
      return t.args.every((a) => singleValued(ev, a, bound));
    case 'template':
      return t.parts.every((p) => typeof p === 'string' || singleValued(ev, p, bound));
    default:
      // Scalars and comprehensions (a comprehension is one value).
      return true;
  }
}

// ---- rules whose bodies are fully deterministic ---------------------------------------------

/** Vars bound once a clause body has succeeded: the parameters and the body's vars. */
function varsAfter(rule: CompiledRule, body: Body): Set<string> {
  const out = new Set<string>();
  const add = (t: Term) => void (t.kind === 'var' && out.add(t.name));
  for (const a of rule.args ?? []) walkTerm(a, add);
  for (const e of body) walkExpr(e, add);
  return out;
}

const resultFns = new WeakMap<Term, DirectFn | null>();

/**
 * A direct evaluator for the term a rule produces from a solution of `body` (the member of
 * `p contains t`, the value of `p := t`), when that term is single-valued; else undefined
 * (the general evaluator takes it). Built once per term.
 */
export function resultFn(ev: Evaluator, rule: CompiledRule, body: Body, term: Term): DirectFn | undefined {
  let fn = resultFns.get(term);
  if (fn === undefined) {
    fn = directFn(ev, term, varsAfter(rule, body)) ?? null;
    resultFns.set(term, fn);
  }
  return fn ?? undefined;
}

/** Evaluates a rule's clauses directly: its value, or undefined; the env is left as it was. */
export type DirectRule = (ev: Evaluator, env: Env) => Value | undefined | typeof CPS;

const directRules = new WeakMap<CompiledRule, DirectRule | null>();

/**
 * For a rule whose every clause is a run of deterministic steps (typical helper functions
 * such as `cpu_millis(c) := to_number(trim_suffix(c, "m")) if endswith(c, "m")`), a direct
 * evaluator with no continuations at all. Null when some step may iterate.
 */
export function directRule(ev: Evaluator, rule: CompiledRule): DirectRule | null {
  let fn = directRules.get(rule);
  if (fn === undefined) {
    fn = buildDirectRule(ev, rule);
    directRules.set(rule, fn);
  }
  return fn;
}

function buildDirectRule(ev: Evaluator, rule: CompiledRule): DirectRule | null {
  if (rule.args && !simpleParams(rule.args)) return null;
  const clauses: { steps: DetStep[]; body: Body; value: DirectFn }[] = [];
  for (const clause of rule.clauses) {
    const steps: DetStep[] = [];
    for (const e of clause.body) {
      const step = compileExpr(ev, e);
      if (!step.det) return null;
      steps.push(step);
    }
    const value = directFn(ev, clause.value, varsAfter(rule, clause.body));
    if (!value) return null;
    clauses.push({ steps, body: clause.body, value });
  }
  return (ev, env) => {
    for (const { steps, body, value } of clauses) {
      let i = 0;
      for (; i < steps.length; i++) {
        const step = steps[i];
        ev.budget.step(body[i].loc);
        if (step.binds !== undefined && env.has(step.binds)) {
          unbindSteps(env, steps, i);
          return CPS;
        }
        if (!runDetStep(ev, env, step)) break;
      }
      // The first clause whose body holds gives the value (even an undefined one).
      const done = i === steps.length;
      const v = done ? value(ev, env) : undefined;
      // Leave the env as it was, so the caller may reuse it.
      unbindSteps(env, steps, i);
      if (done) return v;
    }
    return undefined;
  };
}

/** Unbinds the vars bound by `steps[0..end)`. */
function unbindSteps(env: Env, steps: DetStep[], end: number): void {
  for (let j = 0; j < end; j++) {
    const name = steps[j].binds;
    if (name !== undefined) env.delete(name);
  }
}
