/**
 * The Rego abstract syntax tree: terms, expressions, rules and modules. Every node is a
 * plain object discriminated by `kind` and carries the location it was parsed from.
 */
import type { Location } from './errors.ts';

export type { Location };

export type Term =
  | { kind: 'null'; loc: Location }
  | { kind: 'boolean'; value: boolean; loc: Location }
  | { kind: 'number'; text: string; loc: Location }
  | { kind: 'string'; value: string; loc: Location }
  | { kind: 'var'; name: string; loc: Location }
  | RefTerm
  | { kind: 'array'; items: Term[]; loc: Location }
  | { kind: 'object'; entries: [Term, Term][]; loc: Location }
  | { kind: 'set'; items: Term[]; loc: Location }
  | { kind: 'arraycompr'; term: Term; body: Body; loc: Location }
  | { kind: 'setcompr'; term: Term; body: Body; loc: Location }
  | { kind: 'objectcompr'; key: Term; value: Term; body: Body; loc: Location }
  | CallTerm
  /** `$"…{expr}…"`; `multi[i]` marks a part that is an array comprehension of the expression's values. */
  | { kind: 'template'; parts: (string | Term)[]; multi?: boolean[]; loc: Location };

/** `head.path[0].path[1]…`; string path elements come from `.name` or `["name"]`. */
export interface RefTerm {
  kind: 'ref';
  head: Term;
  path: Term[];
  loc: Location;
}

/** A call: `name` is the dotted operator (`count`, `data.pkg.f`, `plus` for `+`). */
export interface CallTerm {
  kind: 'call';
  name: string;
  operator: Term;
  args: Term[];
  loc: Location;
  /** Set for `a + b` style calls: the infix symbol that was written. */
  infix?: string;
}

export interface WithModifier {
  target: Term;
  value: Term;
  loc: Location;
}

export type ExprNode =
  | { type: 'term'; term: Term }
  | { type: 'unify'; left: Term; right: Term }
  | { type: 'assign'; left: Term; right: Term }
  | { type: 'some'; vars: Term[] }
  | { type: 'somein'; key?: Term; value: Term; collection: Term }
  | { type: 'every'; key?: Term; value: Term; domain: Term; body: Body }
  /** Experimental `a and b` / `a or b` keywords: both operands are expressions. */
  | { type: 'logic'; op: 'and' | 'or'; left: Expr; right: Expr }
  /** A braced group of literals used as one operand: succeeds once if the body has a solution. */
  | { type: 'group'; body: Body };

export interface Expr {
  kind: 'expr';
  negated: boolean;
  node: ExprNode;
  with: WithModifier[];
  loc: Location;
  /**
   * Set by the compiler on a negated expression: operands (field paths such as `c.image`)
   * that must be defined for the body to go on, before the negation is decided.
   */
  defined?: Term[];
}

export type Body = Expr[];

export interface RuleHead {
  /** The head reference: first element is the rule name (a var term), then path terms. */
  ref: Term[];
  args?: Term[];
  /** Set for `contains` (and v0 `p[x] { … }`) rules: the member term. */
  key?: Term;
  value?: Term;
  assign: boolean;
  loc: Location;
}

export interface ElseClause {
  value?: Term;
  body: Body;
  loc: Location;
}

export interface Rule {
  kind: 'rule';
  default: boolean;
  head: RuleHead;
  body: Body;
  elses: ElseClause[];
  loc: Location;
  annotations?: Annotations;
  module?: Module;
}

export interface Import {
  path: RefTerm;
  alias?: string;
  loc: Location;
}

export interface Annotations {
  scope: string;
  /** The parsed YAML object (JSON form). */
  data: Record<string, unknown>;
  loc: Location;
}

export interface Module {
  kind: 'module';
  file: string;
  packagePath: string[];
  packageLoc: Location;
  imports: Import[];
  rules: Rule[];
  annotations: Annotations[];
  regoVersion: 'v0' | 'v1';
  /**
   * Set by `import future.keywords.not` (or all of `future.keywords`): a negation covers its
   * whole expression, operands included. Otherwise the operands are evaluated before it.
   */
  notBodies?: boolean;
}

export type Query = Body;

export function varTerm(name: string, loc: Location): Term {
  return { kind: 'var', name, loc };
}

export function stringTerm(value: string, loc: Location): Term {
  return { kind: 'string', value, loc };
}

/** Calls `visit` for every term inside `term` (depth-first, including itself). */
export function walkTerm(term: Term, visit: (t: Term) => boolean | void): void {
  if (visit(term) === false) return;
  switch (term.kind) {
    case 'ref':
      walkTerm(term.head, visit);
      for (const p of term.path) walkTerm(p, visit);
      break;
    case 'array':
    case 'set':
      for (const i of term.items) walkTerm(i, visit);
      break;
    case 'object':
      for (const [k, v] of term.entries) {
        walkTerm(k, visit);
        walkTerm(v, visit);
      }
      break;
    case 'call':
      for (const a of term.args) walkTerm(a, visit);
      break;
    case 'template':
      for (const p of term.parts) if (typeof p !== 'string') walkTerm(p, visit);
      break;
    case 'arraycompr':
    case 'setcompr':
      walkTerm(term.term, visit);
      for (const e of term.body) walkExpr(e, visit);
      break;
    case 'objectcompr':
      walkTerm(term.key, visit);
      walkTerm(term.value, visit);
      for (const e of term.body) walkExpr(e, visit);
      break;
  }
}

/** Visits every term of an expression, including nested bodies. */
export function walkExpr(expr: Expr, visit: (t: Term) => boolean | void): void {
  const n = expr.node;
  switch (n.type) {
    case 'term':
      walkTerm(n.term, visit);
      break;
    case 'unify':
    case 'assign':
      walkTerm(n.left, visit);
      walkTerm(n.right, visit);
      break;
    case 'some':
      for (const v of n.vars) walkTerm(v, visit);
      break;
    case 'somein':
      if (n.key) walkTerm(n.key, visit);
      walkTerm(n.value, visit);
      walkTerm(n.collection, visit);
      break;
    case 'every':
      if (n.key) walkTerm(n.key, visit);
      walkTerm(n.value, visit);
      walkTerm(n.domain, visit);
      for (const e of n.body) walkExpr(e, visit);
      break;
    case 'logic':
      walkExpr(n.left, visit);
      walkExpr(n.right, visit);
      break;
    case 'group':
      for (const e of n.body) walkExpr(e, visit);
      break;
  }
  for (const w of expr.with) {
    walkTerm(w.target, visit);
    walkTerm(w.value, visit);
  }
}

/** The dotted name of a ref made of a var head and string path (`data.a.b`), or undefined. */
export function refToDotted(term: Term): string | undefined {
  if (term.kind === 'var') return term.name;
  if (term.kind !== 'ref' || term.head.kind !== 'var') return undefined;
  let out = term.head.name;
  for (const p of term.path) {
    if (p.kind !== 'string') return undefined;
    out += '.' + p.value;
  }
  return out;
}
