import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromJS, type Value } from '../value.ts';
import { builtins } from './glob.ts';
import { globsIntersect } from './regex-globs.ts';

const ctx = { nowNs: 0n, cache: new Map<string, Value>(), strict: true };
const match = (pattern: string, delimiters: unknown, s: string) =>
  builtins.find((b) => b.name === 'glob.match')!.fn([pattern, fromJS(delimiters), s], ctx);

test('* stops at delimiters, ** crosses them', () => {
  assert.equal(match('*.github.com', ['.'], 'api.github.com'), true);
  assert.equal(match('*.github.com', ['.'], 'api.cdn.github.com'), false);
  assert.equal(match('api.**.com', ['.'], 'api.cdn.github.com'), true);
  assert.equal(match('*:github:com', [':'], 'api:github:com'), true);
});

test('an empty delimiter list means ".", null means none', () => {
  assert.equal(match('*', [], 'foo.bar'), false);
  assert.equal(match('*', null, 'foo.bar'), true);
  assert.equal(match('foo*', null, 'foo.bar'), true);
});

test('?, character lists and ranges, alternatives, escapes', () => {
  assert.equal(match('?at', [], 'fat'), true);
  assert.equal(match('?at', [], 'at'), false);
  assert.equal(match('?at', ['f'], 'fat'), false);
  assert.equal(match('[abc]at', [], 'cat'), true);
  assert.equal(match('[!abc]at', [], 'cat'), false);
  assert.equal(match('[a-c]at', [], 'bat'), true);
  assert.equal(match('[!a-c]at', [], 'fat'), true);
  assert.equal(match('{cat,bat,[fr]at}', [], 'rat'), true);
  assert.equal(match('{cat,bat,[fr]at}', [], 'at'), false);
  assert.equal(match('\\*.com', [], '*.com'), true);
  assert.equal(match('\\*.com', [], 'x.com'), false);
  assert.equal(match('a(b)+', [], 'a(b)+'), true, 'regex metacharacters are literal');
});

test('glob.quote_meta escapes glob syntax', () => {
  const quote = builtins.find((b) => b.name === 'glob.quote_meta')!.fn;
  assert.equal(quote(['*.github.com'], ctx), '\\*.github.com');
  assert.equal(quote(['[a]{b}?\\'], ctx), '\\[a\\]\\{b\\}\\?\\\\');
});

test('regex.globs_match decides whether two patterns share a string', () => {
  assert.equal(globsIntersect('a.a.[0-9]+z', '.b.b2359825792*594823z'), true);
  assert.equal(globsIntersect('[a-z]+', '[0-9]*'), false, 'a letter is required on one side only');
  assert.equal(globsIntersect('[a-z]*', '[0-9]*'), true, 'both accept the empty string');
  assert.equal(globsIntersect('b.*', 'bar'), true);
  assert.equal(globsIntersect('[a-z]+\\[[0-9]+\\]', 'foo\\[1\\]'), true);
  assert.equal(globsIntersect('[a-z]+\\[[0-9]+\\]', 'foo["bar"]'), false);
  assert.equal(globsIntersect('[^a]', 'a'), false);
  assert.throws(() => globsIntersect('pqrs]', '[a-b]+'), /pos:5, set-close/);
});
