import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, fromJS, toJS, RegoError } from '../index.ts';

/** The JSON form of each result: its bindings, or the first expression's value. */
function run(source: string, query: string, options: { input?: unknown; regoVersion?: 'v0' | 'v1' } = {}): unknown[] {
  const compiled = compile([{ file: 'test.rego', source }], { regoVersion: options.regoVersion ?? 'v1' });
  const results = compiled.prepare(query).eval({ input: options.input === undefined ? undefined : fromJS(options.input) });
  return results.map((r) => (Object.keys(r.bindings).length ? Object.fromEntries(Object.entries(r.bindings).map(([k, v]) => [k, toJS(v)])) : toJS(r.expressions[0].value)));
}

test('a negated call with an undefined argument makes the body undefined (Gatekeeper accept_value)', () => {
  const src = [
    'package t',
    'accept_value("RunAsAny", _, _)',
    'violation[msg] { params := {"rule": "RunAsAny"}; not accept_value(params.rule, 1000, params.ranges); msg := "disallowed" }',
    'allowed[msg] { params := {"rule": "RunAsAny", "ranges": []}; not accept_value(params.rule, 1000, params.ranges); msg := "never" }',
    'denied[msg] { params := {"rule": "MustRunAs", "ranges": []}; not accept_value(params.rule, 1000, params.ranges); msg := "disallowed" }',
  ].join('\n');
  assert.deepEqual(run(src, 'data.t.violation', { regoVersion: 'v0' }), [[]]);
  assert.deepEqual(run(src, 'data.t.allowed', { regoVersion: 'v0' }), [[]]);
  assert.deepEqual(run(src, 'data.t.denied', { regoVersion: 'v0' }), [['disallowed']]);
});

test('operands of a negated comparison are evaluated before the negation', () => {
  const src = 'package t\ndefault p := false\np if { not input.x + input.y == input.z }';
  assert.deepEqual(run(src, 'data.t.p'), [false]);
  assert.deepEqual(run(src, 'data.t.p', { input: { x: 1, y: 2 } }), [false]);
  assert.deepEqual(run(src, 'data.t.p', { input: { x: 1, y: 2, z: 0 } }), [true]);
  assert.deepEqual(run(src, 'data.t.p', { input: { x: 1, y: 2, z: 3 } }), [false]);
  // Nested calls move out too: `g` is undefined for 2, so the body is.
  const nested = 'package t\nf(_) := false\ng(1) := 1\np if not f(g(input.n))';
  assert.deepEqual(run(nested, 'data.t.p', { input: { n: 1 } }), [true]);
  assert.deepEqual(run(nested, 'data.t.p', { input: { n: 2 } }), []);
  // `in` is a call too.
  assert.deepEqual(run('package t\np if not "a" in input.xs', 'data.t.p'), []);
  assert.deepEqual(run('package t\np if not "a" in input.xs', 'data.t.p', { input: { xs: ['b'] } }), [true]);
});

test('a negated ref, or a ref side of a negated =, stays inside the negation; its dynamic keys do not', () => {
  assert.deepEqual(run('package t\np if not input.x', 'data.t.p'), [true]);
  assert.deepEqual(run('package t\np if not input.x = 1', 'data.t.p'), [true]);
  const keyed = 'package t\nadmins := {"alice"}\np if not admins[input.user]';
  assert.deepEqual(run(keyed, 'data.t.p', { input: { user: 'bob' } }), [true]);
  assert.deepEqual(run(keyed, 'data.t.p', { input: { user: 'alice' } }), []);
  assert.deepEqual(run(keyed, 'data.t.p'), []);
  // Refs inside composite operands are operands too.
  assert.deepEqual(run('package t\np if not [input.x] = [1]', 'data.t.p'), []);
  assert.deepEqual(run('package t\np if not [input.x] = [1]', 'data.t.p', { input: { x: 2 } }), [true]);
});

test('negations inside comprehensions, every and queries follow the same rule', () => {
  const compr = 'package t\np := [x | x := "foo"; not f(input.x)]\nf(_) := true if false';
  assert.deepEqual(run(compr, 'data.t.p'), [[]]);
  assert.deepEqual(run(compr, 'data.t.p', { input: { x: 1 } }), [['foo']]);
  const every = 'package t\ndefault p := false\np if { every x in [1, 2] { not f(x, input.y) } }\nf(_, _) := true if false';
  assert.deepEqual(run(every, 'data.t.p'), [false]);
  assert.deepEqual(run(every, 'data.t.p', { input: { y: 3 } }), [true]);
  // In a query the generated vars stay out of the bindings.
  const fn = 'package t\nf(x) if x == 1';
  assert.deepEqual(run(fn, 'not data.t.f(input.x)'), []);
  assert.deepEqual(run(fn, 'not data.t.f(input.x); y := 2', { input: { x: 2 } }), [{ y: 2 }]);
});

test('operands moved out of a negation see its with modifiers', () => {
  const src = 'package t\nf(x) if x == 1\np if not f(input.x) with input as {"x": 2}\nq if not f(input.x) with input as {}';
  assert.deepEqual(run(src, 'data.t.p', { input: { x: 1 } }), [true]);
  assert.deepEqual(run(src, 'data.t.q', { input: { x: 2 } }), []);
});

test('import future.keywords.not (or all of future.keywords) keeps operands inside the negation', () => {
  for (const imports of ['import future.keywords.not', 'import future.keywords']) {
    const src = `package t\n${imports}\ndefault p := false\np if { not input.x + input.y == input.z }`;
    assert.deepEqual(run(src, 'data.t.p'), [true], imports);
    assert.deepEqual(run(src.replace('p if {', 'p {'), 'data.t.p', { regoVersion: 'v0' }), [true], `${imports} (v0)`);
  }
  // rego.v1 brings the v1 keywords, not the new negation.
  const v0 = 'package t\nimport rego.v1\ndefault p := false\np if { not input.x + input.y == input.z }';
  assert.deepEqual(run(v0, 'data.t.p', { regoVersion: 'v0' }), [false]);
});

test('wildcards stay inside the negation, and vars a negation needs are still checked', () => {
  assert.deepEqual(run('package t\np if not input.x[_] == 1', 'data.t.p', { input: { x: [2] } }), [true]);
  assert.deepEqual(run('package t\np if not input.x[_] == 1', 'data.t.p', { input: { x: [1] } }), []);
  assert.throws(() => compile([{ file: 'test.rego', source: 'package t\nf(_) := true\np if not f(input.x[i])' }]), (e) => {
    assert.ok(e instanceof RegoError);
    assert.match(e.message, /var i is unsafe/);
    assert.doesNotMatch(e.message, /\$not/);
    return true;
  });
});
