import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, fromJS, RegoError } from '../index.ts';

function compileErrors(source: string): { code: string; message: string; row?: number }[] {
  try {
    compile([{ file: 'c.rego', source }]);
  } catch (e) {
    assert.ok(e instanceof RegoError);
    return e.errors.map((d) => ({ code: d.code, message: d.message, row: d.location?.row }));
  }
  return [];
}

test('unsafe variables are reported with their location', () => {
  const errors = compileErrors('package c\n\np if {\n  x > 1\n}');
  assert.deepEqual(errors, [{ code: 'rego_unsafe_var_error', message: 'var x is unsafe', row: 4 }]);
  assert.deepEqual(compileErrors('package c\np contains y if input.x'), [{ code: 'rego_unsafe_var_error', message: 'var y is unsafe', row: 2 }]);
  assert.equal(compileErrors('package c\np if not input.a[x]').length, 1);
});

test('bodies are reordered so that vars are bound before use', () => {
  assert.deepEqual(compileErrors('package c\np if {\n  y == 2\n  y := x + 1\n  x := 1\n}'), []);
  const q = compile([{ file: 'c.rego', source: 'package c\np := y if {\n  y == 2\n  y := x + 1\n  x := 1\n}' }]).prepare('data.c.p');
  assert.equal(q.eval()[0].expressions[0].value?.toString(), '2');
});

test('recursion between rules is a compile error', () => {
  const errors = compileErrors('package c\np if q\nq if p');
  assert.equal(errors[0].code, 'rego_recursion_error');
  assert.match(errors[0].message, /rule data\.c\.[pq] is recursive: data\.c\.[pq] -> data\.c\.[pq] -> data\.c\.[pq]/);
  assert.deepEqual(compileErrors('package c\nf(x) := f(x - 1) if x > 0').map((e) => e.code), ['rego_recursion_error']);
});

test('built-in calls are checked for existence, arity and literal operand types', () => {
  assert.deepEqual(compileErrors('package c\np := nosuch.fn(1)'), [{ code: 'rego_type_error', message: 'undefined function nosuch.fn', row: 2 }]);
  const arity = compileErrors('package c\np := count(1, 2, 3)');
  assert.equal(arity[0].code, 'rego_type_error');
  assert.match(arity[0].message, /^count: arity mismatch/);
  const types = compileErrors('package c\np := upper(1)');
  assert.match(types[0].message, /^upper: invalid argument\(s\)\n\thave: \(number\)\n\twant: \(string\)/);
  assert.deepEqual(compileErrors('package c\np := upper(input.x)'), []);
});

test('multiple default rules and parse errors in several files are all reported', () => {
  assert.equal(compileErrors('package c\ndefault p := 1\ndefault p := 2')[0].code, 'rego_type_error');
  try {
    compile([{ file: 'a.rego', source: 'package a\np if {' }, { file: 'b.rego', source: 'package b\nq := ]' }]);
    assert.fail('expected errors');
  } catch (e) {
    assert.ok(e instanceof RegoError);
    assert.deepEqual(e.errors.map((d) => d.location?.file), ['a.rego', 'b.rego']);
  }
});

test('imports resolve to data and input paths', () => {
  const compiled = compile([
    { file: 'lib.rego', source: 'package lib\nadmins := {"alice"}\nis_admin(u) if admins[u]' },
    { file: 'main.rego', source: 'package main\nimport data.lib\nimport input.user as who\nallow if lib.is_admin(who)' },
  ]);
  const q = compiled.prepare('data.main.allow');
  assert.equal(q.eval({ input: fromJS({ user: 'alice' }) })[0].expressions[0].value, true);
  assert.equal(q.eval({ input: fromJS({ user: 'bob' }) }).length, 0);
});

test('strict mode reports unused imports, unused assignments and deprecated built-ins', () => {
  const source = 'package c\nimport data.lib\nimport data.used\np {\n  x := 1\n  used.y == 2\n}\nq { any([true]) }';
  assert.doesNotThrow(() => compile([{ file: 'c.rego', source }], { regoVersion: 'v0' }));
  try {
    compile([{ file: 'c.rego', source }], { strict: true, regoVersion: 'v0' });
    assert.fail('expected strict errors');
  } catch (e) {
    assert.ok(e instanceof RegoError);
    const messages = e.errors.map((d) => d.message);
    assert.ok(messages.includes('import data.lib unused'), messages.join('; '));
    assert.ok(messages.includes('assigned var x unused'), messages.join('; '));
    assert.ok(messages.includes('deprecated built-in function calls in expression: any'), messages.join('; '));
    assert.ok(!messages.some((m) => m.includes('data.used')));
  }
});
