/**
 * Name resolution: rewrites vars that name rules of the package or import aliases into
 * absolute `data…`/`input…` refs, turns bare `data`/`input` into refs, and renames vars
 * declared inside closures (comprehensions, `every`, groups) that would otherwise capture
 * a same-named var of the enclosing body.
 */
import type { Body, Expr, ExprNode, Location, Module, RefTerm, Term } from '../ast.ts';
import { walkExpr, walkTerm } from '../ast.ts';
import { hoistNegatedOperands } from './negation.ts';

export interface ResolveScope {
  /** Package path without `data`. */
  packagePath: string[];
  /** Names of rules defined in the package (first element of their head ref). */
  ruleNames: Set<string>;
  /** Import alias → the imported ref. */
  aliases: Map<string, RefTerm>;
  /**
   * Names declared with `:=` later in the body being resolved: a closure before that
   * declaration has its own var of that name (OPA scopes `:=` from the declaration on).
   */
  later?: Set<string>;
  /** The module imports `future.keywords.not`: negations keep their operands (see negation.ts). */
  notBodies?: boolean;
  /**
   * Dotted names of complete rules (`data.pkg.f`). OPA gives a rule with no arguments
   * (`f() := 1`, or `f := 1`) arity 0, so `f()` evaluates it: such a call resolves to the ref.
   */
  valueRules?: ReadonlySet<string>;
}

let renameCounter = 0;

export function scopeForModule(module: Module, ruleNames: Set<string>, valueRules?: ReadonlySet<string>): ResolveScope {
  const aliases = new Map<string, RefTerm>();
  for (const imp of module.imports) {
    const head = imp.path.head.kind === 'var' ? imp.path.head.name : '';
    if (head !== 'data' && head !== 'input') continue;
    const last = imp.path.path[imp.path.path.length - 1];
    const name = imp.alias ?? (last && last.kind === 'string' ? last.value : head);
    if (name !== head) aliases.set(name, imp.path);
  }
  return { packagePath: module.packagePath, ruleNames, aliases, notBodies: module.notBodies, valueRules };
}

/** Resolves one term given the set of names that are local in this scope. */
export function resolveTerm(term: Term, scope: ResolveScope, locals: Set<string>): Term {
  switch (term.kind) {
    case 'var':
      return resolveVar(term.name, term.loc, scope, locals) ?? term;
    case 'ref': {
      const path = term.path.map((p) => resolveTerm(p, scope, locals));
      if (term.head.kind === 'var') {
        const head = resolveVar(term.head.name, term.head.loc, scope, locals);
        if (head && head.kind === 'ref') return { ...term, head: head.head, path: [...head.path, ...path] };
        return { ...term, path };
      }
      return { ...term, head: resolveTerm(term.head, scope, locals), path };
    }
    case 'array':
    case 'set':
      return { ...term, items: term.items.map((t) => resolveTerm(t, scope, locals)) };
    case 'object':
      return { ...term, entries: term.entries.map(([k, v]) => [resolveTerm(k, scope, locals), resolveTerm(v, scope, locals)] as [Term, Term]) };
    case 'call': {
      const args = term.args.map((a) => resolveTerm(a, scope, locals));
      const name = resolveCallName(term.name, scope, locals);
      if (args.length === 0 && scope.valueRules?.has(name)) return dottedRef(name, term.loc);
      return { ...term, name, args };
    }
    case 'template':
      return { ...term, parts: term.parts.map((p) => (typeof p === 'string' ? p : resolveTerm(p, scope, locals))) };
    case 'arraycompr':
    case 'setcompr': {
      const { body, renames, inner } = resolveClosureBody(term.body, scope, locals, []);
      return { ...term, term: resolveTerm(renameTerm(term.term, renames), scope, inner), body };
    }
    case 'objectcompr': {
      const { body, renames, inner } = resolveClosureBody(term.body, scope, locals, []);
      return { ...term, key: resolveTerm(renameTerm(term.key, renames), scope, inner), value: resolveTerm(renameTerm(term.value, renames), scope, inner), body };
    }
    default:
      return term;
  }
}

function resolveVar(name: string, loc: Location, scope: ResolveScope, locals: Set<string>): Term | undefined {
  if (locals.has(name)) return undefined;
  if (name === 'data' || name === 'input') return { kind: 'ref', head: { kind: 'var', name, loc }, path: [], loc };
  const alias = scope.aliases.get(name);
  if (alias) return { ...alias, loc };
  if (scope.ruleNames.has(name)) {
    return {
      kind: 'ref', head: { kind: 'var', name: 'data', loc },
      path: [...scope.packagePath, name].map((p) => ({ kind: 'string', value: p, loc }) as Term), loc,
    };
  }
  return undefined;
}

/** `f` → `data.pkg.f`, `alias.f` → `data.lib.f`; built-in names stay as they are. */
export function resolveCallName(name: string, scope: ResolveScope, locals: Set<string>): string {
  const parts = name.split('.');
  const head = parts[0];
  if (locals.has(head)) return name;
  const alias = scope.aliases.get(head);
  if (alias) return [refDotted(alias), ...parts.slice(1)].join('.');
  if (scope.ruleNames.has(head)) return ['data', ...scope.packagePath, ...parts].join('.');
  return name;
}

/** `data.pkg.f` as a ref term. */
function dottedRef(name: string, loc: Location): RefTerm {
  const [head, ...path] = name.split('.');
  return { kind: 'ref', head: { kind: 'var', name: head, loc }, path: path.map((p) => ({ kind: 'string', value: p, loc }) as Term), loc };
}

function refDotted(ref: RefTerm): string {
  const head = ref.head.kind === 'var' ? ref.head.name : '';
  return [head, ...ref.path.map((p) => (p.kind === 'string' ? p.value : ''))].join('.');
}

/** Names a body declares (`some`, `:=`, `some … in`, `every` vars stay local to every). */
export function declaredVars(body: Body): Set<string> {
  const out = new Set<string>();
  for (const e of body) collectDeclared(e, out);
  return out;
}

function collectDeclared(e: Expr, out: Set<string>): void {
  const n = e.node;
  const addVars = (t: Term) => walkTerm(t, (x) => {
    if (x.kind === 'var') out.add(x.name);
    if (x.kind === 'ref') return false;
  });
  if (n.type === 'some') for (const v of n.vars) addVars(v);
  if (n.type === 'assign') addVars(n.left);
  if (n.type === 'somein') {
    if (n.key) addVars(n.key);
    addVars(n.value);
  }
}

/** Every var name used in a body outside nested closures. */
export function bodyVars(body: Body): Set<string> {
  const out = new Set<string>();
  for (const e of body) exprVars(e, out);
  return out;
}

export function exprVars(e: Expr, out: Set<string>): void {
  const n = e.node;
  // Braced groups, and/or operands and `every` bodies are scopes of their own.
  if (n.type === 'group' || n.type === 'logic') return;
  if (n.type === 'every') {
    walkTerm(n.domain, (t) => void (t.kind === 'var' && out.add(t.name)));
    return;
  }
  walkExpr(e, (t) => {
    if (t.kind === 'var') out.add(t.name);
    if (t.kind === 'arraycompr' || t.kind === 'setcompr' || t.kind === 'objectcompr') return false;
  });
}

/**
 * Resolves a closure body. Vars the closure declares that also exist outside are renamed
 * so they do not capture the outer binding.
 */
export function resolveClosureBody(body: Body, scope: ResolveScope, outer: Set<string>, extraDeclared: Term[]): { body: Body; renames: Map<string, string>; inner: Set<string> } {
  const declared = declaredVars(body);
  for (const t of extraDeclared) walkTerm(t, (x) => void (x.kind === 'var' && declared.add(x.name)));
  const renames = new Map<string, string>();
  for (const name of declared) {
    if (outer.has(name) || scope.ruleNames.has(name) || scope.aliases.has(name)) renames.set(name, `${name}$${++renameCounter}`);
  }
  if (scope.later?.size) {
    for (const e of body) {
      walkExpr(e, (t) => {
        if (t.kind === 'var' && scope.later!.has(t.name) && !renames.has(t.name)) renames.set(t.name, `${t.name}$${++renameCounter}`);
      });
    }
  }
  const renamed = renames.size ? body.map((e) => renameExpr(e, renames)) : body;
  const inner = new Set(outer);
  for (const name of declared) inner.add(renames.get(name) ?? name);
  for (const name of bodyVars(renamed)) {
    if (!scope.ruleNames.has(name) && !scope.aliases.has(name) && name !== 'data' && name !== 'input') inner.add(name);
  }
  return { body: resolveBody(renamed, scope, inner), renames, inner };
}

export function resolveBody(body: Body, scope: ResolveScope, locals: Set<string>): Body {
  const saved = scope.later;
  const assignedAt = body.map((e) => (e.node.type === 'assign' ? declaredVars([e]) : new Set<string>()));
  try {
    const resolved = body.map((e, i) => {
      const later = new Set<string>();
      for (let j = i + 1; j < body.length; j++) for (const name of assignedAt[j]) later.add(name);
      for (let j = 0; j <= i; j++) for (const name of assignedAt[j]) later.delete(name);
      scope.later = later;
      return resolveExpr(e, scope, locals);
    });
    return scope.notBodies ? resolved : hoistNegatedOperands(resolved);
  } finally {
    scope.later = saved;
  }
}

function resolveExpr(e: Expr, scope: ResolveScope, locals: Set<string>): Expr {
  const r = (t: Term) => resolveTerm(t, scope, locals);
  const n = e.node;
  let node: ExprNode;
  switch (n.type) {
    case 'term': node = { type: 'term', term: r(n.term) }; break;
    case 'unify': node = { type: 'unify', left: r(n.left), right: r(n.right) }; break;
    case 'assign': node = { type: 'assign', left: r(n.left), right: r(n.right) }; break;
    case 'some': node = n; break;
    case 'somein': node = { type: 'somein', key: n.key && r(n.key), value: r(n.value), collection: r(n.collection) }; break;
    case 'every': {
      const extra = n.key ? [n.key, n.value] : [n.value];
      const wrapped = resolveClosureBody([{ kind: 'expr', negated: false, node: { type: 'some', vars: extra }, with: [], loc: e.loc }, ...n.body], scope, locals, []);
      const key = n.key && renameTerm(n.key, wrapped.renames);
      const value = renameTerm(n.value, wrapped.renames);
      node = { type: 'every', key, value, domain: r(n.domain), body: wrapped.body.slice(1) };
      break;
    }
    case 'logic': node = { type: 'logic', op: n.op, left: resolveExpr(n.left, scope, locals), right: resolveExpr(n.right, scope, locals) }; break;
    case 'group': node = { type: 'group', body: resolveClosureBody(n.body, scope, locals, []).body }; break;
  }
  return { ...e, node, with: e.with.map((w) => ({ ...w, target: resolveWithTarget(w.target, scope, locals), value: r(w.value) })) };
}

/** `with` targets name input/data paths or functions; functions resolve like call names. */
function resolveWithTarget(target: Term, scope: ResolveScope, locals: Set<string>): Term {
  const resolved = resolveTerm(target, scope, new Set([...locals].filter((l) => l !== 'input' && l !== 'data')));
  return resolved;
}

// ---- renaming --------------------------------------------------------------------------------

export function renameTerm(t: Term, renames: Map<string, string>): Term {
  if (renames.size === 0) return t;
  switch (t.kind) {
    case 'var': {
      const to = renames.get(t.name);
      return to ? { ...t, name: to } : t;
    }
    case 'ref': return { ...t, head: renameTerm(t.head, renames), path: t.path.map((p) => renameTerm(p, renames)) };
    case 'array':
    case 'set': return { ...t, items: t.items.map((i) => renameTerm(i, renames)) };
    case 'object': return { ...t, entries: t.entries.map(([k, v]) => [renameTerm(k, renames), renameTerm(v, renames)] as [Term, Term]) };
    case 'call': {
      const head = t.name.split('.')[0];
      const to = renames.get(head);
      return { ...t, name: to ? [to, ...t.name.split('.').slice(1)].join('.') : t.name, args: t.args.map((a) => renameTerm(a, renames)) };
    }
    case 'template': return { ...t, parts: t.parts.map((p) => (typeof p === 'string' ? p : renameTerm(p, renames))) };
    case 'arraycompr':
    case 'setcompr': return { ...t, term: renameTerm(t.term, renames), body: t.body.map((e) => renameExpr(e, renames)) };
    case 'objectcompr': return { ...t, key: renameTerm(t.key, renames), value: renameTerm(t.value, renames), body: t.body.map((e) => renameExpr(e, renames)) };
    default: return t;
  }
}

export function renameExpr(e: Expr, renames: Map<string, string>): Expr {
  const r = (t: Term) => renameTerm(t, renames);
  const n = e.node;
  let node: ExprNode;
  switch (n.type) {
    case 'term': node = { type: 'term', term: r(n.term) }; break;
    case 'unify': node = { type: 'unify', left: r(n.left), right: r(n.right) }; break;
    case 'assign': node = { type: 'assign', left: r(n.left), right: r(n.right) }; break;
    case 'some': node = { type: 'some', vars: n.vars.map(r) }; break;
    case 'somein': node = { type: 'somein', key: n.key && r(n.key), value: r(n.value), collection: r(n.collection) }; break;
    case 'every': node = { type: 'every', key: n.key && r(n.key), value: r(n.value), domain: r(n.domain), body: n.body.map((x) => renameExpr(x, renames)) }; break;
    case 'logic': node = { type: 'logic', op: n.op, left: renameExpr(n.left, renames), right: renameExpr(n.right, renames) }; break;
    case 'group': node = { type: 'group', body: n.body.map((x) => renameExpr(x, renames)) }; break;
  }
  return { ...e, node, with: e.with.map((w) => ({ ...w, target: w.target, value: r(w.value) })) };
}
