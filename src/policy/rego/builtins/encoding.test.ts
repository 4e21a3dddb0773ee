import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromJS, toJSONText, type Value } from '../value.ts';
import { builtins as encoding } from './encoding.ts';
import { builtins as encodingJson } from './encoding-json.ts';
import { builtins as regex } from './regex.ts';
import { builtins as jsonschema } from './jsonschema.ts';
import type { BuiltinDecl } from './types.ts';

const all: BuiltinDecl[] = [...encoding, ...encodingJson, ...regex, ...jsonschema];
const ctx = { nowNs: 0n, cache: new Map<string, Value>(), strict: true };
const call = (name: string, ...args: unknown[]) => {
  const out = all.find((b) => b.name === name)!.fn(args.map((a) => fromJS(a)), ctx);
  return out === undefined ? undefined : toJSONText(out);
};

test('base64 is strict like Go; base64url accepts padded and raw', () => {
  assert.equal(call('base64.decode', 'aGVsbG8='), '"hello"');
  assert.throws(() => call('base64.decode', 'aGVsbG8'), /illegal base64 data at input byte 4/);
  assert.equal(call('base64.is_valid', 'aGVsbG8'), 'false');
  assert.equal(call('base64url.decode', 'aGVsbG8'), '"hello"');
  assert.equal(call('base64url.encode', '\u00ff\u00fe'), '"w7_Dvg=="');
  assert.equal(call('base64url.encode_no_pad', '\u00ff\u00fe'), '"w7_Dvg"');
  assert.throws(() => call('hex.decode', 'zz'), /encoding\/hex: invalid byte: U\+007A 'z'/);
});

test('urlquery follows url.QueryEscape and ParseQuery', () => {
  assert.equal(call('urlquery.encode', 'a=b+1 c'), '"a%3Db%2B1+c"');
  assert.equal(call('urlquery.decode', 'a%3Db%2B1+c'), '"a=b+1 c"');
  assert.throws(() => call('urlquery.decode', '%zz'), /invalid URL escape "%zz"/);
  assert.equal(call('urlquery.encode_object', { b: ['2', '1'], a: 'x' }), '"a=x&b=2&b=1"');
  assert.equal(call('urlquery.decode_object', 'a=1&b&a=2'), '{"a":["1","2"],"b":[""]}');
});

test('json.marshal escapes like Go and pretty-prints with prefix/indent', () => {
  assert.equal(call('json.marshal', { b: '<x>', a: [1.5] }), JSON.stringify('{"a":[1.5],"b":"\\u003cx\\u003e"}'));
  assert.equal(call('json.marshal_with_options', [1, {}], { prefix: '> ', indent: ' ' }), JSON.stringify('> [\n>  1,\n>  {}\n> ]'));
  assert.throws(() => call('json.marshal_with_options', [], { nope: true }), /object contained unknown key "nope"/);
});

test('json.unmarshal keeps numbers exact; yaml round trip', () => {
  assert.equal(call('json.unmarshal', '{"n": 123456789012345678901234567890, "d": 0.1}'), '{"d":0.1,"n":123456789012345678901234567890}');
  assert.equal(call('json.is_valid', '{'), 'false');
  const text = JSON.parse(call('yaml.marshal', { foo: [1, 2], on: 'yes' })!) as string;
  assert.equal(call('yaml.unmarshal', text), '{"foo":[1,2],"on":"yes"}');
  assert.throws(() => call('yaml.unmarshal', '[1,2,3'), /yaml: line 1: did not find/);
});

test('regex built-ins use RE2 and Go match iteration', () => {
  assert.equal(call('regex.find_n', 'a*', 'baaac', -1), '["","aaa",""]');
  assert.equal(call('regex.split', 'a', 'banana'), '["b","n","n",""]');
  assert.equal(call('regex.replace', 'abc-def', '(\\w+)-(?P<second>\\w+)', '${second}.$1'), '"def.abc"');
  assert.equal(call('regex.find_all_string_submatch_n', '(a)(x)?', 'za', -1), '[["a","a",""]]');
  assert.equal(call('regex.template_match', 'urn:foo:{.*}', 'urn:foo:bar', '{', '}'), 'true');
  assert.throws(() => call('regex.match', '[a', 'x'), /error parsing regexp: missing closing \]/);
  assert.equal(call('regex.is_valid', '(?<=x)'), 'false', 'RE2 has no lookbehind');
});

test('json.match_schema reports gojsonschema-style errors', () => {
  const schema = { properties: { id: { type: 'integer' } }, required: ['id'] };
  assert.equal(call('json.match_schema', { id: 5 }, schema), '[true,[]]');
  assert.equal(
    call('json.match_schema', {}, schema),
    '[false,[{"desc":"id is required","error":"(root): id is required","field":"(root)","type":"required"}]]',
  );
  assert.match(call('json.verify_schema', '{"type": "unknown_type"}')!, /has a primitive type that is NOT VALID -- given: \/unknown_type\//);
});
