import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RNumber, RSet, fromJS, toJSONText, type Value } from '../value.ts';
import { builtins as operators } from './operators.ts';
import { builtins as aggregates } from './aggregates.ts';
import { builtins as collections } from './collections.ts';
import { builtins as objects } from './objects.ts';
import { builtins as jsonPaths } from './json-paths.ts';
import { builtins as units } from './units.ts';
import { BuiltinError, BuiltinTypeError, type BuiltinDecl } from './types.ts';

const all: BuiltinDecl[] = [...operators, ...aggregates, ...collections, ...objects, ...jsonPaths, ...units];
const ctx = { nowNs: 0n, cache: new Map<string, Value>(), strict: true };
const call = (name: string, ...args: unknown[]) => {
  const decl = all.find((b) => b.name === name)!;
  const out = decl.fn(args.map((a) => (a instanceof RNumber || a instanceof RSet ? a : fromJS(a))), ctx);
  return out === undefined ? undefined : toJSONText(out);
};
const n = (x: string) => RNumber.parse(x);

test('arithmetic errors carry OPA messages', () => {
  assert.throws(() => call('div', n('1'), n('0')), (e) => e instanceof BuiltinError && e.message === 'divide by zero');
  assert.throws(() => call('rem', n('1.1'), n('1')), /modulo on floating-point number/);
  assert.throws(() => call('minus', RSet.from([n('1')]), n('1')), /operand 2 must be set but got number/);
  assert.throws(() => call('minus', n('1'), RSet.from([n('1')])), /operand 2 must be number but got set/);
  assert.equal(call('minus', RSet.from(['a', 'b']), RSet.from(['a'])), '["b"]');
});

test('numbers.range and range_step', () => {
  assert.equal(call('numbers.range', n('2'), n('-1')), '[2,1,0,-1]');
  assert.equal(call('numbers.range_step', n('0'), n('-10'), n('4')), '[0,-4,-8]');
  assert.throws(() => call('numbers.range', n('3.14'), n('4')), /operand 1 must be integer number but got floating-point number/);
  assert.throws(() => call('numbers.range_step', n('0'), n('1'), n('-2')), /step must be a positive integer/);
});

test('aggregates: exact sums, element errors, count of runes', () => {
  assert.equal(call('sum', [n('18446744073709551617'), n('1')]), '18446744073709551618');
  assert.equal(call('sum', [1, 2.5]), '3.5');
  assert.equal(call('product', RSet.from([n('1.5'), n('2')])), '3');
  assert.equal(call('count', 'åäö'), '3');
  assert.throws(() => call('count', null), /operand 1 must be one of \{array, object, set, string\} but got null/);
  assert.throws(() => call('sum', ['a']), /operand 1 must be array of numbers but got array containing string/);
  assert.equal(call('max', []), undefined);
  assert.equal(call('sort', [3, 'a', null, 1]), '[null,1,3,"a"]');
});

test('bits on big integers; shift amount must be unsigned', () => {
  assert.equal(call('bits.lsh', n('9223372036854775807'), n('1')), '18446744073709551614');
  assert.equal(call('bits.negate', n('0')), '-1');
  assert.throws(() => call('bits.rsh', n('1'), n('-1')), (e) => e instanceof BuiltinTypeError && /unsigned integer number but got a negative integer/.test(e.message));
  assert.throws(() => call('bits.and', n('1.5'), n('1')), /operand 1 must be integer number but got floating-point number/);
});

test('array.slice clamps, array.flatten flattens one level', () => {
  assert.equal(call('array.slice', [1, 2, 3, 4, 5], n('1'), n('3')), '[2,3]');
  assert.equal(call('array.slice', [1, 2, 3], n('-5'), n('10')), '[1,2,3]');
  assert.equal(call('array.slice', [1, 2, 3], n('2'), n('1')), '[]');
  assert.equal(call('array.flatten', [[1], [[2]], 3]), '[1,[2],3]');
});

test('objects: get with paths, union deep merge, subset', () => {
  assert.equal(call('object.get', { a: { b: [1, 2] } }, ['a', 'b', 1], 0), '2');
  assert.equal(call('object.get', { a: 1 }, 'x', 'dflt'), '"dflt"');
  assert.equal(call('object.union', { a: { b: 1, c: 2 } }, { a: { b: 3 } }), '{"a":{"b":3,"c":2}}');
  assert.equal(call('object.union_n', [{ a: 1 }, { a: 2, b: 1 }]), '{"a":2,"b":1}');
  assert.equal(call('object.subset', { a: 1, n: { x: [6, 7, 8] } }, { n: { x: [7, 8] } }), 'true');
  assert.equal(call('object.subset', [1, 2, 3, 4], [2, 4]), 'false');
  assert.equal(call('object.remove', { a: 1, b: 2 }, ['a']), '{"b":2}');
  assert.throws(() => call('object.filter', { a: 1 }, 'a'), /operand 2 must be one of \{object, set, array\} but got string/);
});

test('json.filter / json.remove / json.patch', () => {
  assert.equal(call('json.filter', { a: { b: { c: 7, d: 8 } }, e: 9 }, ['a/b/c', 'e']), '{"a":{"b":{"c":7}},"e":9}');
  assert.equal(call('json.filter', { a: [{ b: 7, c: 8 }, { d: 9 }] }, ['a/0/b', 'a/1']), '{"a":[{"b":7},{"d":9}]}');
  assert.equal(call('json.remove', { a: { b: 7 }, c: 1 }, ['a', 'a/b']), '{"c":1}');
  assert.equal(call('json.remove', { a: [1, 2, 3] }, [['a', 1]]), '{"a":[1,3]}');
  const patched = call('json.patch', { a: [1] }, [
    { op: 'add', path: '/a/-', value: 2 },
    { op: 'copy', from: '/a', path: '/b' },
    { op: 'replace', path: '/a/0', value: 9 },
    { op: 'test', path: '/b/1', value: 2 },
  ]);
  assert.equal(patched, '{"a":[9,2],"b":[1,2]}');
  assert.equal(call('json.patch', { a: 1 }, [{ op: 'remove', path: '/x' }]), undefined);
});

test('units: SI, binary, milli and integer bytes', () => {
  assert.equal(call('units.parse', '1.1Ki'), '1126.4');
  assert.equal(call('units.parse', '500m'), '0.5');
  assert.equal(call('units.parse', '5E'), '5000000000000000000');
  assert.equal(call('units.parse_bytes', '1.1KiB'), '1126');
  assert.equal(call('units.parse_bytes', '"100TIB"'), '109951162777600');
  assert.throws(() => call('units.parse', '100 k'), /spaces not allowed in resource strings/);
  assert.throws(() => call('units.parse_bytes', 'GB'), /no byte amount provided/);
  assert.throws(() => call('units.parse', '10e10000000Ei'), /exponent too large/);
});
