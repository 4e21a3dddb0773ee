/**
 * `rego.parse_module(filename, source)`: parses a module and returns its AST in the JSON
 * shape OPA uses (`{"package": {"path": […]}, "imports": […], "rules": […]}`, terms as
 * `{"type": …, "value": …}`).
 */
import type { Body, Expr, Module, Rule, Term } from '../ast.ts';
import { parseModule } from '../parser.ts';
import { RegoError, formatDetail } from '../errors.ts';
import { BuiltinError } from '../builtins/types.ts';
import { fromJS, RNumber, type Value } from '../value.ts';

type Json = null | boolean | string | RNumber | Json[] | { [key: string]: Json };

export function parseModuleBuiltin(filename: Value, source: Value): Value {
  if (typeof filename !== 'string' || typeof source !== 'string') throw new BuiltinError('operands must be strings');
  let module: Module;
  try {
    module = parseModule(source, filename, { regoVersion: 'v1' });
  } catch (e) {
    if (e instanceof RegoError) throw new BuiltinError(`${e.errors.length} error${e.errors.length === 1 ? '' : 's'} occurred: ${e.errors.map(formatDetail).join('\n')}`);
    throw e;
  }
  return fromJS(moduleJson(module));
}

function moduleJson(m: Module): Json {
  const out: { [key: string]: Json } = {
    package: { path: [{ type: 'var', value: 'data' }, ...m.packagePath.map((p) => ({ type: 'string', value: p }))] },
  };
  if (m.imports.length) {
    out.imports = m.imports.map((i) => {
      const imp: { [key: string]: Json } = { path: termJson(i.path) };
      if (i.alias) imp.alias = i.alias;
      return imp;
    });
  }
  if (m.rules.length) out.rules = m.rules.map(ruleJson);
  return out;
}

function ruleJson(r: Rule): Json {
  const head: { [key: string]: Json } = { ref: r.head.ref.map(termJson) };
  const first = r.head.ref[0];
  if (first.kind === 'var' && r.head.ref.length === 1) head.name = first.name;
  if (r.head.args) head.args = r.head.args.map(termJson);
  if (r.head.key) head.key = termJson(r.head.key);
  if (r.head.value) head.value = termJson(r.head.value);
  if (r.head.assign) head.assign = true;
  const out: { [key: string]: Json } = { head, body: bodyJson(r.body) };
  if (r.default) out.default = true;
  let target = out;
  for (const e of r.elses) {
    const clause: { [key: string]: Json } = { head: { ...head, ...(e.value ? { value: termJson(e.value) } : {}) }, body: bodyJson(e.body) };
    target.else = clause;
    target = clause;
  }
  return out;
}

function bodyJson(body: Body): Json {
  return body.map((e, i) => exprJson(e, i));
}

function exprJson(e: Expr, index: number): Json {
  const out: { [key: string]: Json } = { index: RNumber.int(index) };
  const n = e.node;
  const op = (name: string): Json => ({ type: 'ref', value: [{ type: 'var', value: name }] });
  switch (n.type) {
    case 'term':
      out.terms = n.term.kind === 'call' ? [termJson(n.term.operator), ...n.term.args.map(termJson)] : termJson(n.term);
      break;
    case 'unify':
      out.terms = [op('eq'), termJson(n.left), termJson(n.right)];
      break;
    case 'assign':
      out.terms = [op('assign'), termJson(n.left), termJson(n.right)];
      break;
    case 'some':
      out.terms = { symbols: n.vars.map(termJson) };
      break;
    case 'somein':
      out.terms = { symbols: [{ type: 'call', value: [op('internal.member_' + (n.key ? 3 : 2)), ...(n.key ? [termJson(n.key)] : []), termJson(n.value), termJson(n.collection)] }] };
      break;
    case 'every':
      out.terms = { key: n.key ? termJson(n.key) : null, value: termJson(n.value), domain: termJson(n.domain), body: bodyJson(n.body) };
      break;
    case 'logic':
    case 'group':
      out.terms = { body: bodyJson(n.type === 'group' ? n.body : [n.left, n.right]) };
      break;
  }
  if (e.negated) out.negated = true;
  if (e.with.length) out.with = e.with.map((w) => ({ target: termJson(w.target), value: termJson(w.value) }));
  return out;
}

function termJson(t: Term): Json {
  switch (t.kind) {
    case 'null': return { type: 'null' };
    case 'boolean': return { type: 'boolean', value: t.value };
    case 'number': return { type: 'number', value: RNumber.parse(t.text) };
    case 'string': return { type: 'string', value: t.value };
    case 'var': return { type: 'var', value: t.name.startsWith('$_') ? '_' : t.name };
    case 'ref': return { type: 'ref', value: [termJson(t.head), ...t.path.map(termJson)] };
    case 'array': return { type: 'array', value: t.items.map(termJson) };
    case 'set': return { type: 'set', value: t.items.map(termJson) };
    case 'object': return { type: 'object', value: t.entries.map(([k, v]) => [termJson(k), termJson(v)]) };
    case 'arraycompr': return { type: 'arraycomprehension', value: { term: termJson(t.term), body: bodyJson(t.body) } };
    case 'setcompr': return { type: 'setcomprehension', value: { term: termJson(t.term), body: bodyJson(t.body) } };
    case 'objectcompr': return { type: 'objectcomprehension', value: { key: termJson(t.key), value: termJson(t.value), body: bodyJson(t.body) } };
    case 'call': return { type: 'call', value: [termJson(t.operator), ...t.args.map(termJson)] };
    case 'template': return { type: 'templatestring', value: t.parts.map((p) => (typeof p === 'string' ? { type: 'string', value: p } : termJson(p))) };
  }
}
