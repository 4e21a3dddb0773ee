// The evaluation threads: results from the real thread, and recovery from threads that overrun
// their deadline or their heap (the next evaluation gets a new thread).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HARD_STOP_GRACE_MS, PolicyThreads } from './policy-threads.ts';
import type { PolicyProgram } from './policy-run.ts';

const program = (key: string, source: string): PolicyProgram => ({ key, package: 't', modules: [{ file: `${key}.rego`, source }], data: {} });
const NAMED = program('named', 'package t\ndeny contains sprintf("%s is not allowed", [input.name]) if input.name != "ok"\nquarantine contains "held" if input.hold');
const SLEEPY = program('sleepy', 'package t\ndeny contains "slept" if {\n  test.sleep("1s")\n  test.sleep("1s")\n}');

test('a thread evaluates deny and quarantine and keeps serving', { timeout: 20_000 }, async () => {
  const threads = new PolicyThreads();
  try {
    const deadline = () => Date.now() + 5000;
    assert.deepEqual(await threads.run(NAMED, { name: 'x', hold: true }, deadline(), 1000), { violations: [{ msg: 'x is not allowed' }], quarantine: [{ msg: 'held' }] });
    assert.deepEqual(await threads.run(NAMED, { name: 'ok' }, deadline(), 1000), { violations: [], quarantine: [] });
    const started = Date.now();
    await assert.rejects(threads.run(SLEEPY, {}, Date.now() + 300, 1000), /eval_cancel_error: evaluation exceeded the time limit/);
    assert.ok(Date.now() - started < 300 + HARD_STOP_GRACE_MS, 'the budget, not the hard stop, ended it');
    assert.deepEqual(await threads.run(NAMED, { name: 'y' }, deadline(), 1000), { violations: [{ msg: 'y is not allowed' }], quarantine: [] });
  } finally {
    await threads.close();
  }
});

test('a thread that overruns its deadline is terminated; queued work waits no longer than its own deadline', { timeout: 20_000 }, async () => {
  const threads = new PolicyThreads({ script: new URL('./testdata/stuck-thread.mjs', import.meta.url) });
  try {
    // The first request is answered: the thread is running before the clock starts.
    assert.deepEqual(await threads.run(NAMED, {}, Date.now() + 10_000, 1000), { violations: [], quarantine: [] });
    const started = Date.now();
    const first = threads.run(NAMED, {}, started + 200, 1000);
    // One thread: this one waits in the queue while the first spins. (Its rejection is expected
    // at about the same moment as the first's, so it is awaited from now on.)
    const second = assert.rejects(threads.run(NAMED, {}, started + 200, 1000), /time limit \(it waited for a thread until its deadline\)/);
    await assert.rejects(first, /time limit \(stopped 100 ms past the deadline\)/);
    const stoppedAfter = Date.now() - started;
    assert.ok(stoppedAfter >= 200 && stoppedAfter < 200 + HARD_STOP_GRACE_MS + 500, `stopped after ${stoppedAfter} ms`);
    // Its deadline passed while it waited: it fails without being sent to a thread.
    await second;
    assert.ok(Date.now() - started < 200 + 2 * HARD_STOP_GRACE_MS + 1000, `second stopped after ${Date.now() - started} ms`);
  } finally {
    await threads.close();
  }
});

test('a thread that exhausts its heap fails its evaluation only', { timeout: 30_000 }, async () => {
  const threads = new PolicyThreads({ script: new URL('./testdata/hungry-thread.mjs', import.meta.url), heapMb: 32 });
  try {
    await assert.rejects(threads.run(NAMED, {}, Date.now() + 10_000, 1000), /memory limit/);
  } finally {
    await threads.close();
  }
});

test('an input that cannot be posted fails that evaluation only', { timeout: 20_000 }, async () => {
  const threads = new PolicyThreads();
  try {
    await assert.rejects(threads.run(NAMED, { name: () => 1 }, Date.now() + 5000, 1000), /could not be cloned/);
    assert.deepEqual(await threads.run(NAMED, { name: 'ok' }, Date.now() + 5000, 1000), { violations: [], quarantine: [] });
  } finally {
    await threads.close();
  }
});

test('a thread that cannot start fails the waiting evaluations at once, and the next one tries again', { timeout: 20_000 }, async () => {
  const threads = new PolicyThreads({ script: new URL('./testdata/broken-thread.mjs', import.meta.url) });
  try {
    const started = Date.now();
    await assert.rejects(threads.run(NAMED, {}, Date.now() + 5000, 1000), /evaluation thread did not start: evaluation thread failed: cannot load the engine/);
    await assert.rejects(threads.run(NAMED, {}, Date.now() + 5000, 1000), /did not start/);
    assert.ok(Date.now() - started < 4000, 'failed without waiting for the deadline');
  } finally {
    await threads.close();
  }
});
