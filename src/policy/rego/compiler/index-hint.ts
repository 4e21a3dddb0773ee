/**
 * Rule indexing for the most common guard shape: a body literal `input.a.b == "literal"`
 * (or `=`, either side). Before running such a rule, the evaluator compares the input at
 * that path with the literal and skips the whole body when they differ.
 */
import type { Expr, Term } from '../ast.ts';
import type { CompiledRule } from './tree.ts';

export function indexHintFor(rule: CompiledRule): CompiledRule['indexHint'] {
  if (rule.clauses.length !== 1) return undefined;
  for (const expr of rule.clauses[0].body) {
    const hint = hintOf(expr);
    if (hint) return hint;
  }
  return undefined;
}

function hintOf(expr: Expr): CompiledRule['indexHint'] {
  if (expr.negated || expr.with.length) return undefined;
  const n = expr.node;
  let left: Term;
  let right: Term;
  if (n.type === 'unify') {
    left = n.left;
    right = n.right;
  } else if (n.type === 'term' && n.term.kind === 'call' && n.term.name === 'equal' && n.term.args.length === 2) {
    [left, right] = n.term.args;
  } else return undefined;
  const path = inputPath(left) ?? inputPath(right);
  const literal = left.kind === 'string' ? left.value : right.kind === 'string' ? right.value : undefined;
  if (!path || literal === undefined) return undefined;
  return { path, value: literal };
}

function inputPath(t: Term): string[] | undefined {
  if (t.kind !== 'ref' || t.head.kind !== 'var' || t.head.name !== 'input' || t.path.length === 0) return undefined;
  const out: string[] = [];
  for (const p of t.path) {
    if (p.kind !== 'string') return undefined;
    out.push(p.value);
  }
  return out;
}
