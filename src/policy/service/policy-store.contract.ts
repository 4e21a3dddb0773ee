/**
 * The guarantees of PolicyStore, as tests any implementation runs:
 * `describePolicyStore('sqlite', async () => ({ store, cleanup }))`.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyStoreError, type DecisionRecord, type PolicyDefinition, type PolicyStore } from './policy-store.ts';

export interface PolicyStoreFixture {
  readonly store: PolicyStore;
  cleanup(): Promise<void>;
}

const definition = (name: string, source = 'package p\n\ndeny contains "x" if false\n'): PolicyDefinition => ({
  name, package: 'p', modules: [{ file: 'p.rego', source }], data: {}, mode: 'enforce',
  binding: { points: ['push'], namespaces: [], repositories: [], artifactTypes: [] },
});

const decision = (id: string, overrides: Partial<DecisionRecord> = {}): DecisionRecord => ({
  id, time: new Date(1_800_000_000_000 + Number(id.replace(/\D/g, '') || 0)), point: 'push', repository: 'a/b', digest: 'sha256:1', requester: 'anonymous',
  allowed: true, policies: ['p@1:abc'], paths: ['data.p.deny'], inputHash: 'h', result: { violations: [], quarantine: [], errors: [] }, durationMs: 0.5,
  ...overrides,
});

export function describePolicyStore(name: string, make: () => Promise<PolicyStoreFixture>): void {
  describe(`PolicyStore contract: ${name}`, () => {
    let fixture: PolicyStoreFixture;
    let store: PolicyStore;
    beforeEach(async () => {
      fixture = await make();
      store = fixture.store;
      await store.migrate();
    });
    afterEach(() => fixture.cleanup());

    it('versions policies, with a revision per content, and bumps the generation on every change', async () => {
      const start = await store.generation();
      const first = await store.putPolicy(definition('p'));
      const second = await store.putPolicy(definition('p', 'package p\n\ndeny contains "y" if false\n'));
      assert.deepEqual([first.version, second.version], [1, 2]);
      assert.notEqual(first.revision, second.revision);
      assert.equal((await store.getPolicy('p'))?.version, 2);
      assert.ok((await store.generation()) > start);
      const before = await store.generation();
      assert.equal(await store.deletePolicy('p'), true);
      assert.equal(await store.deletePolicy('p'), false);
      assert.ok((await store.generation()) > before);
      assert.deepEqual(await store.listPolicies(), []);
    });

    it('stores a removed policy\'s name again, numbering on from its last version', async () => {
      await store.putPolicy(definition('reused'));
      await store.putPolicy(definition('reused', 'package p\n\ndeny contains "y" if false\n'));
      assert.equal(await store.deletePolicy('reused'), true);
      const again = await store.putPolicy(definition('reused'));
      // Old decision-log entries name reused@1 and reused@2: the new policy must not claim those.
      assert.equal(again.version, 3);
      assert.equal((await store.getPolicy('reused'))?.version, 3);
    });

    it('releases quarantines by hand and with the policy that gave them, bumping the generation', async () => {
      await store.putPolicy(definition('holder'));
      await store.setQuarantine('a/b', 'sha256:1', [{ msg: 'held', policy: 'holder' } as never]);
      await store.setQuarantine('a/b', 'sha256:2', [{ msg: 'held', policy: 'holder' } as never, { msg: 'kept', policy: 'other' } as never]);
      await store.setQuarantine('a/b', 'sha256:3', [{ msg: 'by hand' }]);
      const before = await store.generation();
      assert.equal(await store.releaseQuarantine('a/b', 'sha256:3'), true);
      assert.equal(await store.releaseQuarantine('a/b', 'sha256:3'), false);
      assert.ok((await store.generation()) > before, 'other processes see a release');
      assert.equal(await store.deletePolicy('holder'), true);
      assert.deepEqual((await store.listQuarantined()).map((entry) => [entry.digest, entry.reasons]), [['sha256:2', [{ msg: 'kept', policy: 'other' }]]]);
    });

    it('lists decisions newest first and filters them', async () => {
      await store.appendDecisions([decision('d1'), decision('d2', { allowed: false, point: 'pull', policies: ['q@3:def'] }), decision('d3', { repository: 'c/d' })]);
      assert.deepEqual((await store.listDecisions({ limit: 10 })).map((d) => d.id), ['d3', 'd2', 'd1']);
      assert.deepEqual((await store.listDecisions({ limit: 10, allowed: false })).map((d) => d.id), ['d2']);
      assert.deepEqual((await store.listDecisions({ limit: 10, point: 'pull' })).map((d) => d.id), ['d2']);
      assert.deepEqual((await store.listDecisions({ limit: 10, repository: 'c/d' })).map((d) => d.id), ['d3']);
      assert.deepEqual((await store.listDecisions({ limit: 10, policy: 'q' })).map((d) => d.id), ['d2']);
      assert.deepEqual((await store.listDecisions({ limit: 1 })).map((d) => d.id), ['d3']);
      assert.deepEqual((await store.listDecisions({ limit: 10 }))[1], decision('d2', { allowed: false, point: 'pull', policies: ['q@3:def'] }));
    });

    it('keeps the admission trace of an admission decision, and none on the others', async () => {
      const admission = {
        uid: 'review-1', operation: 'CREATE', workload: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'prod', name: 'web' },
        container: { name: 'app', type: 'containers' }, image: 'registry.test/a/b:v1',
      };
      const whole = { ...admission, uid: 'review-2', workload: { apiVersion: 'v1', kind: 'Pod', namespace: null, name: null }, container: null, image: null };
      await store.appendDecisions([decision('d1'), decision('d2', { point: 'admission', admission }), decision('d3', { point: 'admission', admission: whole })]);
      const listed = await store.listDecisions({ limit: 10 });
      assert.deepEqual(listed.map((d) => d.admission), [whole, admission, undefined]);
      assert.equal('admission' in listed[2]!, false, 'a decision without a trace has no admission key');
      assert.deepEqual(listed[1], decision('d2', { point: 'admission', admission }));
    });

    it('refuses a decision id appended twice as a conflict named in the store\'s words, keeping the batch out whole', async () => {
      await store.appendDecisions([decision('d1')]);
      await assert.rejects(store.appendDecisions([decision('d2'), decision('d1')]), (error: unknown) => {
        assert.ok(error instanceof PolicyStoreError, `a PolicyStoreError, not ${String(error)}`);
        assert.equal(error.kind, 'conflict');
        assert.match(error.message, /^the policy store could not write the decision log/);
        return true;
      });
      assert.deepEqual((await store.listDecisions({ limit: 10 })).map((d) => d.id), ['d1']);
    });

    it('keeps quarantines and namespace settings', async () => {
      await store.setQuarantine('a/b', 'sha256:1', [{ msg: 'unsigned' }]);
      assert.deepEqual((await store.getQuarantine('a/b', 'sha256:1'))?.reasons, [{ msg: 'unsigned' }]);
      assert.equal((await store.listQuarantined()).length, 1);
      await store.clearQuarantine('a/b', 'sha256:1');
      assert.equal(await store.getQuarantine('a/b', 'sha256:1'), undefined);
      const before = await store.generation();
      await store.putNamespaceSettings('team', { labels: { 'cost-center': 'cc' }, quotaBytes: 10 });
      assert.deepEqual(await store.getNamespaceSettings('team'), { labels: { 'cost-center': 'cc' }, quotaBytes: 10 });
      assert.equal(await store.getNamespaceSettings('other'), undefined);
      assert.ok((await store.generation()) > before, 'settings are facts policies read: a change is a new generation');
    });
  });
}
