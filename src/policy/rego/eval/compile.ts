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
import { equal, RNumber, RObject, RSet, type Value } from '../value.ts';
import { CPS, evalDirect } from './direct.ts';
import { callBuiltinValue, planFor } from './calls.ts';
import { dataStart, nodeValue, simpleParams } from './docs.ts';
import type { Env, Evaluator, K } from './evaluator.ts';

/** Evaluates a term known to have at most one value. */
type DirectFn = (ev: Evaluator, env: Env) => Value | undefined;

/** A deterministic step: returns false on failure; `binds` lists the vars it may bind. */
interface DetStep {
  det: true;
  run: (ev: Evaluator, env: Env) => boolean;
  binds?: string;
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
      if (!step.run(ev, env)) {
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
    if (n.type === 'term' && !(n.term.kind === 'call' && hasOutputArg(ev, n.term))) {
      const fn = directFn(ev, n.term, bound);
      if (fn) return { det: true, run: (ev, env) => { const v = fn(ev, env); return v === undefined || v === false; } };
    }
    const positive: Expr = { ...e, negated: false };
    return { det: true, run: (ev, env) => !ev.evalExprNoWith(positive, env, () => true) };
  }
  switch (n.type) {
    case 'some':
      return { det: true, run: () => true };
    case 'every':
    case 'logic':
    case 'group':
      return { det: true, run: (ev, env) => ev.evalExprNoWith(e, env, () => true) };
    case 'term': {
      const t = n.term;
      if (t.kind === 'call' && hasOutputArg(ev, t)) return outputCall(ev, t, bound) ?? general;
      const fn = directFn(ev, t, bound);
      if (!fn) return general;
      return { det: true, run: (ev, env) => { const v = fn(ev, env); return v !== undefined && v !== false; } };
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
  const fn = directFn(ev, source, bound);
  if (!fn) return undefined;
  const name = target.name;
  return {
    det: true,
    binds: name,
    run: (ev, env) => {
      const v = fn(ev, env);
      if (v === undefined) return false;
      env.set(name, v);
      return true;
    },
  };
}

function compareStep(ev: Evaluator, a: Term, b: Term, bound: ReadonlySet<string>): DetStep | undefined {
  const fa = directFn(ev, a, bound);
  const fb = fa && directFn(ev, b, bound);
  if (!fa || !fb) return undefined;
  return {
    det: true,
    run: (ev, env) => {
      const va = fa(ev, env);
      if (va === undefined) return false;
      const vb = fb(ev, env);
      return vb !== undefined && equal(va, vb);
    },
  };
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
      const visit = (keyValue: Value, item: Value): boolean => {
        env.set(v, item);
        if (kName !== undefined) env.set(kName, keyValue);
        const r = k();
        env.delete(v);
        if (kName !== undefined) env.delete(kName);
        return r;
      };
      if (Array.isArray(c) && kName === undefined) {
        for (let i = 0; i < c.length; i++) {
          ev.budget.step(undefined);
          if (visit(null, c[i])) return true;
        }
        return false;
      }
      if (c instanceof RSet && !ordered) {
        // Order cannot be observed here (see orderedBodies): skip sorting the set.
        for (const item of c.values()) {
          ev.budget.step(undefined);
          if (visit(item, item)) return true;
        }
        return false;
      }
      if (!(Array.isArray(c) || c instanceof RObject || c instanceof RSet)) return false;
      return ev.iterate(c, visit);
    },
  };
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
  switch (t.kind) {
    case 'null':
    case 'boolean':
    case 'string': {
      const v = t.kind === 'null' ? null : t.value;
      return () => v;
    }
    case 'number': {
      const v = RNumber.parse(t.text);
      return () => v;
    }
    case 'var': {
      const name = t.name;
      return (_ev, env) => env.get(name);
    }
    case 'ref': {
      const fast = localRefFn(t) ?? dataRefFn(ev, t);
      if (fast) return fast;
      break;
    }
    case 'call': {
      const fast = builtinCallFn(ev, t, bound);
      if (fast) return fast;
      break;
    }
    case 'array': {
      const items = t.items.map((i) => directFn(ev, i, bound));
      if (items.every((f) => f !== undefined)) {
        const fns = items as DirectFn[];
        return (ev, env) => {
          const out: Value[] = new Array(fns.length);
          for (let i = 0; i < fns.length; i++) {
            const v = fns[i](ev, env);
            if (v === undefined) return undefined;
            out[i] = v;
          }
          return out;
        };
      }
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

/** `x.a.b` / `input.a.b` with a constant path: a chain of object lookups. */
function localRefFn(t: Term & { kind: 'ref' }): DirectFn | undefined {
  if (t.head.kind !== 'var' || t.head.name === 'data') return undefined;
  if (!t.path.every((p) => p.kind === 'string')) return undefined;
  const keys = t.path.map((p) => (p as Term & { kind: 'string' }).value);
  const name = t.head.name;
  const isInput = name === 'input';
  return (ev, env) => {
    let v: Value | undefined = env.get(name);
    if (v === undefined) {
      if (!isInput) return undefined;
      v = ev.state.input;
    }
    for (let i = 0; i < keys.length && v !== undefined; i++) {
      const key = keys[i];
      v = v instanceof RObject ? v.get(key) : v instanceof RSet ? (v.has(key) ? key : undefined) : undefined;
    }
    return v;
  };
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
  const args = plan.inputs.map((a) => directFn(ev, a, bound));
  if (!args.every((f) => f !== undefined)) return undefined;
  const fns = args as DirectFn[];
  const decl = plan.decl!;
  const general = generalFn(t);
  return (ev, env) => {
    if (ev.state.mocks.size) return general(ev, env);
    const values: Value[] = new Array(fns.length);
    for (let i = 0; i < fns.length; i++) {
      const v = fns[i](ev, env);
      if (v === undefined) return undefined;
      values[i] = v;
    }
    return callBuiltinValue(ev, decl, values, t);
  };
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

/** Evaluates a rule's clauses directly: its value, or undefined. */
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
      const bound: string[] = [];
      let ok = true;
      for (let i = 0; i < steps.length; i++) {
        const step = steps[i];
        ev.budget.step(body[i].loc);
        if (step.binds !== undefined && env.has(step.binds)) return CPS;
        if (!step.run(ev, env)) {
          ok = false;
          break;
        }
        if (step.binds !== undefined) bound.push(step.binds);
      }
      if (ok) return value(ev, env);
      for (const name of bound) env.delete(name);
    }
    return undefined;
  };
}
