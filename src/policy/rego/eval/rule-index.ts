/**
 * Rule indexing. A rule whose body requires `input.<path> == "<literal>"` (see
 * compiler/index-hint.ts) can only succeed for that one input value. When many rules of a
 * node test the same input path (RBAC and admission policies dispatch on `input.action`,
 * `input.kind`, …), they are grouped in a map from the literal to the rules, so one lookup
 * replaces a scan over every rule.
 */
import type { CompiledRule, TreeNode } from '../compiler/tree.ts';
import { RObject, type Value } from '../value.ts';

/** Below this many guarded rules a plain scan is as fast as the map. */
const MIN_INDEXED = 8;

interface NodeIndex {
  path: string[];
  byValue: Map<string, CompiledRule[]>;
  /** Rules without a guard on `path`: always candidates. */
  others: CompiledRule[];
}

const indexes = new WeakMap<TreeNode, NodeIndex | null>();

function buildIndex(node: TreeNode): NodeIndex | null {
  const counts = new Map<string, number>();
  for (const r of node.rules) if (r.indexHint) counts.set(r.indexHint.path.join('\u0000'), (counts.get(r.indexHint.path.join('\u0000')) ?? 0) + 1);
  let best: string | undefined;
  for (const [key, n] of counts) if (n >= MIN_INDEXED && (best === undefined || n > counts.get(best)!)) best = key;
  if (best === undefined) return null;
  const byValue = new Map<string, CompiledRule[]>();
  const others: CompiledRule[] = [];
  for (const r of node.rules) {
    if (r.indexHint && r.indexHint.path.join('\u0000') === best) {
      let list = byValue.get(r.indexHint.value);
      if (!list) byValue.set(r.indexHint.value, (list = []));
      list.push(r);
    } else others.push(r);
  }
  return { path: best.split('\u0000'), byValue, others };
}

function inputAt(input: Value | undefined, path: string[]): Value | undefined {
  let v = input;
  for (const p of path) {
    if (!(v instanceof RObject)) return undefined;
    v = v.get(p);
  }
  return v;
}

/** The rules of a node that can succeed for this input, in their original relative order. */
export function candidateRules(node: TreeNode, input: Value | undefined): CompiledRule[] {
  let index = indexes.get(node);
  if (index === undefined) {
    index = buildIndex(node);
    indexes.set(node, index);
  }
  if (!index) return node.rules.some((r) => r.indexHint) ? node.rules.filter((r) => passesGuard(r, input)) : node.rules;
  return [...index.others, ...indexValue(index, input)].filter((r) => passesGuard(r, input));
}

function indexValue(index: NodeIndex, input: Value | undefined): CompiledRule[] {
  const v = inputAt(input, index.path);
  return typeof v === 'string' ? index.byValue.get(v) ?? [] : [];
}

/** A rule's own guard (for rules outside the map, or guarded on another path). */
export function passesGuard(rule: CompiledRule, input: Value | undefined): boolean {
  const hint = rule.indexHint;
  return !hint || inputAt(input, hint.path) === hint.value;
}
