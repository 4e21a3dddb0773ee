import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toJSONText, type Value } from '../value.ts';
import type { BuiltinContext } from './types.ts';
import { builtins } from './uri.ts';

const table = new Map(builtins.map((b) => [b.name, b]));
const ctx: BuiltinContext = { nowNs: 0n, cache: new Map(), strict: true };
const call = (name: string, ...args: Value[]): string => toJSONText(table.get(name)!.fn(args, ctx)!);

test('uri.parse splits a URL into its non-empty parts', () => {
  assert.equal(
    call('uri.parse', 'https://example.com:8080/api?q=1#top'),
    '{"fragment":"top","hostname":"example.com","path":"/api","port":"8080","raw_path":"/api","raw_query":"q=1","scheme":"https"}',
  );
  assert.equal(call('uri.parse', 'http://[::1]:8080/p'), '{"hostname":"::1","path":"/p","port":"8080","raw_path":"/p","scheme":"http"}');
  assert.equal(call('uri.parse', 'mailto:user@example.com'), '{"scheme":"mailto"}');
  assert.equal(call('uri.parse', ''), '{}');
});

test('raw_path keeps the written path only when default escaping would not reproduce it', () => {
  assert.equal(JSON.parse(call('uri.parse', 'https://e.com/path%2Fwith%2Fslashes')).raw_path, '/path%2Fwith%2Fslashes');
  assert.equal(JSON.parse(call('uri.parse', 'https://e.com/a%21b')).raw_path, '/a!b');
});

test('invalid URLs fail with Go net/url messages and is_valid is false for them', () => {
  const bad: [string, RegExp][] = [
    ['http://exa%6dple.com/', /parse "http:\/\/exa%6dple.com\/": invalid URL escape "%6d"/],
    ['http://a<b@example.com/', /net\/url: invalid userinfo/],
    ['http://example.com:٣٤/', /invalid port ":٣٤" after host/],
    ['http://[invalid', /missing '\]' in host/],
  ];
  for (const [url, message] of bad) {
    assert.throws(() => call('uri.parse', url), message);
    assert.equal(call('uri.is_valid', url), 'false');
  }
  assert.equal(call('uri.is_valid', 'http://foo]bar/'), 'true');
  assert.equal(call('uri.is_valid', ''), 'false');
});
