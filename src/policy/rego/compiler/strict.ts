/**
 * Strict-mode checks (`compile(…, { strict: true })`), as OPA's strict compiler reports them:
 * unused imports, vars assigned with `:=` and never used, and calls to deprecated built-ins.
 */
import type { Body, Expr, Module, Term } from '../ast.ts';
import { refToDotted, walkExpr, walkTerm } from '../ast.ts';
import { BUILTINS } from '../builtins/index.ts';
import type { RegoErrorDetail } from '../errors.ts';

export function strictChecks(module: Module, errors: RegoErrorDetail[]): void {
  checkImports(module, errors);
  for (const rule of module.rules) {
    const headTerms: Term[] = [...rule.head.ref.slice(1), ...(rule.head.key ? [rule.head.key] : []), ...(rule.head.value ? [rule.head.value] : [])];
    for (const body of [rule.body, ...rule.elses.map((e) => e.body)]) checkAssignedUnused(body, [...headTerms, ...rule.elses.flatMap((e) => (e.value ? [e.value] : []))], errors);
    for (const body of [rule.body, ...rule.elses.map((e) => e.body)]) checkDeprecated(body, errors);
  }
}

function checkImports(module: Module, errors: RegoErrorDetail[]): void {
  const used = new Set<string>();
  const note = (t: Term) => {
    if (t.kind === 'var') used.add(t.name);
    if (t.kind === 'ref' && t.head.kind === 'var') used.add(t.head.name);
    if (t.kind === 'call') used.add(t.name.split('.')[0]);
  };
  for (const rule of module.rules) {
    for (const t of [...rule.head.ref, ...(rule.head.args ?? []), rule.head.key, rule.head.value]) if (t) walkTerm(t, note);
    for (const body of [rule.body, ...rule.elses.map((e) => e.body)]) for (const e of body) walkExpr(e, note);
    for (const e of rule.elses) if (e.value) walkTerm(e.value, note);
  }
  const seen = new Set<string>();
  for (const imp of module.imports) {
    const dotted = refToDotted(imp.path) ?? '';
    const head = dotted.split('.')[0];
    if (head === 'future' || head === 'rego') continue;
    const last = dotted.split('.').pop()!;
    const name = imp.alias ?? last;
    if (seen.has(name)) errors.push({ code: 'rego_compile_error', message: `import must not shadow import ${dotted}`, location: imp.loc });
    seen.add(name);
    if (!used.has(name)) errors.push({ code: 'rego_compile_error', message: `import ${dotted}${imp.alias ? ` as ${imp.alias}` : ''} unused`, location: imp.loc });
  }
}

/** A var introduced with `:=` that nothing reads afterwards. */
function checkAssignedUnused(body: Body, heads: Term[], errors: RegoErrorDetail[]): void {
  const uses = new Map<string, number>();
  const count = (t: Term) => {
    if (t.kind === 'var') uses.set(t.name, (uses.get(t.name) ?? 0) + 1);
  };
  for (const e of body) walkExpr(e, count);
  for (const h of heads) walkTerm(h, count);
  for (const e of body) {
    if (e.node.type !== 'assign') continue;
    for (const v of patternVars(e.node.left)) {
      if (v.startsWith('$') || (uses.get(v) ?? 0) > 1) continue;
      errors.push({ code: 'rego_compile_error', message: `assigned var ${v} unused`, location: e.loc });
    }
  }
}

function patternVars(t: Term): string[] {
  const out: string[] = [];
  walkTerm(t, (x) => {
    if (x.kind === 'var') out.push(x.name);
    if (x.kind === 'ref') return false;
  });
  return out;
}

function checkDeprecated(body: Body, errors: RegoErrorDetail[]): void {
  const visit = (e: Expr) => walkExpr(e, (t) => {
    if (t.kind === 'call' && BUILTINS.get(t.name)?.deprecated) {
      errors.push({ code: 'rego_type_error', message: `deprecated built-in function calls in expression: ${t.name}`, location: t.loc });
    }
  });
  for (const e of body) visit(e);
}
