/**
 * `rego.metadata.rule()` and `rego.metadata.chain()`: the METADATA annotations that apply
 * to the rule being evaluated, in OPA's normalised JSON form.
 */
import type { Annotations, Body, Expr, Term } from '../ast.ts';
import { refToDotted, walkExpr, walkTerm } from '../ast.ts';
import type { CompiledPolicy } from '../compiler/index.ts';
import type { TreeNode } from '../compiler/tree.ts';
import { fromJS, RObject, type Value } from '../value.ts';
import type { Evaluator } from './evaluator.ts';

const METADATA_FUNCTIONS = new Set(['rego.metadata.rule', 'rego.metadata.chain']);

const readsMetadata = new WeakMap<CompiledPolicy, boolean>();

/**
 * Whether a policy (or a query on it) can read the metadata of the rule being evaluated:
 * whether it calls `rego.metadata.rule`/`rego.metadata.chain` or names one (as a `with`
 * replacement). Only then does the evaluator keep its stack of rules being evaluated.
 */
export function readsRuleMetadata(policy: CompiledPolicy, query: Body): boolean {
  let policyReads = readsMetadata.get(policy);
  if (policyReads === undefined) {
    policyReads = nodeReadsMetadata(policy.root);
    readsMetadata.set(policy, policyReads);
  }
  return policyReads || query.some(exprReadsMetadata);
}

function nodeReadsMetadata(node: TreeNode): boolean {
  const rules = node.defaultRule ? [...node.rules, node.defaultRule] : node.rules;
  for (const rule of rules) {
    const terms = [...rule.keyPath, ...(rule.key ? [rule.key] : []), ...(rule.args ?? [])];
    if (terms.some(termReadsMetadata)) return true;
    for (const clause of rule.clauses) {
      if (termReadsMetadata(clause.value) || clause.body.some(exprReadsMetadata)) return true;
    }
  }
  for (const child of node.children.values()) if (nodeReadsMetadata(child)) return true;
  return false;
}

function exprReadsMetadata(e: Expr): boolean {
  let found = false;
  walkExpr(e, (t) => void (found ||= namesMetadataFunction(t)));
  return found;
}

function termReadsMetadata(t: Term): boolean {
  let found = false;
  walkTerm(t, (x) => void (found ||= namesMetadataFunction(x)));
  return found;
}

function namesMetadataFunction(t: Term): boolean {
  if (t.kind === 'call') return METADATA_FUNCTIONS.has(t.name);
  const dotted = refToDotted(t);
  return dotted !== undefined && METADATA_FUNCTIONS.has(dotted);
}

export function metadataRule(ev: Evaluator): Value {
  const rule = ev.ruleStack[ev.ruleStack.length - 1];
  const ann = rule?.rule.annotations;
  return ann && ann.scope === 'rule' ? normalise(ann) : new RObject();
}

export function metadataChain(ev: Evaluator): Value {
  const rule = ev.ruleStack[ev.ruleStack.length - 1];
  if (!rule) return [];
  const chain: Value[] = [];
  const own = rule.rule.annotations;
  const rulePath = rule.path;
  chain.push(entry(rulePath, own && own.scope === 'rule' ? own : undefined));
  for (const m of ev.policy.modules) {
    for (const r of m.rules) {
      const a = r.annotations;
      if (!a || a.scope !== 'document' || r === rule.rule) continue;
      const ref0 = r.head.ref[0];
      if (ref0.kind === 'var' && [...m.packagePath, ref0.name].join('.') === rulePath.join('.')) chain.push(entry(rulePath, a));
    }
  }
  const pkg = rulePath.slice(0, -1);
  for (const m of ev.policy.modules) {
    if (m.packagePath.join('.') !== pkg.join('.')) continue;
    for (const a of m.annotations) if (a.scope === 'package') chain.push(entry(pkg, a));
  }
  for (let len = pkg.length; len > 0; len--) {
    const prefix = pkg.slice(0, len);
    for (const m of ev.policy.modules) {
      if (m.packagePath.join('.') !== prefix.join('.')) continue;
      for (const a of m.annotations) if (a.scope === 'subpackages') chain.push(entry(prefix, a));
    }
  }
  return chain;
}

function entry(path: string[], ann: Annotations | undefined): Value {
  const o = new RObject();
  o.set('path', path.slice());
  if (ann) o.set('annotations', normalise(ann));
  return o;
}

function normalise(ann: Annotations): Value {
  const data: Record<string, unknown> = { ...ann.data, scope: ann.scope };
  if (Array.isArray(data.authors)) data.authors = data.authors.map(author);
  if (Array.isArray(data.related_resources)) {
    data.related_resources = data.related_resources.map((r) => (typeof r === 'string' ? { ref: r } : r));
  }
  return fromJS(data);
}

function author(a: unknown): unknown {
  if (typeof a !== 'string') return a;
  const m = /^(.*?)\s*<([^>]+)>$/.exec(a.trim());
  if (m) return m[1] ? { name: m[1], email: m[2] } : { email: m[2] };
  return { name: a.trim() };
}
