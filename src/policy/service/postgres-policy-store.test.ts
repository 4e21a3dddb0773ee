import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { startPostgres, postgresSkip, type RunningPostgres } from '../../../test/support/postgres.ts';
import { json, startTestRegistry } from '../../../test/support/registry-fixture.ts';
import { describePolicyStore } from './policy-store.contract.ts';
import pg from 'pg';
import { PolicyStoreError, type PolicyDefinition } from './policy-store.ts';
import { PostgresPolicyStore } from './postgres-policy-store.ts';

const definition = (name: string, rule: string): PolicyDefinition => ({
  name, package: 'p', modules: [{ file: 'p.rego', source: `package p\n\ndeny contains "${rule}" if false\n` }], data: {}, mode: 'enforce',
  binding: { points: ['push'], namespaces: [], repositories: [], artifactTypes: [] },
});

describe('PostgreSQL policy store', { skip: postgresSkip() }, () => {
  let postgres: RunningPostgres;
  before(async () => {
    postgres = await startPostgres();
  });
  after(() => postgres?.stop());

  describePolicyStore('postgres', async () => {
    const store = new PostgresPolicyStore({ url: await postgres.createDatabase(), maxConnections: 4 });
    return { store, cleanup: () => store.close() };
  });

  it('gives concurrent changes of one policy from several replicas consecutive versions', async () => {
    const url = await postgres.createDatabase();
    const replicas = [1, 2, 3].map(() => new PostgresPolicyStore({ url, maxConnections: 3 }));
    try {
      await Promise.all(replicas.map((replica) => replica.migrate()));
      const start = await replicas[0]!.generation();
      const stored = await Promise.all(Array.from({ length: 9 }, (_, n) => replicas[n % 3]!.putPolicy(definition('shared', `r${n}`))));
      assert.deepEqual(stored.map((policy) => policy.version).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const latest = stored.find((policy) => policy.version === 9)!;
      assert.equal((await replicas[1]!.getPolicy('shared'))?.revision, latest.revision);
      assert.equal(await replicas[2]!.generation(), start + 9);
    } finally {
      await Promise.all(replicas.map((replica) => replica.close()));
    }
  });

  it('continues the numbering of a policy deleted and put again, so name@version never names two contents', async () => {
    const store = new PostgresPolicyStore({ url: await postgres.createDatabase() });
    try {
      await store.migrate();
      await store.putPolicy(definition('p', 'a'));
      await store.deletePolicy('p');
      const again = await store.putPolicy(definition('p', 'b'));
      assert.equal(again.version, 2);
      assert.deepEqual((await store.getPolicy('p'))?.modules, definition('p', 'b').modules);
    } finally {
      await store.close();
    }
  });
  it('answers a failing database with a PolicyStoreError naming the operation, the SQL kept in its cause', async () => {
    const url = await postgres.createDatabase();
    const store = new PostgresPolicyStore({ url });
    const side = new pg.Client({ connectionString: url });
    try {
      await store.migrate();
      await side.connect();
      await side.query('DROP TABLE policy_quarantine');
      await assert.rejects(store.listQuarantined(), (error: unknown) => {
        assert.ok(error instanceof PolicyStoreError, `a PolicyStoreError, not ${String(error)}`);
        assert.equal(error.kind, 'unavailable');
        assert.equal(error.message, 'the policy store could not list the quarantined artifacts: the database failed (see the server log)');
        assert.match(String((error.cause as Error).message), /policy_quarantine/);
        return true;
      });
    } finally {
      await side.end();
      await store.close();
    }
  });

  it('reaches the policy API as a 503 OCI error naming the operation, never the SQL', async () => {
    const url = await postgres.createDatabase();
    const registry = await startTestRegistry({ WHARF_METADATA_POSTGRES_URL: url });
    const side = new pg.Client({ connectionString: url });
    try {
      await side.connect();
      await side.query('DROP TABLE policy_quarantine');
      const response = await fetch(`${registry.url}/api/v1/quarantine`);
      const body = await json(response);
      assert.equal(response.status, 503);
      assert.equal(body.errors[0].code, 'UNAVAILABLE');
      assert.match(body.errors[0].message, /policy store could not list the quarantined artifacts/);
      assert.doesNotMatch(JSON.stringify(body), /policy_quarantine|relation|SQL|postgres/i);
    } finally {
      await side.end();
      await registry.close();
    }
  });

  it('answers an unreachable database as unavailable, asking to try again', async () => {
    const url = await postgres.createDatabase();
    const unreachable = new URL(url);
    unreachable.port = String(await closedPort());
    const store = new PostgresPolicyStore({ url: unreachable.toString() });
    try {
      await assert.rejects(store.generation(), (error: unknown) => {
        assert.ok(error instanceof PolicyStoreError, `a PolicyStoreError, not ${String(error)}`);
        assert.equal(error.kind, 'unavailable');
        assert.match(error.message, /^the policy store could not read the policy generation: the database cannot be reached or is busy, try again$/);
        return true;
      });
    } finally {
      await store.close();
    }
  });
});

/** A loopback port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
