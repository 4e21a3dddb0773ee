import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseModule, parseQuery, parseTerm } from './parser.ts';
import { RegoError } from './errors.ts';
import type { Term } from './ast.ts';

function parseError(src: string, version: 'v0' | 'v1' = 'v1'): { row: number; col: number; message: string } {
  try {
    parseModule(src, 'x.rego', { regoVersion: version });
  } catch (e) {
    assert.ok(e instanceof RegoError);
    const d = e.errors[0];
    assert.equal(d.code, 'rego_parse_error');
    return { row: d.location!.row, col: d.location!.col, message: d.message };
  }
  assert.fail('expected a parse error');
}

test('parses v1 rules of every kind', () => {
  const m = parseModule([
    'package a.b',
    'import rego.v1',
    'default allow := false',
    'allow if input.user == "alice"',
    'roles contains r if some r in ["x"]',
    'obj[k] := v if { some k, v in {"a": 1} }',
    'f(x) := x + 1',
    'g := 1 if false else := 2',
    'a.b.c[x].d := 1 if x := "k"',
  ].join('\n'), 'x.rego');
  assert.deepEqual(m.packagePath, ['a', 'b']);
  assert.equal(m.rules.length, 7);
  assert.equal(m.rules[0].default, true);
  assert.equal(m.rules[2].head.key?.kind, 'var');
  assert.equal(m.rules[3].head.ref.length, 2);
  assert.equal(m.rules[4].head.args?.length, 1);
  assert.equal(m.rules[5].elses.length, 1);
  assert.equal(m.rules[6].head.ref.length, 5);
});

test('v0 syntax: partial sets without contains, bodies without if, chained bodies', () => {
  const m = parseModule('package p\nq[x] { x := 1 }\nr = 2 { true } { false }\ns { true }', 'x.rego', { regoVersion: 'v0' });
  assert.equal(m.rules[0].head.key?.kind, 'var');
  assert.equal(m.rules.filter((r) => (r.head.ref[0] as Term & { kind: 'var' }).name === 'r').length, 2);
  assert.equal(m.rules[3].head.value, undefined);
});

test('v0 needs future.keywords imports for in/every', () => {
  const m = parseModule('package p\nimport future.keywords.in\nq { 1 in [1] }', 'x.rego', { regoVersion: 'v0' });
  const e = m.rules[0].body[0].node;
  assert.equal(e.type === 'term' && e.term.kind === 'call' ? e.term.name : '', 'internal.member_2');
});

test('operator precedence: * over +, + over ==, | and & between', () => {
  const [e] = parseQuery('1 + 2 * 3 == 7');
  assert.equal(e.node.type, 'term');
  const t = (e.node as { term: Term }).term as Term & { kind: 'call' };
  assert.equal(t.name, 'equal');
  const plus = t.args[0] as Term & { kind: 'call' };
  assert.equal(plus.name, 'plus');
  assert.equal((plus.args[1] as Term & { kind: 'call' }).name, 'mul');
});

test('comprehensions, sets, objects and refs', () => {
  const [a] = parseQuery('x := [y | some y in {1, 2}; y > 1]');
  assert.equal(a.node.type === 'assign' && a.node.right.kind, 'arraycompr');
  const t = parseTerm('{"a": {1, set()}, "b": [x | x := input.y[_]]}');
  assert.equal(t.kind, 'object');
  const [r] = parseQuery('data.a["b"][c].d');
  assert.equal(r.node.type === 'term' && r.node.term.kind === 'ref' && r.node.term.path.length, 4);
});

test('with modifiers, not, some and every', () => {
  const body = parseQuery('not p with input as 1 with data.x as 2; some x, y; every k, v in [1] { v > 0 }');
  assert.equal(body[0].negated, true);
  assert.equal(body[0].with.length, 2);
  assert.equal(body[1].node.type, 'some');
  assert.equal(body[2].node.type, 'every');
});

test('string interpolation parses embedded expressions', () => {
  const t = parseTerm('$"hello {input.name}, {1 + 2}"');
  assert.equal(t.kind, 'template');
  assert.equal(t.kind === 'template' && t.parts.filter((p) => typeof p !== 'string').length, 2);
});

test('parse errors carry row and column', () => {
  assert.deepEqual(parseError('package p\n\np if {\n  x := \n}'), { row: 5, col: 1, message: 'unexpected } token' });
  const missingIf = parseError('package p\np { true }');
  assert.equal(missingIf.row, 2);
  assert.match(missingIf.message, /if/);
  assert.equal(parseError('p := 1').message, 'package expected');
});

test('experimental and/or keywords need the import and the option', () => {
  const src = 'package p\nimport future.keywords.and\nimport future.keywords.or\nq if { a and b or c }';
  const m = parseModule(src, 'x.rego', { experimentalKeywords: true });
  const n = m.rules[0].body[0].node;
  assert.equal(n.type === 'logic' && n.op, 'or');
  assert.throws(() => parseModule(src, 'x.rego'), RegoError);
});

test('METADATA comments attach to the next rule', () => {
  const m = parseModule('# METADATA\n# title: pkg\npackage p\n\n# METADATA\n# title: rule\nq := 1', 'x.rego');
  assert.equal(m.rules[0].annotations?.data.title, 'rule');
  assert.equal(m.annotations.find((a) => a.scope === 'package')?.data.title, 'pkg');
});
