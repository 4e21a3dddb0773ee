/**
 * Operands of a negated expression are evaluated before the negation, as OPA's compiler does.
 *
 * OPA rewrites every body before evaluating it: nested calls become expressions of their own
 * (`rewriteExprTerms`), and refs among a call's arguments or inside composite operands are bound
 * to generated vars earlier in the body (`rewriteDynamics`). Both rewrites leave the `not` on
 * the original expression only, so
 *
 *     not f(input.x, count(input.ys))
 *
 * runs as `$a = input.x; $b = count(input.ys); not f($a, $b)`: when an operand is undefined
 * the body fails instead of the negation holding. Policy libraries rely on it (Gatekeeper's
 * `not accept_value(params.rule, …, params.ranges)` with `params.ranges` unset denies nothing).
 *
 * What stays inside the negation, as in OPA: a ref that is the whole expression
 * (`not input.x`) or a whole side of `=` (`not input.x = 1`); there only the dynamic parts of
 * its path (`not data.allowed[input.user]`) move out. Vars and constants never move, nor do
 * comprehensions (always defined) and template strings (undefined parts render as text).
 * Terms containing generated vars (`_` wildcards, which this engine lets a negation leave
 * unbound) stay inside, so that no iteration moves out of the negation.
 *
 * Field paths from a var (`c.image`, `input.request.kind`) are cheap to read twice, so they
 * stay in place and are listed in the expression's `defined` instead of getting an expression
 * of their own: the evaluator checks them before the negation (one step, not three, in the
 * common `not allowed(c.image)`).
 */
import type { Body, Expr, Term } from '../ast.ts';
import { walkTerm } from '../ast.ts';

/** Expressions generated here: `$notN = <operand>`; safety schedules them only once the operand is ground. */
export const hoistedOperands = new WeakSet<Expr>();

/** Generated var names start with this; safety never reports them as unsafe. */
export const HOISTED_VAR_PREFIX = '$not';

let counter = 0;

/** Calls whose arguments OPA does not evaluate beforehand (`print` renders undefined arguments). */
const KEEP_ARGUMENTS = new Set(['print', 'internal.print']);

/** Rewrites the negated expressions of one body (nested bodies are rewritten as they are resolved). */
export function hoistNegatedOperands(body: Body): Body {
  if (!body.some((e) => e.negated)) return body;
  const out: Body = [];
  for (const e of body) {
    if (!e.negated) {
      out.push(e);
      continue;
    }
    const hoisted: Expr[] = [];
    const rewritten = rewriteNegated(e, hoisted);
    out.push(...hoisted, rewritten);
  }
  return out;
}

function rewriteNegated(e: Expr, hoisted: Expr[]): Expr {
  const defined: Term[] = [];
  const rewritten = rewriteOperands(e, (t) => {
    if (hasGeneratedVar(t)) return t;
    if (isFieldPath(t)) {
      defined.push(t);
      return t;
    }
    return hoistTerm(t, e, hoisted);
  });
  return defined.length ? { ...rewritten, defined } : rewritten;
}

function rewriteOperands(e: Expr, hoist: (t: Term) => Term): Expr {
  const n = e.node;
  switch (n.type) {
    case 'term': {
      const t = n.term;
      if (t.kind === 'call') {
        if (KEEP_ARGUMENTS.has(t.name)) return e;
        return { ...e, node: { type: 'term', term: { ...t, args: t.args.map((a) => operandValue(a, hoist)) } } };
      }
      return { ...e, node: { type: 'term', term: keptOperand(t, hoist) } };
    }
    case 'unify':
      return { ...e, node: { type: 'unify', left: keptOperand(n.left, hoist), right: keptOperand(n.right, hoist) } };
    default:
      // `some`, `every` and the experimental `not { … }` groups: nothing to move.
      return e;
  }
}

/** `x.a.b` / `input.a`: a var other than `data` followed by constant keys. */
function isFieldPath(t: Term): boolean {
  return t.kind === 'ref' && t.head.kind === 'var' && t.head.name !== 'data' && t.path.every((p) => p.kind === 'string');
}

/**
 * A call argument or an element of a composite operand: refs and calls are evaluated
 * beforehand (OPA's `rewriteDynamicsOne` and `expandExprTerm`), composites element-wise.
 */
function operandValue(t: Term, hoist: (t: Term) => Term): Term {
  switch (t.kind) {
    case 'ref':
    case 'call':
      return hoist(t);
    case 'array':
    case 'set':
      return { ...t, items: t.items.map((i) => operandValue(i, hoist)) };
    case 'object':
      return { ...t, entries: t.entries.map(([k, v]) => [operandValue(k, hoist), operandValue(v, hoist)] as [Term, Term]) };
    default:
      return t;
  }
}

/**
 * The whole negated term, or a side of a negated `=` (OPA's `rewriteDynamicsInTerm`): a ref
 * stays (its dynamic path elements move out), a call moves out, composites element-wise.
 */
function keptOperand(t: Term, hoist: (t: Term) => Term): Term {
  switch (t.kind) {
    case 'ref': {
      const head = t.head.kind === 'var' ? t.head : operandValue(t.head, hoist);
      return { ...t, head, path: t.path.map((p) => operandValue(p, hoist)) };
    }
    default:
      return operandValue(t, hoist);
  }
}

function hoistTerm(t: Term, negated: Expr, hoisted: Expr[]): Term {
  const v: Term = { kind: 'var', name: `${HOISTED_VAR_PREFIX}${++counter}`, loc: t.loc };
  // The operand is evaluated under the negated expression's `with` modifiers, as in OPA.
  const expr: Expr = { kind: 'expr', negated: false, node: { type: 'unify', left: v, right: t }, with: negated.with, loc: t.loc };
  hoistedOperands.add(expr);
  hoisted.push(expr);
  return v;
}

/** Whether a term holds a generated var (`_` wildcards, template parts) outside nested closures. */
function hasGeneratedVar(t: Term): boolean {
  let found = false;
  walkTerm(t, (x) => {
    if (found) return false;
    if (x.kind === 'var' && x.name.startsWith('$')) found = true;
    if (x.kind === 'arraycompr' || x.kind === 'setcompr' || x.kind === 'objectcompr') return false;
  });
  return found;
}
