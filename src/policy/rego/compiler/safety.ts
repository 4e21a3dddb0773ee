/**
 * Safety and body reordering: every var must be bound before it is needed. Expressions
 * are scheduled in source order whenever possible; an expression whose inputs are not yet
 * bound waits until an expression that binds them has run. Anything left over is unsafe.
 */
import type { Body, Expr, ExprNode, Term } from '../ast.ts';
import { refToDotted, walkExpr, walkTerm } from '../ast.ts';
import { RegoError, type RegoErrorDetail } from '../errors.ts';
import { HOISTED_VAR_PREFIX, hoistedOperands } from './negation.ts';

/** Arity of a callable (built-in or user function), or undefined when unknown. */
export type ArityOf = (name: string) => number | undefined;

type Provides = Set<string> | null;

/** The vars bound when each ordered expression runs; the evaluator compiles with it. */
export const boundBefore = new WeakMap<Expr, ReadonlySet<string>>();

export class SafetyChecker {
  private readonly arityOf: ArityOf;
  readonly errors: RegoErrorDetail[] = [];

  constructor(arityOf: ArityOf) {
    this.arityOf = arityOf;
  }

  /** Orders `body` given vars already bound; returns the ordered body and the final bound set. */
  orderBody(body: Body, bound: Set<string>, scope: Set<string>): { body: Body; bound: Set<string> } {
    const innerScope = new Set(scope);
    for (const e of body) for (const v of exprVarsShallow(e)) innerScope.add(v);
    const remaining = [...body];
    const ordered: Expr[] = [];
    const current = new Set(bound);
    while (remaining.length) {
      let progressed = false;
      for (let i = 0; i < remaining.length; i++) {
        const provides = this.exprProvides(remaining[i], current, innerScope);
        if (provides === null) continue;
        const expr = this.orderNested(remaining[i], current, innerScope);
        boundBefore.set(expr, new Set(current));
        for (const v of provides) current.add(v);
        ordered.push(expr);
        remaining.splice(i, 1);
        progressed = true;
        break;
      }
      if (!progressed) {
        this.reportUnsafe(remaining, current);
        return { body: [...ordered, ...remaining], bound: current };
      }
    }
    return { body: ordered, bound: current };
  }

  private reportUnsafe(remaining: Expr[], bound: Set<string>): void {
    const seen = new Set<string>();
    for (const e of remaining) {
      const vars = new Set<string>();
      walkExpr(e, (t) => void (t.kind === 'var' && !isRoot(t.name) && vars.add(t.name)));
      for (const v of vars) {
        if (bound.has(v) || seen.has(v) || v.startsWith('$_') || v.startsWith(HOISTED_VAR_PREFIX)) continue;
        seen.add(v);
        this.errors.push({ code: 'rego_unsafe_var_error', message: `var ${displayName(v)} is unsafe`, location: e.loc });
      }
    }
    if (seen.size === 0) {
      this.errors.push({ code: 'rego_unsafe_var_error', message: 'expression is unsafe', location: remaining[0].loc });
    }
  }

  // ---- what an expression binds, or null when it cannot run yet ------------------------

  private exprProvides(e: Expr, bound: Set<string>, scope: Set<string>): Provides {
    for (const w of e.with) {
      const fn = refToDotted(w.value);
      if (fn !== undefined && !bound.has(fn.split('.')[0]) && (this.arityOf(fn) !== undefined || fn.startsWith('data.'))) continue;
      if (this.termValue(w.value, bound, scope) === null) return null;
    }
    const provides = this.nodeProvides(e.node, bound, scope);
    if (provides === null) return null;
    if (hoistedOperands.has(e)) {
      // An operand taken out of a negation runs once its vars are bound, as it did inside
      // the negation: it must not bind (iterate over) any var of its own.
      const generated = (e.node as ExprNode & { type: 'unify' }).left as Term & { kind: 'var' };
      for (const v of provides) if (v !== generated.name) return null;
      return provides;
    }
    if (e.negated) {
      // A negated expression cannot bind anything, so its (non-wildcard) vars must be bound.
      for (const v of exprVarsShallow(e)) if (!bound.has(v) && !v.startsWith('$_')) return null;
      return new Set();
    }
    return provides;
  }

  private nodeProvides(n: ExprNode, bound: Set<string>, scope: Set<string>): Provides {
    switch (n.type) {
      case 'term':
        if (n.term.kind === 'call') return this.callProvides(n.term, bound, scope);
        return this.termValue(n.term, bound, scope);
      case 'assign':
        return seq(this.termValue(n.right, bound, scope), (b) => this.termPattern(n.left, union(bound, b), scope));
      case 'unify':
        return this.unifyProvides(n.left, n.right, bound, scope);
      case 'some':
        return new Set();
      case 'somein':
        return seq(this.termValue(n.collection, bound, scope), (b1) =>
          seq(n.key ? this.termPattern(n.key, union(bound, b1), scope) : new Set(), (b2) => this.termPattern(n.value, union(bound, union(b1, b2)), scope)));
      case 'every':
        return seq(this.termValue(n.domain, bound, scope), () => (this.closureReady(n.body, [], bound, scope, [n.key, n.value]) ? new Set() : null));
      case 'logic':
        return this.closureReady([n.left, n.right], [], bound, scope, []) ? new Set() : null;
      case 'group':
        return this.closureReady(n.body, [], bound, scope, []) ? new Set() : null;
    }
  }

  private callProvides(call: Term & { kind: 'call' }, bound: Set<string>, scope: Set<string>): Provides {
    const arity = this.arityOf(call.name);
    if (arity !== undefined && call.args.length === arity + 1) {
      let acc = new Set<string>();
      for (let i = 0; i < arity; i++) {
        const p = this.termValue(call.args[i], union(bound, acc), scope);
        if (p === null) return null;
        acc = union(acc, p);
      }
      const out = this.termPattern(call.args[arity], union(bound, acc), scope);
      return out === null ? null : union(acc, out);
    }
    return this.termValue(call, bound, scope);
  }

  private unifyProvides(a: Term, b: Term, bound: Set<string>, scope: Set<string>): Provides {
    if (a.kind === 'array' && b.kind === 'array' && a.items.length === b.items.length) {
      return this.pairwise(a.items.map((x, i) => [x, b.items[i]] as [Term, Term]), bound, scope);
    }
    const pairs = objectPairs(a, b);
    if (pairs) return this.pairwise(pairs, bound, scope);
    const right = seq(this.termValue(b, bound, scope), (p) => this.termPattern(a, union(bound, p), scope));
    if (right !== null) return right;
    return seq(this.termValue(a, bound, scope), (p) => this.termPattern(b, union(bound, p), scope));
  }

  /** Pairs may bind each other in any order (`[x, y] = [1, x]`). */
  private pairwise(pairs: [Term, Term][], bound: Set<string>, scope: Set<string>): Provides {
    let acc = new Set<string>();
    const left = [...pairs];
    while (left.length) {
      const idx = left.findIndex(([x, y]) => this.unifyProvides(x, y, union(bound, acc), scope) !== null);
      if (idx < 0) return null;
      acc = union(acc, this.unifyProvides(left[idx][0], left[idx][1], union(bound, acc), scope)!);
      left.splice(idx, 1);
    }
    return acc;
  }

  /** Vars bound by evaluating `t` as a value (only ref iteration vars), or null if not ready. */
  termValue(t: Term, bound: Set<string>, scope: Set<string>): Provides {
    switch (t.kind) {
      case 'var':
        return bound.has(t.name) ? new Set() : null;
      case 'ref': {
        let acc = new Set<string>();
        if (t.head.kind === 'var') {
          if (!isRoot(t.head.name) && !bound.has(t.head.name)) return null;
        } else {
          const h = this.termValue(t.head, bound, scope);
          if (h === null) return null;
          acc = h;
        }
        for (const p of t.path) {
          if (p.kind === 'var' && !bound.has(p.name) && !acc.has(p.name)) {
            acc.add(p.name);
            continue;
          }
          const r = this.termPatternOrValue(p, union(bound, acc), scope);
          if (r === null) return null;
          acc = union(acc, r);
        }
        return acc;
      }
      case 'array':
      case 'set':
        return this.allValues(t.items, bound, scope);
      case 'object':
        return this.allValues(t.entries.flat(), bound, scope);
      case 'call':
        return this.allValues(t.args, bound, scope);
      case 'template':
        return this.allValues(t.parts.filter((p): p is Term => typeof p !== 'string'), bound, scope);
      case 'arraycompr':
      case 'setcompr':
        return this.closureReady(t.body, [t.term], bound, scope, []) ? new Set() : null;
      case 'objectcompr':
        return this.closureReady(t.body, [t.key, t.value], bound, scope, []) ? new Set() : null;
      default:
        return new Set();
    }
  }

  /** Ref path elements that are composite patterns (`x[[a, b]]`) may bind their vars. */
  private termPatternOrValue(t: Term, bound: Set<string>, scope: Set<string>): Provides {
    return this.termValue(t, bound, scope) ?? this.termPattern(t, bound, scope);
  }

  /** Terms evaluated together: a ref in one may bind a var another one reads. */
  private allValues(terms: Term[], bound: Set<string>, scope: Set<string>): Provides {
    let acc = new Set<string>();
    const left = [...terms];
    while (left.length) {
      const idx = left.findIndex((item) => this.termValue(item, union(bound, acc), scope) !== null);
      if (idx < 0) return null;
      acc = union(acc, this.termValue(left[idx], union(bound, acc), scope)!);
      left.splice(idx, 1);
    }
    return acc;
  }

  /** Vars bound by matching `t` against a known value, or null if `t` cannot be matched yet. */
  termPattern(t: Term, bound: Set<string>, scope: Set<string>): Provides {
    switch (t.kind) {
      case 'var':
        return bound.has(t.name) ? new Set() : new Set([t.name]);
      case 'array': {
        let acc = new Set<string>();
        for (const item of t.items) {
          const r = this.termPattern(item, union(bound, acc), scope);
          if (r === null) return null;
          acc = union(acc, r);
        }
        return acc;
      }
      case 'object': {
        let acc = new Set<string>();
        for (const [k, v] of t.entries) {
          const rk = this.termValue(k, union(bound, acc), scope);
          if (rk === null) return null;
          acc = union(acc, rk);
          const rv = this.termPattern(v, union(bound, acc), scope);
          if (rv === null) return null;
          acc = union(acc, rv);
        }
        return acc;
      }
      default:
        return this.termValue(t, bound, scope);
    }
  }

  /** A closure may run once every var it shares with the enclosing scope is bound. */
  private closureReady(body: Body, heads: (Term | undefined)[], bound: Set<string>, scope: Set<string>, locals: (Term | undefined)[]): boolean {
    const localNames = new Set<string>();
    for (const l of locals) if (l) walkTerm(l, (x) => void (x.kind === 'var' && localNames.add(x.name)));
    const used = new Set<string>();
    const add = (x: Term) => void (x.kind === 'var' && !isRoot(x.name) && used.add(x.name));
    for (const e of body) walkExpr(e, add);
    for (const h of heads) if (h) walkTerm(h, add);
    for (const v of used) if (scope.has(v) && !bound.has(v) && !localNames.has(v)) return false;
    return true;
  }

  // ---- nested bodies ---------------------------------------------------------------------

  /** Reorders the bodies nested inside an expression now that its position is known. */
  private orderNested(e: Expr, bound: Set<string>, scope: Set<string>): Expr {
    const t = (x: Term) => this.orderTerm(x, bound, scope);
    const n = e.node;
    let node: ExprNode = n;
    switch (n.type) {
      case 'term': node = { type: 'term', term: t(n.term) }; break;
      case 'unify': node = { type: 'unify', left: t(n.left), right: t(n.right) }; break;
      case 'assign': node = { type: 'assign', left: t(n.left), right: t(n.right) }; break;
      case 'somein': node = { ...n, collection: t(n.collection) }; break;
      case 'every': {
        const locals = new Set(bound);
        if (n.key) walkTerm(n.key, (x) => void (x.kind === 'var' && locals.add(x.name)));
        walkTerm(n.value, (x) => void (x.kind === 'var' && locals.add(x.name)));
        node = { ...n, domain: t(n.domain), body: this.orderBody(n.body, locals, scope).body };
        break;
      }
      case 'logic': node = { ...n, left: this.orderNested(n.left, bound, scope), right: this.orderNested(n.right, bound, scope) }; break;
      case 'group': node = { type: 'group', body: this.orderBody(n.body, bound, scope).body }; break;
    }
    return { ...e, node, with: e.with.map((w) => ({ ...w, value: t(w.value) })) };
  }

  orderTerm(term: Term, bound: Set<string>, scope: Set<string>): Term {
    const t = (x: Term) => this.orderTerm(x, bound, scope);
    switch (term.kind) {
      case 'ref': return { ...term, head: t(term.head), path: term.path.map(t) };
      case 'array':
      case 'set': return { ...term, items: term.items.map(t) };
      case 'object': return { ...term, entries: term.entries.map(([k, v]) => [t(k), t(v)] as [Term, Term]) };
      case 'call': return { ...term, args: term.args.map(t) };
      case 'template': return { ...term, parts: term.parts.map((p) => (typeof p === 'string' ? p : t(p))) };
      case 'arraycompr':
      case 'setcompr': return { ...term, body: this.orderBody(term.body, bound, scope).body };
      case 'objectcompr': return { ...term, body: this.orderBody(term.body, bound, scope).body };
      default: return term;
    }
  }

  throwIfErrors(): void {
    if (this.errors.length) throw new RegoError(this.errors);
  }
}

/** Entries of two object literals with the same constant keys, paired by key. */
export function objectPairs(a: Term, b: Term): [Term, Term][] | undefined {
  if (a.kind !== 'object' || b.kind !== 'object' || a.entries.length !== b.entries.length) return undefined;
  const pairs: [Term, Term][] = [];
  for (const [ka, va] of a.entries) {
    const match = b.entries.find(([kb]) => constKey(kb) !== undefined && constKey(kb) === constKey(ka));
    if (!match) return undefined;
    pairs.push([va, match[1]]);
  }
  return pairs;
}

function constKey(t: Term): string | undefined {
  if (t.kind === 'string') return 's' + t.value;
  if (t.kind === 'number') return 'n' + t.text;
  if (t.kind === 'boolean') return 'b' + t.value;
  if (t.kind === 'null') return 'null';
  return undefined;
}

function isRoot(name: string): boolean {
  return name === 'data' || name === 'input';
}

function displayName(v: string): string {
  const i = v.indexOf('$');
  return i > 0 ? v.slice(0, i) : v;
}

/** Vars of an expression outside closures (comprehensions, `every` bodies, logic groups). */
function exprVarsShallow(e: Expr): Set<string> {
  const out = new Set<string>();
  const n = e.node;
  if (n.type === 'group' || n.type === 'logic') return out;
  if (n.type === 'every') {
    walkTerm(n.domain, (t) => void (t.kind === 'var' && !isRoot(t.name) && out.add(t.name)));
    return out;
  }
  // `with` targets name documents or functions, never vars, so they are left out.
  walkExpr({ ...e, with: [] }, (t) => {
    if (t.kind === 'var' && !isRoot(t.name)) out.add(t.name);
    if (t.kind === 'arraycompr' || t.kind === 'setcompr' || t.kind === 'objectcompr') return false;
  });
  for (const w of e.with) {
    const fn = refToDotted(w.value);
    if (fn !== undefined && fn.startsWith('data.')) continue;
    walkTerm(w.value, (t) => {
      if (t.kind === 'var' && !isRoot(t.name)) out.add(t.name);
      if (t.kind === 'arraycompr' || t.kind === 'setcompr' || t.kind === 'objectcompr') return false;
    });
  }
  return out;
}

function union(a: Set<string>, b: Set<string>): Set<string> {
  if (b.size === 0) return a;
  if (a.size === 0) return b;
  const out = new Set(a);
  for (const x of b) out.add(x);
  return out;
}

function seq(first: Provides, then: (p: Set<string>) => Provides): Provides {
  if (first === null) return null;
  const second = then(first);
  return second === null ? null : union(first, second);
}
