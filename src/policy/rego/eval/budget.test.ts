// The evaluation budget holds through built-ins: their work counts against the deadline in
// proportion to what they do, and a size cap or deadline passed fails the evaluation, strict
// built-in errors or not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, toJS, RegoError, type EvalLimits } from '../index.ts';

function outcome(source: string, limits: EvalLimits): { error?: RegoError; value?: unknown; ms: number } {
  const query = compile([{ file: 'budget.rego', source }]).prepare('x := data.t.deny');
  const started = performance.now();
  try {
    const results = query.eval({ limits });
    return { value: results[0] && toJS(results[0].bindings.x!), ms: performance.now() - started };
  } catch (error) {
    assert.ok(error instanceof RegoError, String(error));
    return { error, ms: performance.now() - started };
  }
}

test('a range past the size cap fails the evaluation instead of leaving the rule undefined', () => {
  const { error, ms } = outcome('package t\ndeny contains "huge" if count(numbers.range(1, 1e11)) > 0', { timeoutMs: 1000 });
  assert.equal(error?.code, 'eval_limit_error');
  assert.match(error!.message, /numbers\.range: result too large/);
  assert.ok(ms < 500, `failed after ${ms} ms`);
});

test('ranges that each fit the cap but together outrun the deadline stop at it', () => {
  const calls = Array.from({ length: 30 }, (_, i) => `  count(numbers.range(${i}, 9999999)) > 0`).join('\n');
  const { error, ms } = outcome(`package t\ndeny contains "slow" if {\n${calls}\n}`, { timeoutMs: 300 });
  assert.equal(error?.code, 'eval_cancel_error');
  assert.ok(ms < 300 * 1.5 + 200, `failed after ${ms} ms`);
});

test('test.sleep cannot outlast the deadline', () => {
  const sleeps = Array.from({ length: 15 }, () => '  test.sleep("1s")').join('\n');
  const { error, ms } = outcome(`package t\ndeny contains "slept" if {\n${sleeps}\n}`, { timeoutMs: 1000 });
  assert.equal(error?.code, 'eval_cancel_error');
  assert.ok(ms < 1500, `failed after ${ms} ms`);
});

test('sleeps within the deadline are honoured', () => {
  const { value, ms } = outcome('package t\ndeny contains "slept" if test.sleep("20ms")', { timeoutMs: 1000 });
  assert.deepEqual(value, ['slept']);
  assert.ok(ms >= 19, `slept ${ms} ms`);
});

test('sprintf widths past Go\'s limit are refused as Go refuses them, without padding', () => {
  const { value, ms } = outcome('package t\ndeny contains sprintf("%400000000d", [1]) if true', { timeoutMs: 1000 });
  assert.deepEqual(value, ['%!(NOVERB)%!(EXTRA int=1)']);
  assert.ok(ms < 200, `took ${ms} ms`);
  assert.deepEqual(outcome('package t\ndeny contains sprintf("%*d|%.*f", [100000000, 1, 2000000, 1.5]) if true', {}).value,
    ['%!(BADWIDTH)1|%!(BADPREC)1.500000']);
});

test('sprintf output past the size cap fails the evaluation before it is built', () => {
  const format = '%9999999d'.repeat(8);
  const { error, ms } = outcome(`package t\ndeny contains "wide" if count(sprintf("${format}", [${Array(8).fill(1).join(', ')}])) > 0`, { timeoutMs: 1000, maxValueCells: 32 * 1024 * 1024 });
  assert.equal(error?.code, 'eval_limit_error');
  assert.match(error!.message, /sprintf: result too large/);
  assert.ok(ms < 1000, `failed after ${ms} ms`);
});

test('built-in work counts against the work limit, which fails even non-strict evaluation', () => {
  const { error } = outcome('package t\ndeny contains "big" if count(concat(",", [format_int(x, 10) | some x in numbers.range(1, 100000)])) > 0', { maxWork: 200_000 });
  assert.equal(error?.code, 'eval_limit_error');
  assert.match(error!.message, /work limit/);
});
