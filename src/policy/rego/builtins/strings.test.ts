import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RNumber, RSet, fromJS, toJSONText, type Value } from '../value.ts';
import { builtins } from './strings.ts';
import { BuiltinError, BuiltinTypeError } from './types.ts';

const ctx = { nowNs: 0n, cache: new Map<string, Value>(), strict: true };
const call = (name: string, ...args: Value[]) => {
  const out = builtins.find((b) => b.name === name)!.fn(args, ctx);
  return out === undefined ? undefined : toJSONText(out);
};
const n = (x: string) => RNumber.parse(x);

test('rune-based indexing: indexof, indexof_n, substring', () => {
  assert.equal(call('indexof', 'åäöx', 'x'), '3');
  assert.equal(call('indexof_n', 'dogcatdogcat', 'cat'), '[3,9]');
  assert.equal(call('indexof_n', '😇😀😇😀', '😀'), '[1,3]');
  assert.equal(call('substring', 'åäö', n('0'), n('2')), '"åä"');
  assert.equal(call('substring', 'abcdefgh', n('2'), n('-1')), '"cdefgh"');
  assert.equal(call('substring', 'abc', n('5'), n('1')), '""');
  assert.throws(() => call('substring', 'aaa', n('-1'), n('-1')), (e) => e instanceof BuiltinError && e.message === 'negative offset');
});

test('split, split_n and strings.count', () => {
  assert.equal(call('split', 'a.b', ''), '["a",".","b"]');
  assert.equal(call('strings.split_n', 'a.b.c.d', '.', n('2')), '["a","b"]');
  assert.equal(call('strings.split_n', 'a.b.c.d', '.', n('-2')), '["c","d"]');
  assert.equal(call('strings.split_n', 'a.b.c.d', '.', n('0')), '[]');
  assert.equal(call('strings.split_n', 'abc', '', n('-2')), '["b","c"]');
  assert.throws(() => call('strings.split_n', 'a', '.', n('1.5')), BuiltinTypeError);
  assert.equal(call('strings.count', 'cheese', 'e'), '3');
  assert.equal(call('strings.count', 'five', ''), '5');
});

test('trim family follows Go (cutsets are runes, trim_space uses unicode spaces)', () => {
  assert.equal(call('trim', '¡¡¡Hello!!!', '!¡'), '"Hello"');
  assert.equal(call('trim_left', 'xxhixx', 'x'), '"hixx"');
  assert.equal(call('trim_right', 'xxhixx', 'x'), '"xxhi"');
  assert.equal(call('trim_prefix', 'prefix-x', 'prefix-'), '"x"');
  assert.equal(call('trim_suffix', 'x.rego', '.rego'), '"x"');
  assert.equal(call('trim_space', '\u00a0\t hi \n\u3000'), '"hi"');
});

test('replace and strings.replace_n', () => {
  assert.equal(call('replace', 'aaa', 'a', 'b'), '"bbb"');
  assert.equal(call('replace', 'ab', '', '-'), '"-a-b-"');
  assert.equal(call('strings.replace_n', fromJS({ '<': '&lt;', '>': '&gt;' }), '<a>'), '"&lt;a&gt;"');
  assert.throws(
    () => call('strings.replace_n', fromJS({ a: 1 }), 'a'),
    (e) => e instanceof BuiltinTypeError && e.message === 'operand 1 non-string value found in pattern object',
  );
});

test('concat, any_prefix_match and element type errors', () => {
  assert.equal(call('concat', ',', RSet.from(['b', 'a'])), '"a,b"');
  assert.equal(call('strings.any_prefix_match', fromJS(['x', 'foo/bar']), 'foo/'), 'true');
  assert.equal(call('strings.any_suffix_match', 'a.rego', fromJS(['.json', '.rego'])), 'true');
  assert.throws(
    () => call('strings.any_suffix_match', fromJS(['a', 1]), 'a'),
    (e) => e instanceof BuiltinTypeError && e.message === 'operand 1 must be array of strings but got array containing number',
  );
  assert.throws(() => call('strings.any_prefix_match', n('1'), 'a'), /operand 1 must be one of \{string, set, array\} but got number/);
});

test('format_int truncates and supports big integers; reverse', () => {
  assert.equal(call('format_int', n('15.5'), n('16')), '"f"');
  assert.equal(call('format_int', n('-18446744073709551617'), n('16')), '"-10000000000000001"');
  assert.throws(() => call('format_int', n('1'), n('3')), /operand 2 must be one of \{2, 8, 10, 16\}/);
  assert.equal(call('strings.reverse', 'åb😀'), '"😀bå"');
});
