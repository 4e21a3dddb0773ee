/**
 * The evaluator core: bodies, expressions, terms and unification, written in
 * continuation-passing style. Every function takes a continuation and returns `true` to
 * halt the whole search early (used by `not`, existence checks and limits); bindings are
 * undone as the continuations return, so one mutable environment serves a whole body.
 */
import type { Body, Expr, Term } from '../ast.ts';
import type { CompiledPolicy } from '../compiler/index.ts';
import type { BuiltinContext } from '../builtins/types.ts';
import { RNumber, RObject, RSet, equal, type Value } from '../value.ts';
import { RegoEvalError } from '../errors.ts';
import { Budget, EvalState } from './state.ts';
import { objectPairs } from '../compiler/safety.ts';
import { CPS, evalDirect } from './direct.ts';
import { compiledBody, markOrdered } from './compile.ts';
import { evalDataRef } from './docs.ts';
import { evalCall } from './calls.ts';
import { evalWith } from './with.ts';
import { formatTemplateValue } from './format.ts';
import type { CompiledRule } from '../compiler/tree.ts';
import type { Env } from './env.ts';

/** Bindings of vars (see env.ts); re-exported for the modules that take one. */
export type { Env };
export type K = () => boolean;
export type VK = (v: Value) => boolean;

const constCache = new WeakMap<Term, Value>();

export interface EvaluatorOptions {
  policy: CompiledPolicy;
  state: EvalState;
  budget: Budget;
  builtinCtx: BuiltinContext;
  strict: boolean;
  print?: (message: string) => void;
  /** Whether rule metadata can be read (see readsRuleMetadata); assumed when not given. */
  readsRuleMetadata?: boolean;
}

export class Evaluator {
  readonly policy: CompiledPolicy;
  state: EvalState;
  readonly budget: Budget;
  readonly builtinCtx: BuiltinContext;
  readonly strict: boolean;
  readonly print: (message: string) => void;
  /**
   * Rules being evaluated (innermost last), for rego.metadata.*: kept only when `tracksRules`,
   * that is when the policy can read them.
   */
  readonly ruleStack: CompiledRule[] = [];
  readonly tracksRules: boolean;

  constructor(options: EvaluatorOptions) {
    this.policy = options.policy;
    this.state = options.state;
    this.budget = options.budget;
    this.builtinCtx = options.builtinCtx;
    this.strict = options.strict;
    this.print = options.print ?? (() => {});
    this.tracksRules = options.readsRuleMetadata ?? true;
  }

  // ---- bodies and expressions ------------------------------------------------------------

  evalBody(body: Body, i: number, env: Env, k: K): boolean {
    if (i === 0) return compiledBody(this, body)(this, env, k);
    if (i === body.length) return k();
    return this.evalExpr(body[i], env, () => this.evalBody(body, i + 1, env, k));
  }

  /** True when the body has at least one solution; bindings are undone afterwards. */
  bodyExists(body: Body, env: Env): boolean {
    return this.evalBody(body, 0, env, () => true);
  }

  /**
   * Evaluates one expression. `vk`, when given, receives the value of a term expression
   * instead of `k` (the top-level query reports expression values).
   */
  evalExpr(e: Expr, env: Env, k: K, vk?: VK): boolean {
    this.budget.step(e.loc);
    if (e.with.length) return evalWith(this, e, env, k, vk);
    return this.evalExprNoWith(e, env, k, vk);
  }

  evalExprNoWith(e: Expr, env: Env, k: K, vk?: VK): boolean {
    if (e.negated) {
      // Operands OPA evaluates before the negation: one undefined fails the body.
      if (e.defined && !this.allDefined(e.defined, env)) return false;
      const found = this.evalNode(e, env, () => true);
      return found ? false : k();
    }
    return this.evalNode(e, env, k, vk);
  }

  /** Whether every term has a value (they are single-valued: the negation's vars are bound). */
  private allDefined(terms: Term[], env: Env): boolean {
    for (const t of terms) {
      const v = evalDirect(this, t, env);
      if (v === undefined) return false;
      if (v === CPS && !this.evalTerm(t, env, () => true)) return false;
    }
    return true;
  }

  private evalNode(e: Expr, env: Env, k: K, vk?: VK): boolean {
    const n = e.node;
    switch (n.type) {
      case 'term':
        if (vk) return n.term.kind === 'call' ? evalCall(this, n.term, env, vk) : this.evalTerm(n.term, env, vk);
        if (n.term.kind === 'call') {
          const v = evalDirect(this, n.term, env);
          if (v !== CPS) return v === undefined || v === false ? false : k();
          return evalCall(this, n.term, env, (v) => (v === false ? false : k()));
        }
        return this.evalTerm(n.term, env, (v) => (v === false ? false : k()));
      case 'unify':
        return this.unify(n.left, n.right, env, k);
      case 'assign': {
        const left = n.left;
        if (left.kind === 'var' && !env.has(left.name)) {
          // The common `x := <single value>` binds without continuations.
          const v = evalDirect(this, n.right, env);
          if (v === undefined) return false;
          if (v !== CPS) {
            env.set(left.name, v);
            const r = k();
            env.delete(left.name);
            return r;
          }
        }
        return this.evalTerm(n.right, env, (v) => this.match(left, v, env, k));
      }
      case 'some':
        return k();
      case 'somein':
        return this.evalTerm(n.collection, env, (coll) => this.iterate(coll, (key, value) =>
          n.key ? this.match(n.key, key, env, () => this.match(n.value, value, env, k)) : this.match(n.value, value, env, k)));
      case 'every':
        return this.evalTerm(n.domain, env, (coll) => {
          if (!(Array.isArray(coll) || coll instanceof RObject || coll instanceof RSet)) return false;
          const failed = this.iterate(coll, (key, value) => {
            const ok = n.key
              ? this.match(n.key, key, env, () => this.match(n.value, value, env, () => this.bodyExists(n.body, env)))
              : this.match(n.value, value, env, () => this.bodyExists(n.body, env));
            return !ok;
          });
          return failed ? false : k();
        });
      case 'logic': {
        const left = this.evalExpr(n.left, env, () => true);
        if (n.op === 'and') return left && this.evalExpr(n.right, env, () => true) ? k() : false;
        return left || this.evalExpr(n.right, env, () => true) ? k() : false;
      }
      case 'group':
        return this.bodyExists(n.body, env) ? k() : false;
    }
  }

  /** Calls `f(key, value)` for each element of a collection; scalars have none. */
  iterate(coll: Value, f: (key: Value, value: Value) => boolean): boolean {
    const budget = this.budget;
    if (Array.isArray(coll)) {
      for (let i = 0; i < coll.length; i++) {
        budget.step(undefined);
        if (f(RNumber.int(i), coll[i])) return true;
      }
    } else if (coll instanceof RObject) {
      for (const [key, value] of coll.entries()) {
        budget.step(undefined);
        if (f(key, value)) return true;
      }
    } else if (coll instanceof RSet) {
      // Sets iterate in OPA's order so results come out sorted, as OPA's do.
      for (const v of coll.sorted()) {
        budget.step(undefined);
        if (f(v, v)) return true;
      }
    }
    return false;
  }

  // ---- unification -------------------------------------------------------------------------

  unify(a: Term, b: Term, env: Env, k: K): boolean {
    if (a.kind === 'array' && b.kind === 'array') {
      if (a.items.length !== b.items.length) return false;
      return this.unifyItems(a.items, b.items, 0, env, k);
    }
    const pairs = objectPairs(a, b);
    if (pairs) return this.unifyItems(pairs.map((p) => p[0]), pairs.map((p) => p[1]), 0, env, k);
    if (this.hasUnboundPattern(a, env)) {
      if (this.hasUnboundPattern(b, env) && b.kind !== 'var') return this.evalTerm(a, env, (v) => this.match(b, v, env, k));
      return this.evalTerm(b, env, (v) => this.match(a, v, env, k));
    }
    return this.evalTerm(a, env, (v) => this.match(b, v, env, k));
  }

  private unifyItems(as: Term[], bs: Term[], i: number, env: Env, k: K): boolean {
    if (i === as.length) return k();
    // Pairs whose both sides are still unbound wait for a later pair to bind them.
    for (let j = i; j < as.length; j++) {
      if (!(this.hasUnboundPattern(as[j], env) && this.hasUnboundPattern(bs[j], env))) {
        const ra = [...as];
        const rb = [...bs];
        [ra[i], ra[j]] = [ra[j], ra[i]];
        [rb[i], rb[j]] = [rb[j], rb[i]];
        return this.unify(ra[i], rb[i], env, () => this.unifyItems(ra, rb, i + 1, env, k));
      }
    }
    return this.unify(as[i], bs[i], env, () => this.unifyItems(as, bs, i + 1, env, k));
  }

  /** Whether matching `t` would bind a var (an unbound var in a pattern position). */
  hasUnboundPattern(t: Term, env: Env): boolean {
    switch (t.kind) {
      case 'var':
        return !env.has(t.name);
      case 'array':
        return t.items.some((i) => this.hasUnboundPattern(i, env));
      case 'object':
        return t.entries.some(([, v]) => this.hasUnboundPattern(v, env));
      default:
        return false;
    }
  }

  /** Matches a term (possibly containing unbound vars) against a ground value. */
  match(t: Term, v: Value, env: Env, k: K): boolean {
    switch (t.kind) {
      case 'var': {
        const bound = env.get(t.name);
        if (bound !== undefined) return equal(bound, v) ? k() : false;
        env.set(t.name, v);
        const r = k();
        env.delete(t.name);
        return r;
      }
      case 'array':
        if (!Array.isArray(v) || v.length !== t.items.length) return false;
        return this.matchItems(t.items, v, 0, env, k);
      case 'object':
        if (!(v instanceof RObject) || v.size !== t.entries.length) return false;
        return this.matchEntries(t.entries, v, 0, env, k);
      default:
        return this.evalTerm(t, env, (x) => (equal(x, v) ? k() : false));
    }
  }

  private matchItems(items: Term[], vs: Value[], i: number, env: Env, k: K): boolean {
    if (i === items.length) return k();
    return this.match(items[i], vs[i], env, () => this.matchItems(items, vs, i + 1, env, k));
  }

  private matchEntries(entries: [Term, Term][], obj: RObject, i: number, env: Env, k: K): boolean {
    if (i === entries.length) return k();
    return this.evalTerm(entries[i][0], env, (key) => {
      const value = obj.get(key);
      if (value === undefined) return false;
      return this.match(entries[i][1], value, env, () => this.matchEntries(entries, obj, i + 1, env, k));
    });
  }

  // ---- terms -----------------------------------------------------------------------------

  evalTerm(t: Term, env: Env, k: VK): boolean {
    switch (t.kind) {
      case 'null':
        return k(null);
      case 'boolean':
        return k(t.value);
      case 'string':
        return k(t.value);
      case 'number': {
        let n = constCache.get(t);
        if (n === undefined) constCache.set(t, (n = RNumber.parse(t.text)));
        return k(n);
      }
      case 'var': {
        const v = env.get(t.name);
        return v === undefined ? false : k(v);
      }
      case 'ref': {
        const v = evalDirect(this, t, env);
        if (v !== CPS) return v === undefined ? false : k(v);
        return this.evalRef(t, env, k);
      }
      case 'array': {
        const v = evalDirect(this, t, env);
        if (v !== CPS) return v === undefined ? false : k(v);
        return this.evalTerms(t.items, 0, [], env, (items) => k(items));
      }
      case 'set': {
        const v = evalDirect(this, t, env);
        if (v !== CPS) return v === undefined ? false : k(v);
        return this.evalTerms(t.items, 0, [], env, (items) => k(RSet.from(items)));
      }
      case 'object': {
        const v = evalDirect(this, t, env);
        if (v !== CPS) return v === undefined ? false : k(v);
        return this.evalObject(t.entries, 0, new Map(), env, k);
      }
      case 'call': {
        const v = evalDirect(this, t, env);
        if (v !== CPS) return v === undefined ? false : k(v);
        return evalCall(this, t, env, k);
      }
      case 'arraycompr': {
        markOrdered(t.body);
        const out: Value[] = [];
        this.evalBody(t.body, 0, env, () => this.evalTerm(t.term, env, (v) => (out.push(v), false)));
        return k(out);
      }
      case 'setcompr': {
        const out = new RSet();
        this.evalBody(t.body, 0, env, () => this.evalTerm(t.term, env, (v) => (out.add(v), false)));
        return k(out);
      }
      case 'objectcompr': {
        const out = new RObject();
        this.evalBody(t.body, 0, env, () => this.evalTerm(t.key, env, (key) => this.evalTerm(t.value, env, (value) => {
          const prev = out.get(key);
          if (prev !== undefined && !equal(prev, value)) throw new RegoEvalError('eval_conflict_error', 'object keys must be unique', t.loc);
          out.set(key, value);
          return false;
        })));
        return k(out);
      }
      case 'template':
        return this.evalTemplate(t, 0, '', env, k);
    }
  }

  evalTerms(terms: Term[], i: number, acc: Value[], env: Env, k: (vs: Value[]) => boolean): boolean {
    if (i === terms.length) return k(acc.slice());
    const t = terms[i];
    // A plain var not bound yet may be bound by a ref in a later term (`x == a[x]`).
    if (t.kind === 'var' && !env.has(t.name) && i + 1 < terms.length) {
      return this.evalTerms(terms, i + 1, acc, env, () => this.evalTerm(t, env, (v) => {
        acc[i] = v;
        return k(acc.slice());
      }));
    }
    return this.evalTerm(t, env, (v) => {
      acc[i] = v;
      return this.evalTerms(terms, i + 1, acc, env, k);
    });
  }

  private evalObject(entries: [Term, Term][], i: number, acc: Map<number, [Value, Value]>, env: Env, k: VK): boolean {
    if (i === entries.length) {
      const obj = new RObject();
      for (const [key, value] of acc.values()) obj.set(key, value);
      return k(obj);
    }
    return this.evalTerm(entries[i][0], env, (key) => this.evalTerm(entries[i][1], env, (value) => {
      acc.set(i, [key, value]);
      return this.evalObject(entries, i + 1, acc, env, k);
    }));
  }

  private evalTemplate(t: Term & { kind: 'template' }, i: number, acc: string, env: Env, k: VK): boolean {
    const parts = t.parts;
    if (i === parts.length) return k(acc);
    const part = parts[i];
    if (typeof part === 'string') return this.evalTemplate(t, i + 1, acc + part, env, k);
    let values: Value[] = [];
    this.evalTerm(part, env, (v) => (values.push(v), false));
    // A part with `with` modifiers is a comprehension collecting the expression's values.
    if (t.multi?.[i] && Array.isArray(values[0])) values = values[0];
    if (values.length > 1) {
      throw new RegoEvalError('eval_conflict_error', 'template expression must not produce multiple outputs', part.loc);
    }
    const text = values.length === 0 ? '<undefined>' : formatTemplateValue(values[0]);
    return this.evalTemplate(t, i + 1, acc + text, env, k);
  }

  // ---- refs --------------------------------------------------------------------------------

  evalRef(t: Term & { kind: 'ref' }, env: Env, k: VK): boolean {
    const head = t.head;
    if (head.kind === 'var') {
      const local = env.get(head.name);
      if (local !== undefined) return this.navigate(local, t.path, 0, env, k);
      if (head.name === 'data') return evalDataRef(this, t.path, env, k);
      if (head.name === 'input') {
        const input = this.state.input;
        return input === undefined ? false : this.navigate(input, t.path, 0, env, k);
      }
      return false;
    }
    return this.evalTerm(head, env, (v) => this.navigate(v, t.path, 0, env, k));
  }

  /** Follows the path from `value`, iterating over unbound vars in the path. */
  navigate(value: Value, path: Term[], i: number, env: Env, k: VK): boolean {
    if (i === path.length) return k(value);
    const p = path[i];
    if (p.kind === 'string') {
      const child = value instanceof RObject ? value.get(p.value) : value instanceof RSet ? (value.has(p.value) ? p.value : undefined) : undefined;
      return child === undefined ? false : this.navigate(child, path, i + 1, env, k);
    }
    if (this.hasUnboundPattern(p, env)) {
      return this.iterate(value, (key, child) => this.match(p, key, env, () => this.navigate(child, path, i + 1, env, k)));
    }
    return this.evalTerm(p, env, (key) => {
      const child = lookup(value, key);
      return child === undefined ? false : this.navigate(child, path, i + 1, env, k);
    });
  }

}

/** One step of a ref: array index, object key or set member. */
export function lookup(value: Value, key: Value): Value | undefined {
  if (Array.isArray(value)) {
    if (!(key instanceof RNumber)) return undefined;
    const idx = key.toSafeInteger();
    return idx === undefined || idx < 0 || idx >= value.length ? undefined : value[idx];
  }
  if (value instanceof RObject) return value.get(key);
  if (value instanceof RSet) return value.has(key) ? key : undefined;
  return undefined;
}
