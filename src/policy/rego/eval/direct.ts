/**
 * Direct-style evaluation for terms that produce at most one value: constants, bound vars,
 * refs without unbound vars, and calls over such terms. Most terms in real policies are like
 * that, and evaluating them without continuations avoids most of the interpretive overhead.
 * Whenever a term could iterate (an unbound var in a ref, an output argument, a mock…) the
 * function returns CPS and the caller falls back to the general continuation path.
 */
import type { CallTerm, Term } from '../ast.ts';
import { RObject, RSet, type Value } from '../value.ts';
import type { Evaluator, Env } from './evaluator.ts';
import { lookup } from './evaluator.ts';
import { baseAt, baseKey, dataStart, fullDoc, nodeValue } from './docs.ts';
import { functionValue } from './functions.ts';
import { callBuiltinValue, planFor } from './calls.ts';
import { constantTerm } from './ground.ts';

export const CPS = Symbol('cps');
export type Direct = Value | undefined | typeof CPS;

export function evalDirect(ev: Evaluator, t: Term, env: Env): Direct {
  switch (t.kind) {
    case 'null':
      return null;
    case 'boolean':
      return t.value;
    case 'string':
      return t.value;
    case 'number':
      return constantTerm(t);
    case 'var': {
      const v = env.get(t.name);
      return v === undefined ? CPS : v;
    }
    case 'ref':
      return directRef(ev, t, env);
    case 'call':
      return directCall(ev, t, env);
    case 'array': {
      const constant = constantTerm(t);
      if (constant !== undefined) return constant;
      const out: Value[] = new Array(t.items.length);
      for (let i = 0; i < t.items.length; i++) {
        const v = evalDirect(ev, t.items[i], env);
        if (v === undefined || v === CPS) return v;
        out[i] = v;
      }
      return out;
    }
    case 'set': {
      const constant = constantTerm(t);
      if (constant !== undefined) return constant;
      const out = new RSet();
      for (const item of t.items) {
        const v = evalDirect(ev, item, env);
        if (v === undefined || v === CPS) return v;
        out.add(v);
      }
      return out;
    }
    case 'object': {
      const constant = constantTerm(t);
      if (constant !== undefined) return constant;
      const out = new RObject();
      for (const [kt, vt] of t.entries) {
        const key = evalDirect(ev, kt, env);
        if (key === undefined || key === CPS) return key;
        const value = evalDirect(ev, vt, env);
        if (value === undefined || value === CPS) return value;
        out.set(key, value);
      }
      return out;
    }
    default:
      return CPS;
  }
}

function directRef(ev: Evaluator, t: Term & { kind: 'ref' }, env: Env): Direct {
  const head = t.head;
  let value: Value | undefined;
  let i = 0;
  if (head.kind === 'var') {
    const local = env.get(head.name);
    if (local !== undefined) value = local;
    else if (head.name === 'input') value = ev.state.input;
    else if (head.name === 'data') return directData(ev, t.path, env);
    else return CPS;
  } else {
    const h = evalDirect(ev, head, env);
    if (h === CPS || h === undefined) return h;
    value = h;
  }
  return navigateDirect(ev, value, t.path, i, env);
}

function navigateDirect(ev: Evaluator, start: Value | undefined, path: Term[], from: number, env: Env, base = false): Direct {
  let value = start;
  for (let i = from; i < path.length && value !== undefined; i++) {
    const p = path[i];
    if (p.kind === 'string') {
      value = value instanceof RObject ? value.get(p.value) : value instanceof RSet ? (value.has(p.value) ? p.value : undefined) : undefined;
      continue;
    }
    const key = evalDirect(ev, p, env);
    if (key === CPS) return CPS;
    if (key === undefined) return undefined;
    value = lookup(value, base && value instanceof RObject ? baseKey(key) : key);
  }
  return value;
}

function directData(ev: Evaluator, path: Term[], env: Env): Direct {
  if (ev.state.overrides.size) return CPS;
  let { node, index: i } = dataStart(ev, path);
  while (true) {
    if (node.rules.length || node.defaultRule) {
      if (node.isFunction) return undefined;
      return navigateDirect(ev, nodeValue(ev, node), path, i, env);
    }
    if (i === path.length) return fullDoc(ev, node);
    const p = path[i];
    const key = p.kind === 'string' ? p.value : evalDirect(ev, p, env);
    if (key === CPS || key === undefined) return key;
    if (typeof key !== 'string') return CPS;
    const child = node.children.get(key);
    if (!child) return navigateDirect(ev, baseAt(ev, [...node.path, key]), path, i + 1, env, true);
    node = child;
    i++;
  }
}

function directCall(ev: Evaluator, call: CallTerm, env: Env): Direct {
  if (ev.state.mocks.size) return CPS;
  const plan = planFor(ev, call);
  if (plan.hasOutput || (plan.kind !== 'builtin' && plan.kind !== 'function')) return CPS;
  const inputs = plan.inputs;
  const args: Value[] = new Array(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const v = evalDirect(ev, inputs[i], env);
    if (v === undefined || v === CPS) return v;
    args[i] = v;
  }
  if (plan.kind === 'builtin') return callBuiltinValue(ev, plan.decl!, args, call);
  return functionValue(ev, plan.node!, args);
}
