// What `wharf migrate` carries from the SQLite stores into the PostgreSQL ones, store to store
// (test/e2e/postgres-migrate.test.ts checks the whole move through a running server).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresSkip, startPostgres, type RunningPostgres } from '../../test/support/postgres.ts';
import type { DecisionRecord } from '../policy/service/policy-store.ts';
import type { IdentityStore } from '../auth/identity-store.ts';
import { PostgresIdentityStore } from '../auth/postgres-identity-store.ts';
import { SqliteIdentityStore } from '../auth/sqlite-identity-store.ts';
import { TokenKeys } from '../auth/token-keys.ts';
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

  it('copies the identities: accounts with their ids, teams, roles, robots, issuers, refresh tokens, signing keys, audit trail', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'wharf-migrate-identities-'));
    const metadata = new SqliteMetadataStore(join(folder, 'metadata.db'));
    const identity = new SqliteIdentityStore(join(folder, 'identity.db'));
    let before: Record<string, unknown>;
    const soon = new Date(Date.now() + 3_600_000);
    try {
      await metadata.migrate();
      await identity.migrate();
      await identity.putUser({ username: 'alice', passwordHash: 'scrypt$alice', admin: true, createdAt: new Date(1_800_000_000_000) });
      await identity.putUser({ username: 'bob', passwordHash: 'scrypt$bob', admin: false, createdAt: new Date(1_800_000_000_001) });
      await identity.createTeam('devs');
      await identity.createTeam('empty');
      await identity.addTeamMember('devs', 'bob');
      await identity.setMembership({ namespace: 'team-a', principal: { kind: 'team', name: 'devs' }, role: 'writer' });
      await identity.setMembership({ namespace: 'team-b', principal: { kind: 'user', name: 'bob' }, role: 'reader' });
      await identity.putRobot({ name: 'ci', secretHash: 'sha256$ci', grants: [{ repositories: 'team-a/*', actions: ['pull', 'push'] }], capabilities: ['admission'], createdAt: new Date(1_800_000_000_002), expiresAt: soon });
      await identity.putRobot({ name: 'old', secretHash: 'sha256$old', grants: [], createdAt: new Date(1_800_000_000_003) });
      await identity.revokeRobot('old', new Date(1_800_000_000_004));
      await identity.putIssuer({ name: 'cluster', issuer: 'https://kubernetes.default.svc', audience: 'wharf', jwks: '{"keys":[]}', rules: [{ claims: { sub: 'system:*' }, grants: [] }] });
      await identity.putRefreshToken('refresh-digest', 'user:bob', soon);
      const keys = new TokenKeys(identity);
      await keys.load();
      await keys.rotate(new Date(1_800_000_000_005));
      await identity.appendAudit({ time: new Date(1_800_000_000_006), identity: 'user:bob', action: 'push', resource: 'team-a/app', allowed: true, reason: 'writer' });
      await identity.appendAudit({ time: new Date(1_800_000_000_007), identity: 'robot:ci', action: 'delete', resource: 'team-b/app', allowed: false, reason: 'no grant', client: '127.0.0.1' });
      before = await everything(identity);
    } finally {
      await metadata.close();
      await identity.close();
    }

    const url = await postgres.createDatabase();
    const summary = await migrateToPostgres(folder, url);
    assert.deepEqual([summary.users, summary.robots], [2, 2]);
    const copied = new PostgresIdentityStore({ url });
    try {
      assert.deepEqual(await everything(copied), before);
      await assert.rejects(migrateToPostgres(folder, url), /already holds a registry/);
    } finally {
      await copied.close();
      await rm(folder, { recursive: true, force: true });
    }
  });
});

/** All an identity store holds, through its interface. */
async function everything(store: IdentityStore): Promise<Record<string, unknown>> {
  return {
    users: await store.listUsers(),
    teams: await store.listTeams(),
    memberships: await store.listMemberships(),
    bob: await store.membershipsOf('bob'),
    robots: await store.listRobots(),
    issuers: await store.listIssuers(),
    refresh: await store.getRefreshToken('refresh-digest', new Date()),
    keys: await store.listSigningKeys(),
    audit: await store.listAudit({ limit: 10 }),
  };
}
