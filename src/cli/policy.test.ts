import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPolicyCommand, type PolicyIO } from './policy.ts';

function capture(): PolicyIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t) };
}

function fixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-policy-'));
  mkdirSync(join(dir, 'policies', 'users'), { recursive: true });
  writeFileSync(join(dir, 'policies', 'authz.rego'), [
    'package authz',
    'default allow := false',
    'allow if input.user in data.users.admins',
    'test_admin if allow with input as {"user": "alice"}',
    'test_other if not allow with input as {"user": "bob"}',
  ].join('\n'));
  writeFileSync(join(dir, 'policies', 'users', 'data.json'), '{"admins": ["alice"], "big": 123456789012345678901234567890}');
  writeFileSync(join(dir, 'input.json'), '{"user": "alice"}');
  return dir;
}

test('eval prints opa-shaped JSON with bindings and exact big numbers', async () => {
  const dir = fixture();
  try {
    const io = capture();
    const code = await runPolicyCommand(['eval', '-d', join(dir, 'policies'), '-i', join(dir, 'input.json'), 'a := data.authz.allow; b := data.users.big'], io);
    assert.equal(code, 0);
    const text = io.stdout.join('\n');
    assert.match(text, /"b": 123456789012345678901234567890/);
    const parsed = JSON.parse(text.replace(/123456789012345678901234567890/, '0'));
    assert.equal(parsed.result.length, 1);
    assert.equal(parsed.result[0].bindings.a, true);
    assert.deepEqual(parsed.result[0].expressions[0], { value: true, text: 'a := data.authz.allow', location: { row: 1, col: 1 } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('eval prints {} when the query is undefined', async () => {
  const io = capture();
  assert.equal(await runPolicyCommand(['eval', 'input.missing'], io), 0);
  assert.deepEqual(io.stdout, ['{}']);
});

test('test runs test_ rules and fails the exit code on a failing test', async () => {
  const dir = fixture();
  try {
    let io = capture();
    assert.equal(await runPolicyCommand(['test', join(dir, 'policies')], io), 0);
    assert.ok(io.stdout.includes('PASS: 2/2'));
    writeFileSync(join(dir, 'policies', 'broken_test.rego'), 'package authz\ntest_broken if allow with input as {"user": "eve"}\n');
    io = capture();
    assert.equal(await runPolicyCommand(['test', join(dir, 'policies')], io), 1);
    assert.ok(io.stdout.some((l) => l.startsWith('data.authz.test_broken: FAIL')));
    assert.ok(io.stdout.includes('FAIL: 1/3'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('check reports parse errors as file:row:col and exits 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-policy-'));
  try {
    const file = join(dir, 'bad.rego');
    writeFileSync(file, 'package bad\n\np if {\n  x :=\n}\n');
    const io = capture();
    assert.equal(await runPolicyCommand(['check', file], io), 1);
    assert.match(io.stderr[0], new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5:1: rego_parse_error: `));
    writeFileSync(file, 'package good\np if input.x == 1\n');
    assert.equal(await runPolicyCommand(['check', file], capture()), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input files give a clear message with the line, not a stack trace', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-policy-'));
  try {
    writeFileSync(join(dir, 'in.json'), '{\n  "a": 1,\n}');
    let io = capture();
    assert.equal(await runPolicyCommand(['eval', '-i', join(dir, 'in.json'), 'input'], io), 1);
    assert.match(io.stderr.join('\n'), /in\.json: invalid JSON: .*line 3/);
    io = capture();
    assert.equal(await runPolicyCommand(['eval', '-d', join(dir, 'missing'), 'data'], io), 1);
    assert.match(io.stderr.join('\n'), /missing: no such file or directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unknown flags and subcommands are usage errors', async () => {
  assert.equal(await runPolicyCommand(['eval', '--bogus', 'x'], capture()), 2);
  assert.equal(await runPolicyCommand(['frobnicate'], capture()), 2);
});
