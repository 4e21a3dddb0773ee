// Identities on PostgreSQL (metadata.postgres.url): replicas share users, robots, the keys that
// sign registry tokens and refresh tokens, so a token issued by one replica is accepted by all,
// also right after a key rotation on one of them, and a robot created on one logs in on another.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityAdmin } from '../../src/auth/identity-admin.ts';
import { PostgresIdentityStore } from '../../src/auth/postgres-identity-store.ts';
import { basic, fetchToken } from '../support/auth-fixture.ts';
import { postgresSkip, startPostgres, type RunningPostgres } from '../support/postgres.ts';
import { REPO_ROOT, startWharf, type RunningRegistry } from './harness.ts';

const PASSWORD = 'alice-shared-password';

/** Starts an upload in team-a/app with the bearer token: 202 when the server accepts the token. */
async function startUpload(registry: RunningRegistry, token: string): Promise<number> {
  const response = await fetch(`${registry.url}/v2/team-a/app/blobs/uploads/`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return response.status;
}

describe('identities shared by replicas on PostgreSQL', { skip: postgresSkip() }, () => {
  let postgres: RunningPostgres;
  let a: RunningRegistry;
  let b: RunningRegistry;
  let url: string;
  before(async () => {
    postgres = await startPostgres();
    url = await postgres.createDatabase();
    const store = new PostgresIdentityStore({ url, maxConnections: 1 });
    try {
      await store.migrate();
      const admin = new IdentityAdmin(store);
      await admin.addUser('alice', PASSWORD, true);
      await admin.setMembership('team-a', { kind: 'user', name: 'alice' }, 'writer');
    } finally {
      await store.close();
    }
    // Started at the same moment: both find no signing key and may each create one.
    const env = { WHARF_METADATA_POSTGRES_URL: url, WHARF_AUTH_ENABLED: 'true' };
    [a, b] = await Promise.all([startWharf({ env }), startWharf({ env })]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await postgres?.stop();
  });

  test('a token issued by one replica is accepted by the other, both ways', async () => {
    for (const [issuer, verifier] of [[a, b], [b, a]] as const) {
      const issued = await fetchToken(issuer.url, ['repository:team-a/app:pull,push'], basic('alice', PASSWORD));
      assert.equal(issued.status, 200, JSON.stringify(issued.body));
      assert.equal(await startUpload(verifier, issued.token!), 202, `a token of ${issuer.url} on ${verifier.url}`);
    }
    assert.equal(await startUpload(b, 'not-a-token'), 401);
  });

  test('after a key rotation on one replica, its new tokens are accepted by the other at once', async () => {
    const login = basic('alice', PASSWORD);
    const rotated = await fetch(`${a.url}/api/v1/token-keys/rotate`, { method: 'POST', headers: { authorization: login } });
    assert.equal(rotated.status, 201, await rotated.text());
    const issued = await fetchToken(a.url, ['repository:team-a/app:pull,push'], login);
    assert.equal(issued.status, 200);
    assert.equal(await startUpload(b, issued.token!), 202, 'the other replica learns the new key when it meets it');
  });

  test('a robot created through one replica logs in on the other', async () => {
    const created = await fetch(`${a.url}/api/v1/robots`, {
      method: 'POST', headers: { authorization: basic('alice', PASSWORD), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ci', grants: [{ repositories: 'team-a/*', actions: ['pull', 'push'] }] }),
    });
    const text = await created.text();
    assert.equal(created.status, 201, text);
    const robot = JSON.parse(text) as { username: string; secret: string };
    const issued = await fetchToken(b.url, ['repository:team-a/app:pull,push'], basic(robot.username, robot.secret));
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    assert.equal(await startUpload(a, issued.token!), 202);
  });

  test('wharf user add on a data folder configured for PostgreSQL adds the user every replica knows', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'wharf-pg-identity-cli-'));
    try {
      const added = spawnSync(join(REPO_ROOT, 'node_modules', '.bin', 'node'), [join(REPO_ROOT, 'src', 'cli', 'wharf.mjs'), 'user', 'add', 'bob', '--password-stdin', '--data-dir', dataDir], {
        input: 'bob-password-123\n', encoding: 'utf8', timeout: 30_000,
        env: { ...process.env, WHARF_SERVER: '', WHARF_METADATA_POSTGRES_URL: url },
      });
      assert.equal(added.status, 0, added.stderr);
      for (const replica of [a, b]) assert.equal((await fetchToken(replica.url, [], basic('bob', 'bob-password-123'))).status, 200, replica.url);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
