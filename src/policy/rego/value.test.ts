import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JSONNumber, RNumber, RObject, RSet, compare, equal, fromJS, keyOf, toJS, toJSONText, typeName, type Value } from './value.ts';

const num = (s: string) => RNumber.parse(s);

test('OPA type order: null < boolean < number < string < array < object < set', () => {
  const ordered: Value[] = [null, false, true, num('-1'), num('2.5'), '', 'a', [], [num('1')], new RObject(), fromJS({ a: 1 }), new RSet()];
  for (let i = 0; i < ordered.length; i++) {
    for (let j = 0; j < ordered.length; j++) {
      assert.equal(Math.sign(compare(ordered[i]!, ordered[j]!)), Math.sign(i - j), `${i} vs ${j}`);
    }
  }
});

test('strings compare by UTF-8 bytes (astral characters after U+FFFF)', () => {
  assert.ok(compare('\uffff', '\u{1F600}') < 0);
  assert.ok(compare('a', 'ab') < 0);
  assert.ok(compare('B', 'a') < 0);
});

test('composites compare element-wise; objects by sorted keys then values', () => {
  assert.ok(compare([num('1'), num('2')], [num('1'), num('3')]) < 0);
  assert.ok(compare([num('1')], [num('1'), num('0')]) < 0);
  assert.ok(compare(fromJS({ a: 1 }), fromJS({ b: 0 })) < 0);
  assert.ok(compare(fromJS({ a: 1 }), fromJS({ a: 2 })) < 0);
  assert.ok(compare(RSet.from([num('1'), num('3')]), RSet.from([num('2')])) < 0);
});

test('equal values have equal keys: 1 and 1.0 are one object key and one set member', () => {
  const o = new RObject();
  o.set(num('1'), 'x');
  o.set(num('1.0'), 'y');
  assert.equal(o.size, 1);
  assert.equal(o.get(num('1.00')), 'y');
  const s = RSet.from([num('1'), num('1.0'), '1']);
  assert.equal(s.size, 2, 'the string "1" is a different member');
  assert.equal(keyOf(fromJS({ a: [1, 2] })), keyOf(fromJS({ a: [1.0, 2] })));
  assert.notEqual(keyOf('null'), keyOf(null));
  assert.notEqual(keyOf('\u0000true'), keyOf(true));
  assert.notEqual(keyOf(['a,b']), keyOf(['a', 'b']));
  assert.notEqual(keyOf(RSet.from(['a'])), keyOf(['a']));
});

test('equal() agrees with compare() == 0', () => {
  const a = fromJS({ x: [1, { y: null }], z: 'q' });
  const b = fromJS({ z: 'q', x: [1.0, { y: null }] });
  assert.ok(equal(a, b));
  assert.equal(compare(a, b), 0);
  assert.ok(!equal(fromJS([1, 2]), RSet.from([num('1'), num('2')])));
});

test('object and set keys are cached but invalidated while building', () => {
  const o = new RObject();
  o.set('a', num('1'));
  const before = keyOf(o);
  o.set('b', num('2'));
  assert.notEqual(keyOf(o), before);
  const s = RSet.from(['x']);
  const k = keyOf(s);
  s.add('y');
  assert.notEqual(keyOf(s), k);
  assert.deepEqual(s.sorted(), ['x', 'y']);
});

test('fromJS / toJS round trip keeps numbers exact', () => {
  const v = fromJS({ big: 18446744073709551614n, small: 3, dec: 0.5, list: [true, null], nested: { s: 'x' } });
  const js = toJS(v) as Record<string, unknown>;
  assert.equal(js.big, 18446744073709551614n);
  assert.equal(js.small, 3);
  assert.equal(js.dec, 0.5);
  assert.deepEqual(js.list, [true, null]);
  const precise = toJS(num('0.10000000000000000001'));
  assert.ok(precise instanceof JSONNumber);
  assert.equal((precise as JSONNumber).text, '0.10000000000000000001');
});

test('toJS: sets become sorted arrays, non-string keys JSON-encoded', () => {
  const o = new RObject();
  o.set(num('1'), RSet.from(['b', 'a']));
  o.set(['x'], true);
  assert.deepEqual(toJS(o), { '1': ['a', 'b'], '["x"]': true });
});

test('toJSONText is canonical: sorted keys, exact numbers', () => {
  const v = fromJS({ b: [1, 2.5], a: 'x' });
  assert.equal(toJSONText(v), '{"a":"x","b":[1,2.5]}');
  assert.equal(toJSONText(num('123456789012345678901234567890')), '123456789012345678901234567890');
  assert.equal(toJSONText(RSet.from([num('2'), num('1')])), '[1,2]');
});

test('typeName', () => {
  assert.deepEqual(
    [null, true, num('1'), 's', [], new RObject(), new RSet()].map(typeName),
    ['null', 'boolean', 'number', 'string', 'array', 'object', 'set'],
  );
});
