/**
 * Documents under `data`: walks the rule tree, merging base data with virtual documents
 * produced by rules (complete, partial set, partial object, multi-level ref heads), and
 * caches each node's value for the rest of the query.
 */
import type { Body, Term } from '../ast.ts';
import type { CompiledRule, TreeNode } from '../compiler/tree.ts';
import { RNumber, RObject, RSet, equal, type Value } from '../value.ts';
import { RegoEvalError } from '../errors.ts';
import { UNDEFINED_RESULT } from './state.ts';
import { lookup, type Evaluator, type VK } from './evaluator.ts';
import { Env } from './env.ts';
import { candidateRules } from './rule-index.ts';
import { resultFn } from './compile.ts';
import { constantTerm } from './ground.ts';

/** Where a ref's constant prefix leads in the rule tree, computed once per ref. */
const prefixCache = new WeakMap<Term[], { node: TreeNode; index: number }>();

export function evalDataRef(ev: Evaluator, path: Term[], env: Env, k: VK): boolean {
  if (ev.state.overrides.size) return walkNode(ev, ev.policy.root, path, 0, env, k);
  const start = dataStart(ev, path);
  return walkNode(ev, start.node, path, start.index, env, k);
}

/** The deepest rule-free tree node a ref's constant prefix reaches (valid without overrides). */
export function dataStart(ev: Evaluator, path: Term[]): { node: TreeNode; index: number } {
  let start = prefixCache.get(path);
  if (!start) {
    // Skip the interior nodes (packages) that a constant prefix passes through.
    let node = ev.policy.root;
    let index = 0;
    while (index < path.length && !node.rules.length && !node.defaultRule) {
      const p = path[index];
      const child = p.kind === 'string' ? node.children.get(p.value) : undefined;
      if (!child) break;
      node = child;
      index++;
    }
    start = { node, index };
    prefixCache.set(path, start);
  }
  return start;
}

function walkNode(ev: Evaluator, node: TreeNode, path: Term[], i: number, env: Env, k: VK): boolean {
  const overrides = ev.state.overrides;
  if (overrides.size) {
    const o = overrides.get(pathKey(node.path));
    if (o) return ev.navigate(o.value, path, i, env, k);
  }
  if (node.rules.length || node.defaultRule) {
    if (node.isFunction) return false;
    const v = nodeValue(ev, node);
    return v === undefined ? false : ev.navigate(v, path, i, env, k);
  }
  if (i === path.length) {
    const doc = fullDoc(ev, node);
    return doc === undefined ? false : k(doc);
  }
  const p = path[i];
  if (p.kind === 'string') return stepInto(ev, node, p.value, path, i, env, k);
  if (ev.hasUnboundPattern(p, env)) {
    const doc = fullDoc(ev, node);
    return doc === undefined ? false : ev.navigate(doc, path, i, env, k);
  }
  return ev.evalTerm(p, env, (key) => {
    if (typeof key === 'string') return stepInto(ev, node, key, path, i, env, k);
    // Base documents are keyed by strings; OPA reads `data.x[2]` as the key "2".
    if (key instanceof RNumber && key.isInteger() && !(baseAt(ev, node.path) instanceof Array)) return stepInto(ev, node, key.toString(), path, i, env, k);
    const base = baseAt(ev, node.path);
    const child = base === undefined ? undefined : lookup(base, key);
    return child === undefined ? false : ev.navigate(child, path, i + 1, env, k);
  });
}

function stepInto(ev: Evaluator, node: TreeNode, key: string, path: Term[], i: number, env: Env, k: VK): boolean {
  const child = node.children.get(key);
  if (child) return walkNode(ev, child, path, i + 1, env, k);
  const base = baseAt(ev, [...node.path, key]);
  return base === undefined ? false : navigateBase(ev, base, path, i + 1, env, k);
}

/**
 * Navigation inside base documents: their objects come from JSON, so OPA reads an integer
 * key as its string form (`data.nested[2]` finds key "2").
 */
function navigateBase(ev: Evaluator, value: Value, path: Term[], i: number, env: Env, k: VK): boolean {
  if (i === path.length) return k(value);
  const p = path[i];
  if (!(value instanceof RObject) || p.kind === 'string' || ev.hasUnboundPattern(p, env)) {
    return ev.navigate(value, path.slice(i), 0, env, k);
  }
  return ev.evalTerm(p, env, (key) => {
    const child = value.get(baseKey(key));
    return child === undefined ? false : navigateBase(ev, child, path, i + 1, env, k);
  });
}

export function baseKey(key: Value): Value {
  return key instanceof RNumber && key.isInteger() ? key.toString() : key;
}

export function pathKey(path: string[]): string {
  return path.join('\u0000');
}

/** Base data at a path (after `with data…` overrides, which are applied to the base too). */
export function baseAt(ev: Evaluator, path: string[]): Value | undefined {
  let v: Value | undefined = ev.state.data;
  for (const p of path) {
    if (!(v instanceof RObject)) return undefined;
    v = v.get(p);
    if (v === undefined) return undefined;
  }
  return v;
}

/** The whole document at a node: rule values, child documents and base data merged. */
export function fullDoc(ev: Evaluator, node: TreeNode): Value | undefined {
  const o = ev.state.overrides.get(pathKey(node.path));
  if (o) return o.value;
  if (node.isFunction) return undefined;
  if (node.rules.length || node.defaultRule) return nodeValue(ev, node);
  const cached = ev.state.docCache.get(node.id);
  if (cached !== undefined) return cached === UNDEFINED_RESULT ? undefined : cached;
  const base = baseAt(ev, node.path);
  let result: Value | undefined;
  if (node.children.size === 0) result = base ?? (node.isPackage ? new RObject() : undefined);
  else {
    const out = new RObject();
    if (base instanceof RObject) for (const [key, value] of base.entries()) out.set(key, value);
    for (const [name, child] of node.children) {
      const d = fullDoc(ev, child);
      if (d !== undefined) out.set(name, d);
    }
    result = out;
  }
  ev.state.docCache.set(node.id, result === undefined ? UNDEFINED_RESULT : result);
  return result;
}

/** The value of the rules at a node, computed once per query (per `with` scope). */
export function nodeValue(ev: Evaluator, node: TreeNode): Value | undefined {
  const cached = ev.state.docCache.get(node.id);
  if (cached !== undefined) return cached === UNDEFINED_RESULT ? undefined : cached;
  const inProgress = ev.state.inProgress;
  if (inProgress.has(node.id)) {
    throw new RegoEvalError('rego_recursion_error', `rule data.${node.path.join('.')} is recursive`, node.rules[0]?.loc);
  }
  // Base data at the same path takes precedence over rules, as in OPA.
  const base = ev.state.data.size ? baseAt(ev, node.path) : undefined;
  if (base !== undefined) {
    ev.state.docCache.set(node.id, base);
    return base;
  }
  inProgress.add(node.id);
  let result: Value | undefined;
  try {
    result = computeRules(ev, node);
  } finally {
    inProgress.delete(node.id);
  }
  if (result === undefined && node.defaultRule) result = defaultValue(ev, node.defaultRule);
  if (node.children.size && (result === undefined || result instanceof RObject)) result = mergeChildren(ev, node, result);
  ev.state.docCache.set(node.id, result === undefined ? UNDEFINED_RESULT : result);
  return result;
}

/** Merges the documents of child nodes into the value of a node's own (dynamic) rules. */
function mergeChildren(ev: Evaluator, node: TreeNode, result: RObject | undefined): Value | undefined {
  const out = new RObject();
  if (result) for (const [key, value] of result.entries()) out.set(key, value);
  let any = result !== undefined;
  for (const [name, child] of node.children) {
    const d = fullDoc(ev, child);
    if (d === undefined) continue;
    const prev = out.get(name);
    out.set(name, prev === undefined ? d : mergeValues(prev, d, child));
    any = true;
  }
  return any ? out : undefined;
}

/**
 * Values a rule produced as a whole (`p.q := {…}`, the value of `p[k] := v`): other rules
 * may build around them but never inside them.
 */
const ruleValues = new WeakSet<RObject | RSet>();

function markRuleValue(v: Value): Value {
  if (v instanceof RObject || v instanceof RSet) ruleValues.add(v);
  return v;
}

/** Two rules defining overlapping paths: objects merge, sets union, anything else conflicts. */
function mergeValues(a: Value, b: Value, node: TreeNode): Value {
  if (equal(a, b)) return a;
  const atomic = (a instanceof RObject || a instanceof RSet) && ruleValues.has(a) || (b instanceof RObject || b instanceof RSet) && ruleValues.has(b);
  if (a instanceof RSet && b instanceof RSet && !atomic) return RSet.from([...a.values(), ...b.values()]);
  if (a instanceof RObject && b instanceof RObject && !atomic) {
    const out = RObject.from(a.entries());
    for (const [k, v] of b.entries()) {
      const prev = out.get(k);
      out.set(k, prev === undefined ? v : mergeValues(prev, v, node));
    }
    return out;
  }
  throw new RegoEvalError('eval_conflict_error', 'object keys must be unique', node.rules[0]?.loc ?? node.defaultRule?.loc);
}

export function defaultValue(ev: Evaluator, rule: CompiledRule): Value | undefined {
  let out: Value | undefined;
  ev.evalTerm(rule.clauses[0].value, new Env(), (v) => {
    out = v;
    return true;
  });
  return out;
}

/** What the rules of one node have produced so far. */
interface RuleResults {
  complete: Value | undefined;
  partial: RObject | RSet | undefined;
}

function computeRules(ev: Evaluator, node: TreeNode): Value | undefined {
  const results: RuleResults = { complete: undefined, partial: undefined };
  for (const rule of candidateRules(node, ev.state.input)) {
    if (!ev.tracksRules) {
      evalRule(ev, rule, results);
      continue;
    }
    ev.ruleStack.push(rule);
    try {
      evalRule(ev, rule, results);
    } finally {
      ev.ruleStack.pop();
    }
  }
  const { complete, partial } = results;
  if (complete !== undefined) return markRuleValue(complete);
  // A partial rule skipped by the rule index still defines its document: an empty one, as when
  // its body runs and fails.
  const skippedPartial = partial === undefined ? node.rules.find((rule) => rule.kind !== 'complete') : undefined;
  return skippedPartial ? emptyPartial(skippedPartial) : partial;
}

const constantRules = new WeakMap<CompiledRule, Value | null>();

/**
 * The value of a rule that is a plain constant (`max_cpu := 4000`, `allowed := {"a", "b"}`:
 * one clause, an always-true body, a constant value), found once per rule; else undefined.
 */
function constantRuleValue(rule: CompiledRule): Value | undefined {
  let v = constantRules.get(rule);
  if (v === undefined) {
    const [clause, ...elses] = rule.clauses;
    v = elses.length === 0 && isTrivialBody(clause.body) ? constantTerm(clause.value) ?? null : null;
    constantRules.set(rule, v);
  }
  return v ?? undefined;
}

/** A body of just `true`, as the parser gives rules written without one. */
function isTrivialBody(body: Body): boolean {
  if (body.length !== 1) return false;
  const e = body[0];
  return !e.negated && e.with.length === 0 && e.node.type === 'term' && e.node.term.kind === 'boolean' && e.node.term.value;
}

/** Adds one rule's value (complete rules) or members (partial rules) to a node's results. */
function evalRule(ev: Evaluator, rule: CompiledRule, results: RuleResults): void {
  if (rule.kind === 'complete') {
    const emit = (v: Value) => {
      if (results.complete !== undefined && !equal(results.complete, v)) {
        throw new RegoEvalError('eval_conflict_error', 'complete rules must not produce multiple outputs', rule.loc);
      }
      results.complete = v;
      return false;
    };
    const constant = constantRuleValue(rule);
    if (constant !== undefined) emit(constant);
    else evalRuleClauses(ev, rule, new Env(), emit);
    return;
  }
  const target = (results.partial ??= emptyPartial(rule));
  evalPartialRule(ev, rule, (keys, value) => insertPartial(target, keys, value, rule));
}

function emptyPartial(rule: CompiledRule): RObject | RSet {
  return rule.kind === 'set' && rule.keyPath.length === 0 ? new RSet() : new RObject();
}

/**
 * Runs a rule's clauses: the first clause whose body has a solution produces the values
 * (one per solution); later `else` clauses only run when the earlier ones are undefined.
 */
export function evalRuleClauses(ev: Evaluator, rule: CompiledRule, env: Env, emit: VK): boolean {
  for (const clause of rule.clauses) {
    let found = false;
    let haltedByEmit = false;
    // A constant value (`allow if …`, `f(x) := true if …`) is the same for every solution,
    // so the search can stop at the first one.
    const constant = isConstant(clause.value);
    ev.evalBody(clause.body, 0, env, () => {
      found = true;
      if (ev.evalTerm(clause.value, env, emit)) {
        haltedByEmit = true;
        return true;
      }
      return constant;
    });
    if (haltedByEmit) return true;
    if (found) return false;
  }
  return false;
}

export function isConstant(t: Term): boolean {
  return t.kind === 'boolean' || t.kind === 'string' || t.kind === 'number' || t.kind === 'null';
}

type PartialEmit = (keys: Value[], value: Value) => void;

function evalPartialRule(ev: Evaluator, rule: CompiledRule, emit: PartialEmit): void {
  const env = new Env();
  const clause = rule.clauses[0];
  if (rule.kind === 'set' && rule.keyPath.length === 0) {
    // The common `p contains x if …`: no key path to build.
    const none: Value[] = [];
    const member = rule.key!;
    const memberFn = resultFn(ev, rule, clause.body, member);
    if (memberFn) {
      ev.evalBody(clause.body, 0, env, () => {
        const m = memberFn(ev, env);
        if (m !== undefined) emit(none, m);
        return false;
      });
    } else {
      ev.evalBody(clause.body, 0, env, () => ev.evalTerm(member, env, (m) => (emit(none, m), false)));
    }
    return;
  }
  ev.evalBody(clause.body, 0, env, () => ev.evalTerms(rule.keyPath, 0, [], env, (keys) => {
    if (rule.kind === 'set') return ev.evalTerm(rule.key!, env, (member) => (emit(keys, member), false));
    return ev.evalTerm(clause.value, env, (value) => (emit(keys, value), false));
  }));
}

function insertPartial(root: RObject | RSet, keys: Value[], value: Value, rule: CompiledRule): void {
  if (root instanceof RSet) {
    root.add(value);
    return;
  }
  let container: RObject = root;
  const last = rule.kind === 'set' ? keys.length : keys.length - 1;
  for (let i = 0; i < last; i++) {
    let next = container.get(keys[i]);
    if (next === undefined) {
      next = i === last - 1 && rule.kind === 'set' ? new RSet() : new RObject();
      container.set(keys[i], next);
    } else if ((next instanceof RObject || next instanceof RSet) && ruleValues.has(next)) {
      // Another rule's value (`p[k] := {…}`) is shared (a constant, input, a cached rule
      // value): extend a copy of it, never the value itself.
      next = markRuleValue(next instanceof RObject ? RObject.from(next.entries()) : RSet.from(next.values())) as RObject | RSet;
      container.set(keys[i], next);
    }
    if (next instanceof RSet && rule.kind === 'set' && i === last - 1) {
      next.add(value);
      return;
    }
    if (!(next instanceof RObject)) throw new RegoEvalError('eval_conflict_error', 'object keys must be unique', rule.loc);
    container = next;
  }
  const key = keys[keys.length - 1];
  const prev = container.get(key);
  if (prev !== undefined && !equal(prev, value)) {
    throw new RegoEvalError('eval_conflict_error', 'object keys must be unique', rule.loc);
  }
  container.set(key, markRuleValue(value));
}
