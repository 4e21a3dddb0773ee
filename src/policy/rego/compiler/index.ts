/**
 * Compiles parsed modules into a rule tree: resolves names, checks safety and reorders
 * bodies, and classifies every rule (complete, partial set, partial object, function).
 */
import type { Body, Module, Rule, Term } from '../ast.ts';
import { walkTerm } from '../ast.ts';
import { RegoError, type RegoErrorDetail } from '../errors.ts';
import { BUILTINS } from '../builtins/index.ts';
import { bodyVars, declaredVars, resolveBody, resolveTerm, scopeForModule, type ResolveScope } from './resolve.ts';
import { SafetyChecker } from './safety.ts';
import { newNode, nodeAt, type CompiledClause, type CompiledRule, type RuleKind, type TreeNode } from './tree.ts';
import { indexHintFor } from './index-hint.ts';
import { checkCalls, checkRecursion } from './checks.ts';
import { strictChecks } from './strict.ts';

export interface CompileOptions {
  regoVersion?: 'v0' | 'v1';
  strict?: boolean;
}

export interface CompiledPolicy {
  root: TreeNode;
  modules: Module[];
  /** Arity of user functions by dotted name (`data.pkg.f`). */
  functionArity: Map<string, number>;
  /** Dotted names of complete rules: `f()` calls one like a function of no arguments, as OPA does. */
  valueRules: Set<string>;
}

/** Evaluator-only built-ins that are not in the table. */
const SPECIAL_ARITY: Record<string, number> = {
  walk: 1, print: -1, trace: 1, 'rego.metadata.chain': 0, 'rego.metadata.rule': 0, 'rego.parse_module': 2,
  'internal.print': 1, 'opa.runtime': 0,
};

export function compileModules(modules: Module[], options: CompileOptions = {}): CompiledPolicy {
  const root = newNode('data', []);
  const functionArity = new Map<string, number>();
  const valueRules = new Set<string>();
  const ruleNames = collectRuleNames(modules);
  // First pass: function arities, needed to recognise `f(x, out)` output arguments, and the
  // complete rules that `f()` may call.
  for (const m of modules) {
    for (const rule of m.rules) {
      const { prefix, rest } = splitHead(m, rule);
      const name = ['data', ...prefix].join('.');
      if (rule.head.args) functionArity.set(name, rule.head.args.length);
      else if (rest.length === 0 && !rule.head.key) valueRules.add(name);
    }
  }
  const arityOf = (name: string): number | undefined => arityFor(name, functionArity);
  const errors: RegoErrorDetail[] = [];
  for (const m of modules) {
    nodeAt(root, m.packagePath, true)!.isPackage = true;
    const scope = scopeForModule(m, ruleNames.get(m.packagePath.join('.')) ?? new Set(), valueRules);
    for (const rule of m.rules) {
      const safety = new SafetyChecker(arityOf);
      const compiled = compileRule(m, rule, scope, safety);
      errors.push(...safety.errors);
      const node = nodeAt(root, compiled.path, true)!;
      if (compiled.kind === 'function') {
        node.isFunction = true;
        node.arity = compiled.args!.length;
      }
      if (compiled.isDefault) {
        if (node.defaultRule) errors.push({ code: 'rego_type_error', message: `multiple default rules ${['data', ...compiled.path].join('.')} found`, location: rule.loc });
        node.defaultRule = compiled;
      } else node.rules.push(compiled);
    }
  }
  if (options.strict) for (const m of modules) strictChecks(m, errors);
  if (errors.length === 0) {
    for (const rule of allRules(root)) {
      const terms = [...rule.keyPath, ...(rule.key ? [rule.key] : []), ...rule.clauses.map((c) => c.value)];
      checkCalls(terms, rule.clauses.map((c) => c.body), functionArity, errors);
    }
    checkRecursion(root, errors);
  }
  if (errors.length) throw new RegoError(errors);
  return { root, modules, functionArity, valueRules };
}

function allRules(node: TreeNode): CompiledRule[] {
  const out = [...node.rules, ...(node.defaultRule ? [node.defaultRule] : [])];
  for (const c of node.children.values()) out.push(...allRules(c));
  return out;
}

export function arityFor(name: string, functionArity: Map<string, number>): number | undefined {
  const fn = functionArity.get(name);
  if (fn !== undefined) return fn;
  const special = SPECIAL_ARITY[name];
  if (special !== undefined) return special < 0 ? undefined : special;
  return BUILTINS.get(name)?.args.length;
}

function collectRuleNames(modules: Module[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const m of modules) {
    const key = m.packagePath.join('.');
    let names = out.get(key);
    if (!names) out.set(key, (names = new Set()));
    for (const r of m.rules) {
      const head = r.head.ref[0];
      if (head.kind === 'var') names.add(head.name);
    }
  }
  return out;
}

/** Splits a rule head ref into its ground string prefix (full data path) and the rest. */
function splitHead(m: Module, rule: Rule): { prefix: string[]; rest: Term[] } {
  const ref = rule.head.ref;
  const prefix = [...m.packagePath, (ref[0] as Term & { kind: 'var' }).name];
  let i = 1;
  for (; i < ref.length; i++) {
    const t = ref[i];
    if (t.kind !== 'string') break;
    prefix.push(t.value);
  }
  return { prefix, rest: ref.slice(i) };
}

function compileRule(m: Module, rule: Rule, scope: ResolveScope, safety: SafetyChecker): CompiledRule {
  const { prefix, rest } = splitHead(m, rule);
  const head = rule.head;
  let kind: RuleKind = 'complete';
  if (head.args) kind = 'function';
  else if (head.key) kind = 'set';
  else if (rest.length) kind = 'object';
  const locals = ruleLocals(rule, rest, scope);
  const r = (t: Term) => resolveTerm(t, scope, locals);
  const args = head.args?.map(r);
  const argVars = new Set<string>();
  // Template-string parameters are built after the body (see callWithDeferredParams).
  for (const a of args ?? []) if (a.kind !== 'template') walkTerm(a, (t) => void (t.kind === 'var' && argVars.add(t.name)));
  const keyPath = rest.map(r);
  const key = head.key && r(head.key);
  const headTerms = [...keyPath, ...(key ? [key] : [])];
  const trueTerm: Term = { kind: 'boolean', value: true, loc: head.loc };
  const clauses: CompiledClause[] = [];
  const addClause = (value: Term, body: Body, loc: typeof rule.loc) => {
    const resolved = resolveBody(body, scope, locals);
    const ordered = safety.orderBody(resolved, argVars, locals);
    checkHeadSafe([...headTerms, value], ordered.bound, safety, loc);
    // Comprehensions in the head run after the body: order their bodies with its bindings.
    clauses.push({ value: safety.orderTerm(value, ordered.bound, locals), body: ordered.body, loc });
  };
  addClause(head.value ? r(head.value) : trueTerm, rule.body, rule.loc);
  for (const e of rule.elses) addClause(e.value ? r(e.value) : trueTerm, e.body, e.loc);
  const compiled: CompiledRule = {
    rule, kind, path: prefix, keyPath, key, clauses, args, isDefault: rule.default, file: m.file, loc: rule.loc,
  };
  compiled.indexHint = indexHintFor(compiled);
  return compiled;
}

/** Vars local to a rule: args, declared vars and every body var that names no rule/import. */
function ruleLocals(rule: Rule, rest: Term[], scope: ResolveScope): Set<string> {
  const locals = new Set<string>();
  const addVars = (t: Term) => walkTerm(t, (x) => {
    if (x.kind === 'var') locals.add(x.name);
    if (x.kind === 'ref') return false;
  });
  for (const a of rule.head.args ?? []) addVars(a);
  const bodies = [rule.body, ...rule.elses.map((e) => e.body)];
  for (const b of bodies) for (const d of declaredVars(b)) locals.add(d);
  const candidates = new Set<string>();
  for (const b of bodies) for (const v of bodyVars(b)) candidates.add(v);
  for (const t of [...rest, rule.head.key, rule.head.value, ...rule.elses.map((e) => e.value)]) {
    if (!t) continue;
    walkTerm(t, (x) => {
      if (x.kind === 'var') candidates.add(x.name);
      // A comprehension's own vars are not the rule's.
      if (x.kind === 'arraycompr' || x.kind === 'setcompr' || x.kind === 'objectcompr') return false;
    });
  }
  for (const v of candidates) if (!scope.ruleNames.has(v) && !scope.aliases.has(v) && v !== 'data' && v !== 'input') locals.add(v);
  return locals;
}

function checkHeadSafe(terms: Term[], bound: Set<string>, safety: SafetyChecker, loc: Rule['loc']): void {
  for (const t of terms) {
    if (safety.termValue(t, bound, new Set()) !== null) continue;
    const vars = new Set<string>();
    walkTerm(t, (x) => void (x.kind === 'var' && !bound.has(x.name) && vars.add(x.name)));
    for (const v of vars) safety.errors.push({ code: 'rego_unsafe_var_error', message: `var ${v} is unsafe`, location: loc });
  }
}

/** Compiles a query body against a policy: resolution of `data`/`input` and ordering. */
export function compileQuery(body: Body, policy: CompiledPolicy): Body {
  const scope: ResolveScope = { packagePath: [], ruleNames: new Set(), aliases: new Map(), valueRules: policy.valueRules };
  // Vars inside closures are not query locals: a comprehension's own vars stay its own.
  const locals = bodyVars(body);
  locals.delete('data');
  locals.delete('input');
  for (const d of declaredVars(body)) locals.add(d);
  const resolved = resolveBody(body, scope, locals);
  const safety = new SafetyChecker((n) => arityFor(n, policy.functionArity));
  const ordered = safety.orderBody(resolved, new Set(), locals);
  safety.throwIfErrors();
  const errors: RegoErrorDetail[] = [];
  checkCalls([], [ordered.body], policy.functionArity, errors);
  if (errors.length) throw new RegoError(errors);
  return ordered.body;
}
