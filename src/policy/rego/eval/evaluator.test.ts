import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, fromJS, toJS, RegoError, type EvalOptions } from '../index.ts';

/** Evaluates `query` against one module and returns the JSON form of each result's bindings or expression. */
type RunOptions = Omit<EvalOptions, 'input' | 'data'> & { input?: unknown; data?: unknown };

function run(source: string, query: string, options: RunOptions = {}): unknown[] {
  const compiled = compile([{ file: 'test.rego', source }]);
  const results = compiled.prepare(query).eval({
    ...options,
    input: options.input === undefined ? undefined : fromJS(options.input),
    data: options.data === undefined ? undefined : fromJS(options.data),
  });
  return results.map((r) => (Object.keys(r.bindings).length ? Object.fromEntries(Object.entries(r.bindings).map(([k, v]) => [k, toJS(v)])) : toJS(r.expressions[0].value)));
}

function evalError(source: string, query: string, options: EvalOptions = {}): RegoError {
  try {
    compile([{ file: 'test.rego', source }]).prepare(query).eval(options);
  } catch (e) {
    assert.ok(e instanceof RegoError, String(e));
    return e;
  }
  assert.fail('expected an evaluation error');
}

test('complete, partial set and partial object rules', () => {
  const src = 'package t\np := 1\ns contains x if some x in [3, 1, 3]\no[k] := v if some k, v in {"a": 1, "b": 2}';
  assert.deepEqual(run(src, 'data.t'), [{ p: 1, s: [1, 3], o: { a: 1, b: 2 } }]);
  assert.deepEqual(run(src, 'data.t.s[x]'), [{ x: 1 }, { x: 3 }]);
});

test('multi-level ref heads build nested objects', () => {
  const src = 'package t\na.b.c := 1\na.b[k].d := 2 if some k in ["x", "y"]\na.g contains 1';
  assert.deepEqual(run(src, 'data.t.a'), [{ b: { c: 1, x: { d: 2 }, y: { d: 2 } }, g: [1] }]);
});

test('functions with several definitions, else and default', () => {
  const src = [
    'package t',
    'f(x) := "small" if x < 10',
    'f(x) := "big" if x >= 10',
    'g(x) := 1 if x == 1 else := 2 if x == 2 else := 3',
    'default h(_) := "none"',
    'h(x) := "one" if x == 1',
  ].join('\n');
  assert.deepEqual(run(src, '[data.t.f(1), data.t.f(20), data.t.g(2), data.t.g(9), data.t.h(1), data.t.h(5)]'), [['small', 'big', 2, 3, 'one', 'none']]);
});

test('functions without arguments: f() evaluates the rule f, in every form OPA accepts', () => {
  const v0 = compile([{ file: 'v0.rego', source: 'package t\nf() = out { out = "unspecified" }\np { x := f(); x == "unspecified" }\nq = f()' }], { regoVersion: 'v0' });
  assert.deepEqual(toJS(v0.prepare('data.t').eval()[0].expressions[0].value), { f: 'unspecified', p: true, q: 'unspecified' });
  const src = [
    'package t',
    'import data.lib',
    'one() := "one"',
    'chained() := 1 if false else := 2',
    'default flag() := "off"',
    'flag() := "on" if input.on',
    'empty() if false',
    'head := [one(), chained(), lib.seven()]',
    'body := x if { x := flag() with input as {"on": true} }',
    'mocked := x if { x := one() with data.t.one as "mock" }',
    'negated if not empty()',
  ].join('\n');
  const compiled = compile([{ file: 'test.rego', source: src }, { file: 'lib.rego', source: 'package lib\nseven() := 7' }]);
  const value = (query: string) => compiled.prepare(query).eval().map((r) => toJS(r.expressions[0].value));
  assert.deepEqual(value('data.t.head'), [['one', 2, 7]]);
  assert.deepEqual(value('data.t.flag()'), ['off']);
  assert.deepEqual(value('data.t.body'), ['on']);
  assert.deepEqual(value('data.t.mocked'), ['mock']);
  assert.deepEqual(value('data.t.negated'), [true]);
  // A rule without parentheses is called the same way, as in OPA (its arity is 0 too).
  assert.deepEqual(run('package t\nf := 5\np := f()', 'data.t.p'), [5]);
  // A call to nothing is still an error.
  assert.throws(() => compile([{ file: 'test.rego', source: 'package t\np := q()' }]), /undefined function q/);
});

test('conflicting complete rules and functions raise eval_conflict_error', () => {
  assert.equal(evalError('package t\np := 1\np := 2', 'data.t.p').code, 'eval_conflict_error');
  const fn = evalError('package t\nf(_) := 1\nf(_) := 2', 'data.t.f(0)');
  assert.match(fn.message, /functions must not produce multiple outputs for same inputs/);
  assert.match(evalError('package t\no[k] := v if some k, v in [[1, 2], [1, 3]][_]', 'data.t.o').message, /object keys must be unique/);
});

test('unification binds vars on both sides and inside composites', () => {
  assert.deepEqual(run('package t', '[x, 2] = [1, y]; {"a": z} = {"a": 3}'), [{ x: 1, y: 2, z: 3 }]);
  assert.deepEqual(run('package t', 'x = input.a[i]', { input: { a: [5, 6] } }), [{ x: 5, i: 0 }, { x: 6, i: 1 }]);
});

test('comprehensions, some, every and not', () => {
  const src = [
    'package t',
    'evens := [x | some x in numbers.range(1, 6); x % 2 == 0]',
    'squares := {x: x * x | some x in [1, 2]}',
    'all_positive if every x in input.xs { x > 0 }',
    'no_admin if not "admin" in input.roles',
  ].join('\n');
  assert.deepEqual(run(src, 'data.t', { input: { xs: [1, 2], roles: ['dev'] } }), [{ evens: [2, 4, 6], squares: { 1: 1, 2: 4 }, all_positive: true, no_admin: true }]);
  assert.deepEqual(run(src, 'data.t.all_positive', { input: { xs: [1, -2], roles: [] } }), []);
});

test('with replaces input, data paths, functions and built-ins', () => {
  const src = [
    'package t',
    'p if input.x == 1',
    'q := data.cfg.level',
    'f(x) := x * 2',
    'r := f(2)',
    'mock(_) := 100',
    'c := count([1, 2, 3])',
  ].join('\n');
  assert.deepEqual(run(src, 'data.t.p with input as {"x": 1}'), [true]);
  assert.deepEqual(run(src, 'data.t.q with data.cfg.level as 7', { data: { cfg: { level: 1 } } }), [7]);
  assert.deepEqual(run(src, 'data.t.r with data.t.f as data.t.mock'), [100]);
  assert.deepEqual(run(src, 'data.t.c with count as 42'), [42]);
  assert.deepEqual(run(src, 'data.t.c'), [3]);
});

test('strict built-in errors abort; otherwise the call is undefined', () => {
  const src = 'package t\np := to_number("nope")';
  assert.deepEqual(run(src, 'data.t.p'), []);
  const err = evalError(src, 'data.t.p', { strictBuiltinErrors: true });
  assert.match(err.message, /^test\.rego:2: eval_builtin_error: to_number: /);
});

test('print, walk and rego.metadata.rule', () => {
  const lines: string[] = [];
  compile([{ file: 't.rego', source: 'package t\np if { print("x is", input.x, input.missing) }' }]).prepare('data.t.p').eval({ input: fromJS({ x: [1] }), print: (m) => lines.push(m) });
  assert.deepEqual(lines, ['x is [1] <undefined>']);
  assert.deepEqual(run('package t', '[p, v] := walk({"a": [1]})'), [
    { p: [], v: { a: [1] } }, { p: ['a'], v: [1] }, { p: ['a', 0], v: 1 },
  ]);
  assert.deepEqual(run('package t\n# METADATA\n# title: T\np := rego.metadata.rule()', 'data.t.p'), [{ title: 'T', scope: 'rule' }]);
});

test('string interpolation formats values in Rego syntax', () => {
  assert.deepEqual(run('package t\np := $"n={input.n} s={{1}} m={input.missing}"', 'data.t.p', { input: { n: 3 } }), ['n=3 s={1} m=<undefined>']);
});

test('limits stop runaway evaluation with a clear error', () => {
  const src = 'package t\np := count([x | some x in numbers.range(1, 100000)])';
  const err = evalError(src, 'data.t.p', { limits: { maxSteps: 1000 } });
  assert.equal(err.code, 'eval_limit_error');
  assert.match(err.message, /step limit/);
});

test('rule indexing skips rules whose input guard does not match, without changing results', () => {
  const rules = Array.from({ length: 50 }, (_, i) => `allow if {\n  input.kind == "k${i}"\n  input.n > ${i}\n}`).join('\n');
  const src = `package t\ndefault allow := false\n${rules}`;
  assert.deepEqual(run(src, 'data.t.allow', { input: { kind: 'k10', n: 11 } }), [true]);
  assert.deepEqual(run(src, 'data.t.allow', { input: { kind: 'k10', n: 10 } }), [false]);
  assert.deepEqual(run(src, 'data.t.allow', { input: { kind: 'other', n: 100 } }), [false]);
});

test('big numbers stay exact', () => {
  assert.deepEqual(run('package t', 'x := 18446744073709551615 + 1'), [{ x: 18446744073709551616n }]);
});

test('base data at a rule path takes precedence, as in OPA', () => {
  assert.deepEqual(run('package t\nk := "bar"', 'data.t.k', { data: { t: { k: 'foo' } } }), ['foo']);
  assert.deepEqual(run('package t\np := data.nested[2]', 'data.t.p', { data: { nested: { 2: 'two' } } }), ['two']);
});

test('overlapping ref-head rules merge objects and sets, and conflict inside rule values', () => {
  assert.deepEqual(run('package t\np[q] contains r if { q := "a"; r := 1 }\np.a contains 2', 'data.t.p'), [{ a: [1, 2] }]);
  assert.equal(evalError('package t\np[q].r := v if { q := "q"; v := {"s": 1} }\np.q.r.t := 2', 'data.t.p').code, 'eval_conflict_error');
});

test('experimental and/or keywords and negated bodies', () => {
  const compiled = compile([{
    file: 'l.rego',
    source: 'package l\nimport future.keywords.and\nimport future.keywords.or\nimport future.keywords.not\np if { input.a > 0 and { b := 1; b > 0 } or input.c }\nq if not { x := input.xs[_]; x == 3 }',
  }], { experimentalKeywords: true });
  const value = (query: string, input: unknown) => compiled.prepare(query).eval({ input: fromJS(input) }).map((r) => r.expressions[0].value);
  assert.deepEqual(value('data.l.p', { a: 1 }), [true]);
  assert.deepEqual(value('data.l.p', { a: 0, c: true }), [true]);
  assert.deepEqual(value('data.l.p', { a: 0 }), []);
  assert.deepEqual(value('data.l.q', { xs: [1, 2] }), [true]);
  assert.deepEqual(value('data.l.q', { xs: [3] }), []);
});

test('with inside a template expression and template parameters', () => {
  assert.deepEqual(run('package t\na := input.a\np := $"v={a with input as {"a": 42}}"', 'data.t.p'), ['v=42']);
  assert.deepEqual(run('package t\nf($"{x}-1") := x if x := "a"\np := f("a-1")', 'data.t.p'), ['a']);
});

test('a partial set whose rules the index skips is empty, not undefined', () => {
  const source = 'package b\ndeny contains "big" if { input.point == "push" }\n';
  assert.deepEqual(run(source, 'x := data.b.deny', { input: { point: 'pull' } }), [{ x: [] }]);
  assert.deepEqual(run(source, 'count(data.b.deny) == 0', { input: { point: 'pull' } }), [true]);
  assert.deepEqual(run(source, 'x := data.b.deny', { input: { point: 'push' } }), [{ x: ['big'] }]);
});
