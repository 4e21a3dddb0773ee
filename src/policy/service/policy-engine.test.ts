// Where the engine evaluates: within a slice of the event loop when the policy is cheap (no
// thread hop, a plain result), on a thread when it outgrows the slice, and from then on there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyEngine, type Evaluation } from './policy-engine.ts';
import { PolicyThreads } from './policy-threads.ts';
import type { PolicyStore, StoredPolicy } from './policy-store.ts';

function stored(name: string, source: string): StoredPolicy {
  return {
    name, package: `t.${name}`, modules: [{ file: `${name}.rego`, source: `package t.${name}\n${source}` }], data: {},
    binding: { points: ['push'], namespaces: [], repositories: [], artifactTypes: [] }, mode: 'enforce', version: 1, revision: 'r'.repeat(64), updatedAt: new Date(0),
  };
}

/** Only what the engine reads of a store. */
function storeOf(policies: StoredPolicy[]): PolicyStore {
  return { generation: async () => 1, listPolicies: async () => policies } as unknown as PolicyStore;
}

test('cheap policies are answered on the event loop; one that outgrows its slice goes to a thread, and stays there', { timeout: 30_000 }, async () => {
  const threads = new PolicyThreads();
  try {
    const engine = new PolicyEngine(storeOf([
      stored('cheap', 'deny contains "latest" if input.tag == "latest"'),
      stored('busy', 'deny contains "busy" if {\n  input.tag == "busy"\n  count([x | some x in numbers.range(1, 300000)]) > 0\n}'),
    ]), {
      // A long time slice, so that only the busy policy's work (not a pause of this loaded machine) sends it to the thread.
      failureMode: 'closed', timeoutMs: 5000, refreshIntervalMs: 1000, threads, sliceMs: 2000,
    });
    await engine.refresh(true);
    const cheap = engine.evaluate('push', { tag: 'latest' }, {});
    assert.ok(!(cheap instanceof Promise), 'no thread hop for policies that end within the slice');
    assert.deepEqual((cheap as Evaluation).violations.map((v) => v.msg), ['latest']);

    const busy = engine.evaluate('push', { tag: 'busy' }, {});
    assert.ok(busy instanceof Promise, 'the busy policy went to a thread');
    assert.deepEqual((await busy).violations.map((v) => v.msg), ['busy']);
    // Now known to be busy: straight to the thread, even for an input it would answer quickly.
    const again = engine.evaluate('push', { tag: 'v1' }, {});
    assert.ok(again instanceof Promise);
    assert.deepEqual(await again, { ...(await again), allow: true, violations: [], errors: [] });
  } finally {
    await threads.close();
  }
});

test('without threads every policy runs on the event loop under its full budget', async () => {
  const engine = new PolicyEngine(storeOf([stored('range', 'deny contains "range" if count(numbers.range(1, 1e11)) > 0')]), { failureMode: 'closed', timeoutMs: 1000, refreshIntervalMs: 1000 });
  await engine.refresh(true);
  const evaluation = engine.evaluate('push', {}, {}) as Evaluation;
  assert.equal(evaluation.allow, false);
  assert.deepEqual(evaluation.violations.map((v) => v.code), ['POLICY_ERROR']);
  assert.match(evaluation.errors[0]!, /^policy range: .*eval_limit_error: numbers\.range: result too large/);
});
