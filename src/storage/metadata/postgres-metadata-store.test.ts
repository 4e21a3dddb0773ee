import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPostgres, postgresSkip, type RunningPostgres } from '../../../test/support/postgres.ts';
import { describeMetadataStore } from './metadata-store.contract.ts';
import type { ManifestRecord, TagChange } from './metadata-store.ts';
import { PostgresMetadataStore } from './postgres-metadata-store.ts';

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const manifest = (n: number): ManifestRecord => ({
  digest: digest(n), mediaType: 'application/vnd.oci.image.manifest.v1+json', content: Buffer.from(`{"n":${n}}`), references: [],
});

/** Resolves with event number `index` (from 0) once the watcher reported it, or rejects after `ms`. */
function eventAt<T>(events: T[], index: number, ms = 5000): Promise<T> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      if (events.length > index) {
        clearInterval(poll);
        resolve(events[index]!);
      } else if (Date.now() - started > ms) {
        clearInterval(poll);
        reject(new Error(`no event within ${ms} ms`));
      }
    }, 5);
  });
}

describe('PostgreSQL metadata store', { skip: postgresSkip() }, () => {
  let postgres: RunningPostgres;
  before(async () => {
    postgres = await startPostgres();
  });
  after(() => postgres?.stop());

  // A fresh database per test: each starts from an empty schema, as each SQLite test gets a new file.
  describeMetadataStore('postgres', async () => {
    const store = new PostgresMetadataStore({ url: await postgres.createDatabase(), maxConnections: 4 });
    return { store, cleanup: () => store.close() };
  });

  it('migrates once when several replicas start at the same moment', async () => {
    const url = await postgres.createDatabase();
    const replicas = [1, 2, 3].map(() => new PostgresMetadataStore({ url, maxConnections: 2 }));
    try {
      await Promise.all(replicas.map((replica) => replica.migrate()));
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query("SELECT version FROM schema_migrations WHERE store = 'metadata' ORDER BY version");
      await client.end();
      assert.deepEqual(rows.map((row) => row.version), [1]);
      await replicas[0]!.linkBlob('team/app', digest(1), 5);
      assert.equal(await replicas[2]!.linkedBlobSize('team/app', digest(1)), 5);
    } finally {
      await Promise.all(replicas.map((replica) => replica.close()));
    }
  });

  it('creates a repository once when replicas push to it at the same moment', async () => {
    const url = await postgres.createDatabase();
    const replicas = [1, 2].map(() => new PostgresMetadataStore({ url, maxConnections: 4 }));
    try {
      await replicas[0]!.migrate();
      await Promise.all(Array.from({ length: 8 }, (_, n) => replicas[n % 2]!.linkBlob('new/repo', digest(n), n)));
      assert.deepEqual(await replicas[1]!.listRepositories({}), ['new/repo']);
      assert.deepEqual(await replicas[0]!.missingBlobs('new/repo', [digest(0), digest(7), digest(8)]), [digest(8)]);
    } finally {
      await Promise.all(replicas.map((replica) => replica.close()));
    }
  });

  it('tags a manifest while another replica deletes it without failing: the push wins or the delete does, whole', async () => {
    const url = await postgres.createDatabase();
    const [pusher, deleter] = [1, 2].map(() => new PostgresMetadataStore({ url, maxConnections: 4 }));
    try {
      await pusher!.migrate();
      for (let round = 0; round < 40; round++) {
        await pusher!.putManifest('race/app', manifest(1));
        await Promise.all([pusher!.putManifest('race/app', { ...manifest(1), references: [{ digest: digest(7), kind: 'blob' }] }, `t${round}`), deleter!.deleteManifest('race/app', digest(1))]);
        const tagged = await pusher!.getManifestByTag('race/app', `t${round}`);
        const stored = await pusher!.getManifest('race/app', digest(1));
        assert.equal(tagged?.digest, stored?.digest, 'a tag never points at a manifest that is gone');
      }
    } finally {
      await Promise.all([pusher!.close(), deleter!.close()]);
    }
  });

  it('tells every replica about tag moves, tag deletes and manifest deletes after commit', async () => {
    const url = await postgres.createDatabase();
    const writer = new PostgresMetadataStore({ url });
    const reader = new PostgresMetadataStore({ url });
    const changes: TagChange[] = [];
    await writer.migrate();
    const stop = await reader.watchTagChanges({ changed: (change) => changes.push(change), lost: () => undefined, restored: () => undefined });
    try {
      await writer.putManifest('repo', manifest(1));
      await writer.putManifest('repo', manifest(2), 'latest');
      assert.deepEqual(await eventAt(changes, 0), { repository: 'repo', tag: 'latest' });
      await writer.deleteTag('repo', 'latest');
      assert.deepEqual(await eventAt(changes, 1), { repository: 'repo', tag: 'latest' });
      await writer.deleteManifest('repo', digest(1));
      assert.deepEqual(await eventAt(changes, 2), { repository: 'repo' });
      // Nothing changed, nothing told: a second delete of the same tag or manifest is silent.
      await writer.deleteTag('repo', 'latest');
      await writer.deleteManifest('repo', digest(1));
      await assert.rejects(eventAt(changes, 3, 300));
      assert.equal(changes.length, 3, 'the untagged push announced nothing');
    } finally {
      await stop();
      await Promise.all([writer.close(), reader.close()]);
    }
  });

  it('reports a lost LISTEN connection and listens again once the database answers', async () => {
    const url = await postgres.createDatabase();
    const store = new PostgresMetadataStore({ url });
    await store.migrate();
    const events: string[] = [];
    const stop = await store.watchTagChanges({
      changed: (change) => events.push(`changed ${change.tag}`), lost: () => events.push('lost'), restored: () => events.push('restored'),
    });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()");
      assert.equal(await eventAt(events, 0), 'lost');
      assert.equal(await eventAt(events, 1), 'restored');
      await store.putManifest('repo', manifest(1), 'v1');
      assert.equal(await eventAt(events, 2), 'changed v1');
    } finally {
      await admin.end();
      await stop();
      await store.close();
    }
  });
});
