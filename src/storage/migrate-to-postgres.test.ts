// What `wharf migrate` carries from the SQLite stores into the PostgreSQL ones, store to store
// (test/e2e/postgres-migrate.test.ts checks the whole move through a running server).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresSkip, startPostgres, type RunningPostgres } from '../../test/support/postgres.ts';
import type { DecisionRecord } from '../policy/service/policy-store.ts';
import { PostgresPolicyStore } from '../policy/service/postgres-policy-store.ts';
import { SqlitePolicyStore } from '../policy/service/sqlite-policy-store.ts';
import { PostgresMetadataStore } from './metadata/postgres-metadata-store.ts';
import { SqliteMetadataStore } from './metadata/sqlite-metadata-store.ts';
import { migrateToPostgres } from './migrate-to-postgres.ts';

const decision = (id: string, overrides: Partial<DecisionRecord> = {}): DecisionRecord => ({
  id, time: new Date(1_800_000_000_000 + Number(id.replace(/\D/g, ''))), point: 'admission', repository: 'db/pg', digest: 'sha256:1', requester: 'kube-apiserver', allowed: false,
  policies: ['p@1:abc'], paths: ['data.p.deny'], inputHash: 'h', result: { violations: [], quarantine: [], errors: [] }, durationMs: 0.25, ...overrides,
});

describe('migrateToPostgres', { skip: postgresSkip() }, () => {
  let postgres: RunningPostgres;
  let dataDir: string;
  before(async () => {
    postgres = await startPostgres();
    dataDir = await mkdtemp(join(tmpdir(), 'wharf-migrate-stores-'));
  });
  after(async () => {
    await postgres?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('copies the admission trace of decisions and the time each manifest was pushed', async () => {
    const metadata = new SqliteMetadataStore(join(dataDir, 'metadata.db'));
    const policy = new SqlitePolicyStore(join(dataDir, 'policy.db'));
    const admission = {
      uid: 'review-7', operation: 'UPDATE', workload: { apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: 'db', name: 'pg' },
      container: { name: 'init', type: 'initContainers' }, image: 'registry.test/db/pg:16',
    };
    let pushedAt: Date | undefined;
    try {
      await metadata.migrate();
      await metadata.putManifest('db/pg', { digest: `sha256:${'a'.repeat(64)}`, mediaType: 'application/vnd.oci.image.manifest.v1+json', content: Buffer.from('{}'), references: [] }, '16');
      pushedAt = (await metadata.getManifest('db/pg', `sha256:${'a'.repeat(64)}`))?.pushedAt;
      await policy.migrate();
      await policy.appendDecisions([decision('d1', { point: 'push' }), decision('d2', { admission })]);
    } finally {
      await metadata.close();
      await policy.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 20)); // a copy stamped "now" would differ

    const url = await postgres.createDatabase();
    await migrateToPostgres(dataDir, url);

    const policies = new PostgresPolicyStore({ url });
    const manifests = new PostgresMetadataStore({ url });
    try {
      const decisions = await policies.listDecisions({ limit: 10 });
      assert.deepEqual(decisions, [decision('d2', { admission }), decision('d1', { point: 'push' })]);
      assert.ok(pushedAt);
      assert.equal((await manifests.getManifestByTag('db/pg', '16'))?.pushedAt?.getTime(), pushedAt.getTime());
    } finally {
      await policies.close();
      await manifests.close();
    }
  });
});
