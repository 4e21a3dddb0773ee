/**
 * The evaluator's fast paths (compiled steps, prepared function calls, shared constants,
 * reused envs) must give exactly what the general evaluator gives, evaluation after
 * evaluation: these tests run each query several times on one prepared query.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, fromJS, toJS, RegoError } from '../index.ts';
import { Env } from './env.ts';
import { RNumber } from '../number.ts';
import { RSet, fromJS as toValue } from '../value.ts';

/** The JSON form of the query's first expression, evaluated `times` times (all must agree). */
function evalRepeatedly(source: string, query: string, input?: unknown, times = 3): unknown {
  const prepared = compile([{ file: 'test.rego', source }]).prepare(query);
  const inputValue = input === undefined ? undefined : fromJS(input);
  let first: unknown;
  for (let i = 0; i < times; i++) {
    const results = prepared.eval({ input: inputValue });
    const value = results.length ? toJS(results[0].expressions[0].value) : undefined;
    if (i === 0) first = value;
    else assert.deepEqual(value, first, `evaluation ${i + 1} differs from the first`);
  }
  return first;
}

test('env slots: an unbound var reads as absent, and can be bound again', () => {
  const env = new Env([['x', 1 as unknown as RNumber]]);
  const slot = env.slot('y');
  assert.equal(env.has('y'), false);
  slot.value = 'a';
  assert.equal(env.get('y'), 'a');
  env.delete('y');
  assert.equal(env.has('y'), false);
  assert.equal(env.get('y'), undefined);
  env.set('y', 'b');
  assert.equal(env.slot('y'), slot, 'the slot is kept and reused');
  assert.equal(env.get('x'), 1);
});

test('env slots: a large env finds its vars through its index, before and after it grows', () => {
  const env = new Env();
  const names = Array.from({ length: 40 }, (_, i) => `v${i}`);
  names.forEach((name, i) => env.set(name, `value ${i}`));
  names.forEach((name, i) => assert.equal(env.get(name), `value ${i}`, name));
  env.delete('v3');
  assert.equal(env.has('v3'), false);
  env.set('v3', 'again');
  assert.equal(env.get('v3'), 'again');
  assert.equal(env.get('v40'), undefined);
  const src = `package t\nr := s if {\n${names.map((n, i) => `  ${n} := ${i}`).join('\n')}\n  s := sum([${names.join(', ')}])\n}`;
  assert.equal(evalRepeatedly(src, 'data.t.r'), (39 * 40) / 2);
});

test('functions with several definitions share one env per call, call after call', () => {
  const src = `package t
millis(cpu) := to_number(trim_suffix(cpu, "m")) if endswith(cpu, "m")
millis(cpu) := to_number(cpu) * 1000 if not endswith(cpu, "m")
allowed(image) if {
  some registry in {"a.io", "b.io"}
  startswith(image, concat("", [registry, "/"]))
}
r := [millis(c) | some c in input.cpus]
s := [i | some i in input.images; allowed(i)]
`;
  assert.deepEqual(evalRepeatedly(src, 'data.t.r', { cpus: ['250m', '2', '0m', '007'] }), [250, 2000, 0, 7000]);
  assert.deepEqual(evalRepeatedly(src, 'data.t.s', { images: ['a.io/x', 'c.io/y', 'b.io/z'] }), ['a.io/x', 'b.io/z']);
});

test('a conflict between definitions is still an error, and the next call still works', () => {
  const src = 'package t\nf(x) := 1 if x > 0\nf(x) := 2 if x > 1\ng(x) := f(x)';
  const prepared = compile([{ file: 'test.rego', source: src }]).prepare('data.t.g(input.x)');
  assert.throws(() => prepared.eval({ input: fromJS({ x: 5 }) }), (e) => e instanceof RegoError && e.errors[0].code === 'eval_conflict_error');
  assert.equal(toJS(prepared.eval({ input: fromJS({ x: 1 }) })[0].expressions[0].value), 1);
});

test('a function replaced by itself with `with` runs nested without sharing its env', () => {
  const src = 'package t\nf(x) := y if { y := g(x) with g as h }\ng(x) := x\nh(x) := x * 10\nr := f(2)';
  assert.equal(evalRepeatedly(src, 'data.t.r'), 20);
});

test('constant rules and literals are shared between evaluations but never changed', () => {
  const src = `package t
nums := [3, 1, 2]
names := {"b", "a"}
conf := {"limit": 4000, "tags": ["x"]}
r := {"sorted": sort(nums), "joined": array.concat(nums, [9]), "union": names | {"c"}, "conf": object.union(conf, {"limit": 1})}
`;
  const expected = { sorted: [1, 2, 3], joined: [3, 1, 2, 9], union: ['a', 'b', 'c'], conf: { limit: 1, tags: ['x'] } };
  assert.deepEqual(evalRepeatedly(src, 'data.t.r'), expected);
  assert.deepEqual(evalRepeatedly(src, 'data.t.nums'), [3, 1, 2]);
});

test('a rule extending another rule\'s value extends a copy: constants and input stay as they were', () => {
  const src = `package t
p[k] := {"a": 1} if some k in ["x"]
p[k].b := 2 if { some k in ["x"]; input.flag }
q[k] := input.obj if some k in ["y"]
q[k].c := 3 if some k in ["y"]
`;
  const prepared = compile([{ file: 'test.rego', source: src }]).prepare('data.t');
  const input = fromJS({ flag: true, obj: { o: 0 } });
  const first = toJS(prepared.eval({ input })[0].expressions[0].value);
  assert.deepEqual(first, { p: { x: { a: 1, b: 2 } }, q: { y: { o: 0, c: 3 } } });
  assert.deepEqual(toJS(input), { flag: true, obj: { o: 0 } }, 'the input is not changed');
  const second = toJS(prepared.eval({ input: fromJS({ flag: false, obj: { o: 0 } }) })[0].expressions[0].value);
  assert.deepEqual(second, { p: { x: { a: 1 } }, q: { y: { o: 0, c: 3 } } }, 'the constant is not changed');
});

test('field paths read objects by key and sets by membership, and input unless shadowed', () => {
  const src = `package t
r := [x.a.b | some x in input.items]
s := [y | some y in input.items; y.tags.red]
n := input.nested.deep.value
`;
  const input = { items: [{ a: { b: 1 } }, { a: { c: 2 } }, { a: 'str' }], nested: { deep: { value: 'v' } } };
  assert.deepEqual(evalRepeatedly(src, 'data.t.r', input), [1]);
  assert.equal(evalRepeatedly(src, 'data.t.n', input), 'v');
  const withSets = { items: [{ tags: new Set(['red', 'blue']) }, { tags: new Set(['blue']) }] };
  const src2 = 'package t\nr := count([y | some y in input.items; y.tags.red])';
  const prepared = compile([{ file: 'test.rego', source: src2 }]).prepare('data.t.r');
  assert.equal(toJS(prepared.eval({ input: toValue(withSets) })[0].expressions[0].value), 1);
});

test('rule metadata is tracked for the rule and the function being evaluated', () => {
  const src = `package t
# METADATA
# title: the function
f(x) := [x, rego.metadata.rule().title]

# METADATA
# title: the rule
r := [rego.metadata.rule().title, f(1)]
`;
  assert.deepEqual(evalRepeatedly(src, 'data.t.r'), ['the rule', [1, 'the function']]);
});

test('sprintf formats are parsed once and give the same text every time', () => {
  const src = `package t
r := [sprintf("%s-%05d|%-4s|%*d|%.*f|%v%%", [x, 42, "ab", 6, 7, 2, 3.14159, true]) | some x in ["a", "b"]]
errors := [sprintf("%d %!", [1]), sprintf("%d %", [1]), sprintf("%*d", ["x", 1]), sprintf("%s", [])]
`;
  assert.deepEqual(evalRepeatedly(src, 'data.t.r'), ['a-00042|ab  |     7|3.14|true%', 'b-00042|ab  |     7|3.14|true%']);
  assert.deepEqual(evalRepeatedly(src, 'data.t.errors'), ['1 %!!(MISSING)', '1 %!(NOVERB)', '%!(BADWIDTH)1', '%!s(MISSING)']);
});

test('number text: short integers take the quick path with the same results', () => {
  for (const [text, lenient, expected] of [
    ['42', false, '42'], ['-7', false, '-7'], ['0', false, '0'], ['-0', false, '0'], ['007', true, '7'],
    ['123456789012345', false, '123456789012345'], ['1234567890123456', false, '1234567890123456'],
    ['-999999999999999', false, '-999999999999999'],
  ] as const) {
    assert.equal(RNumber.tryParse(text, lenient)?.canonical(), expected, text);
  }
  for (const bad of ['01', '-01', '-', '', '1a', '+']) assert.equal(RNumber.tryParse(bad, false), undefined, bad);
  assert.equal(RNumber.parse('-0').toString(), '-0', 'the literal text is kept');
  assert.deepEqual(evalRepeatedly('package t\nr := [to_number("+5"), to_number("08"), to_number("-12"), to_number("1e3")]', 'data.t.r'), [5, 8, -12, 1000]);
});

test('sets keep their members in order of insertion for iteration, and their key cached', () => {
  const s = RSet.from(['b', 'a']);
  assert.deepEqual(s.members(), ['b', 'a']);
  s.add('c');
  assert.deepEqual(s.members(), ['b', 'a', 'c'], 'adding a member refreshes the list');
  const o = toValue({ k: 1 });
  const set = RSet.from([o]);
  assert.ok(set.has(toValue({ k: 1 })), 'objects are found by value');
});
