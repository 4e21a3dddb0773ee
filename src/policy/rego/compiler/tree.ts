/**
 * The rule tree: one node per ground path segment under `data`, holding the rules whose
 * ground head prefix ends there. Evaluation walks this tree to merge base and virtual docs.
 */
import type { Body, Location, Rule, Term } from '../ast.ts';

export type RuleKind = 'complete' | 'set' | 'object' | 'function';

export interface CompiledClause {
  value: Term;
  body: Body;
  loc: Location;
}

export interface CompiledRule {
  rule: Rule;
  kind: RuleKind;
  /** Full data path of the node the rule belongs to (without `data`). */
  path: string[];
  /** Head ref terms below the node (the non-ground part, e.g. `[x]` for `p[x] := v`). */
  keyPath: Term[];
  /** Member term of `contains` rules. */
  key?: Term;
  /** First clause is the rule itself; further clauses are its `else` chain. */
  clauses: CompiledClause[];
  args?: Term[];
  isDefault: boolean;
  file: string;
  loc: Location;
  /** Index hint: a body literal `input.<path> == "<const>"` that must hold (see eval/index). */
  indexHint?: { path: string[]; value: string };
}

export interface TreeNode {
  name: string;
  path: string[];
  children: Map<string, TreeNode>;
  rules: CompiledRule[];
  defaultRule?: CompiledRule;
  /** True when the node's rules are functions (called, not read as a document). */
  isFunction: boolean;
  /** Number of function args, when a function. */
  arity?: number;
  /** True for a package's node: its document is at least `{}` even with no rules. */
  isPackage?: boolean;
  /** Unique id for caches. */
  id: number;
}

let nodeIds = 0;

export function newNode(name: string, path: string[]): TreeNode {
  return { name, path, children: new Map(), rules: [], isFunction: false, id: nodeIds++ };
}

export function nodeAt(root: TreeNode, path: string[], create: boolean): TreeNode | undefined {
  let node = root;
  for (let i = 0; i < path.length; i++) {
    let child = node.children.get(path[i]);
    if (!child) {
      if (!create) return undefined;
      child = newNode(path[i], path.slice(0, i + 1));
      node.children.set(path[i], child);
    }
    node = child;
  }
  return node;
}
