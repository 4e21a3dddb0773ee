import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RNumber, type Value } from '../value.ts';
import { builtins } from './semver.ts';
import { BuiltinError } from './types.ts';

const ctx = { nowNs: 0n, cache: new Map<string, Value>(), strict: true };
const fn = (name: string) => builtins.find((b) => b.name === name)!.fn;
const cmp = (a: string, b: string) => (fn('semver.compare')([a, b], ctx) as RNumber).toSafeInteger();

test('semver.compare follows SemVer 2.0.0 precedence', () => {
  assert.equal(cmp('1.0.0', '1.0.0'), 0);
  assert.equal(cmp('1.0.0', '2.0.0'), -1);
  assert.equal(cmp('1.10.0', '1.9.0'), 1);
  assert.equal(cmp('1.0.0-alpha', '1.0.0'), -1);
  const chain = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0'];
  for (let i = 0; i + 1 < chain.length; i++) assert.equal(cmp(chain[i]!, chain[i + 1]!), -1, `${chain[i]} < ${chain[i + 1]}`);
  assert.equal(cmp('1.0.0+build.1', '1.0.0+build.2'), 0, 'build metadata is ignored');
  assert.equal(cmp('99999999999999999999.0.0', '99999999999999999998.0.0'), 1);
});

test('semver.compare rejects invalid versions with OPA message', () => {
  assert.throws(() => cmp('1', '1.0.0'), (e) => e instanceof BuiltinError && e.message === 'operand 1: string "1" is not a valid SemVer');
  assert.throws(() => cmp('1.0.0', '1'), /operand 2: string "1" is not a valid SemVer/);
});

test('semver.is_valid', () => {
  const valid = fn('semver.is_valid');
  for (const v of ['1.0.0', '0.0.0-0', '1.2.3-rc.1+build.5']) assert.equal(valid([v], ctx), true, v);
  for (const v of ['v1.0.0', '1.0', '01.0.0', '1.0.0-01', '1.0.0+', 'x']) assert.equal(valid([v], ctx), false, v);
  assert.equal(valid([RNumber.int(1)], ctx), false);
});
