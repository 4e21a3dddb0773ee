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

/** Built-ins whose output can outgrow their operands many times over reserve it first. */
// 2,000 characters, replaced or joined with 1,000 each: about 2 Mi characters.
const LONG = 'sprintf("%2000d", [1])';
const FILL = 'sprintf("%1000d", [2])';
const NUMERALS = '[format_int(x, 10) | some x in numbers.range(1, 2000)]';
const AMPLIFIERS: [string, string][] = [
  ['replace', `count(replace(${LONG}, " ", ${FILL})) > 0`],
  ['strings.replace_n', `count(strings.replace_n({" ": ${FILL}}, ${LONG})) > 0`],
  ['regex.replace', `count(regex.replace(${LONG}, "", ${FILL})) > 0`],
  ['concat', `count(concat(${FILL}, ${NUMERALS})) > 0`],
  ['strings.render_template', 'count(strings.render_template("{{range .a}}{{range $.a}}{{range $.a}}xxxxxxxx{{end}}{{end}}{{end}}", {"a": numbers.range(1, 100)})) > 0'],
  ['json.marshal_with_options', `count(json.marshal_with_options(numbers.range(1, 2000), {"pretty": true, "indent": ${FILL}})) > 0`],
];

for (const [name, condition] of AMPLIFIERS) {
  test(`${name}: output past the size cap fails the evaluation`, () => {
    const { error, ms } = outcome(`package t\ndeny contains "built" if ${condition}`, { timeoutMs: 5000, maxValueCells: 1024 * 1024 });
    assert.equal(error?.code, 'eval_limit_error', `${name}: ${error?.message ?? 'no error'}`);
    assert.match(error!.message, new RegExp(`${name.replace('.', '\\.')}: result too large`));
    assert.ok(ms < 2000, `failed after ${ms} ms`);
  });
}

test('big numbers: results past the number size cap fail the evaluation, and bits.lsh does not build them', () => {
  const squares = Array.from({ length: 14 }, (_, i) => `x${i + 1} := x${i} * x${i}`).join('\n');
  const squared = outcome(`package t\nx0 := 1e100000\n${squares}\ndeny contains "big" if count(format_int(x14, 10)) > 0`, { timeoutMs: 5000 });
  assert.equal(squared.error?.code, 'eval_limit_error');
  assert.match(squared.error!.message, /mul: result too large \(a number of \d+ bits/);
  const shifted = outcome('package t\ndeny contains "big" if count(format_int(bits.lsh(1, 1000000000), 10)) > 0', { timeoutMs: 5000 });
  assert.equal(shifted.error?.code, 'eval_limit_error');
  assert.ok(shifted.ms < 1000, `failed after ${shifted.ms} ms`);
});

test('exponentially many graph paths stop at the deadline', () => {
  // A ladder of 40 diamonds: 2^40 paths from the top.
  const edges = Array.from({ length: 40 }, (_, i) => `"a${i}": ["b${i}", "c${i}"], "b${i}": ["a${i + 1}"], "c${i}": ["a${i + 1}"]`).join(', ');
  const { error, ms } = outcome(`package t\ndeny contains "paths" if count(graph.reachable_paths({${edges}, "a40": []}, ["a0"])) > 0`, { timeoutMs: 300 });
  assert.ok(error?.code === 'eval_cancel_error' || error?.code === 'eval_limit_error', error?.message ?? 'no error');
  assert.ok(ms < 300 * 1.5 + 200, `failed after ${ms} ms`);
});

test('prefix matching of every pair counts each pair', () => {
  const { error } = outcome('package t\ndeny contains "match" if strings.any_prefix_match([format_int(x, 10) | some x in numbers.range(1, 3000)], [format_int(x, 10) | some x in numbers.range(100000, 103000)])', { maxWork: 1_000_000 });
  assert.equal(error?.code, 'eval_limit_error');
  assert.match(error!.message, /work limit/);
});
