/**
 * Moves a registry's embedded databases into PostgreSQL (`wharf migrate --to postgres://…`): the
 * registry metadata of `<data>/metadata.db` and, when present, the policies, decision log,
 * quarantines and namespace settings of `<data>/policy.db`. Manifests are copied byte for byte,
 * so no digest changes; blobs stay where they are (the data folder's blob store).
 *
 * Everything is copied in one PostgreSQL transaction: a failure leaves the target as it was. The
 * target must hold no registry metadata or policies yet, so nothing is merged or overwritten.
 * The server must be stopped while it runs (the SQLite files must not change under the copy).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { PostgresMetadataStore } from './metadata/postgres-metadata-store.ts';
import { SQLITE_MIGRATIONS } from './metadata/sqlite-migrations.ts';
import { PostgresDatabase, type Queryable } from './postgres-database.ts';
import { PostgresPolicyStore } from '../policy/service/postgres-policy-store.ts';

type Row = Record<string, unknown>;

/** Rows sent per INSERT: bounded statements, few round trips. */
const BATCH = 1000;

export interface MigrationSummary {
  repositories: number;
  blobs: number;
  manifests: number;
  tags: number;
  uploads: number;
  policies: number;
  policyVersions: number;
  decisions: number;
}

export class MigrationError extends Error {}

export async function migrateToPostgres(dataDir: string, url: string): Promise<MigrationSummary> {
  const metadataPath = join(dataDir, 'metadata.db');
  if (!existsSync(metadataPath)) throw new MigrationError(`${metadataPath} does not exist: nothing to migrate`);
  const policyPath = join(dataDir, 'policy.db');

  // The schemas first, through the stores themselves (each in its own transaction).
  for (const store of [new PostgresMetadataStore({ url, maxConnections: 1 }), new PostgresPolicyStore({ url, maxConnections: 1 })]) {
    try {
      await store.migrate();
    } finally {
      await store.close();
    }
  }

  const metadata = new DatabaseSync(metadataPath, { readOnly: true });
  const version = Number((metadata.prepare('PRAGMA user_version').get() as Row).user_version);
  if (version !== SQLITE_MIGRATIONS.length) {
    metadata.close();
    throw new MigrationError(`${metadataPath} is at schema version ${version}, this Wharf reads version ${SQLITE_MIGRATIONS.length}: start this Wharf once on the data folder (it upgrades it), stop it, then migrate`);
  }
  const policy = existsSync(policyPath) ? new DatabaseSync(policyPath, { readOnly: true }) : undefined;
  const target = new PostgresDatabase({ url, maxConnections: 1 });
  try {
    return await target.transaction(async (client) => {
      await requireEmpty(client);
      const summary = await copyMetadata(metadata, client);
      return policy ? { ...summary, ...(await copyPolicies(policy, client)) } : { ...summary, policies: 0, policyVersions: 0, decisions: 0 };
    });
  } finally {
    metadata.close();
    policy?.close();
    await target.close();
  }
}

async function requireEmpty(client: Queryable): Promise<void> {
  const { rows } = await client.query<Row>(`SELECT
    (SELECT COUNT(*) FROM repositories) AS repositories, (SELECT COUNT(*) FROM policy_history) AS policies,
    (SELECT COUNT(*) FROM policy_decisions) AS decisions, (SELECT COUNT(*) FROM policy_namespace_settings) AS namespaces`);
  const counts = rows[0]!;
  if (Object.values(counts).some((count) => Number(count) > 0)) {
    throw new MigrationError(`the target database already holds a registry (${Object.entries(counts).map(([name, count]) => `${count} ${name}`).join(', ')}); migrate into an empty database`);
  }
}

function all(db: DatabaseSync, sql: string): Row[] {
  return db.prepare(sql).all() as Row[];
}

/** ms since the epoch (how SQLite stores times) as a Date for timestamptz. */
const time = (value: unknown) => new Date(Number(value));

async function inBatches<T>(rows: readonly T[], insert: (batch: readonly T[]) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < rows.length; start += BATCH) await insert(rows.slice(start, start + BATCH));
}

async function copyMetadata(db: DatabaseSync, client: Queryable): Promise<Omit<MigrationSummary, 'policies' | 'policyVersions' | 'decisions'>> {
  const repositories = all(db, 'SELECT id, name, created_at FROM repositories ORDER BY id');
  const newId = new Map<number, string>();
  for (const repository of repositories) {
    const { rows } = await client.query<Row>('INSERT INTO repositories (name, created_at) VALUES ($1, $2) RETURNING id', [repository.name, time(repository.created_at)]);
    newId.set(Number(repository.id), String(rows[0]!.id));
  }
  const id = (row: Row) => newId.get(Number(row.repository_id))!;

  const blobs = all(db, 'SELECT digest, size, created_at FROM blobs');
  await inBatches(blobs, (batch) => client.query(`INSERT INTO blobs (digest, size, created_at)
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::timestamptz[])`, [batch.map((b) => b.digest), batch.map((b) => String(b.size)), batch.map((b) => time(b.created_at))]));

  const links = all(db, 'SELECT repository_id, digest, linked_at FROM repository_blobs');
  await inBatches(links, (batch) => client.query(`INSERT INTO repository_blobs (repository_id, digest, linked_at)
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[])`, [batch.map(id), batch.map((l) => l.digest), batch.map((l) => time(l.linked_at))]));

  // In the order SQLite lists them (oldest first), so the identity column keeps that order.
  const manifests = all(db, `SELECT repository_id, digest, media_type, artifact_type, size, content, subject_digest, annotations, created_at
    FROM manifests ORDER BY created_at, digest`);
  for (const manifest of manifests) {
    await client.query(`INSERT INTO manifests (repository_id, digest, media_type, artifact_type, size, content, subject_digest, annotations, created_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
      id(manifest), manifest.digest, manifest.media_type, manifest.artifact_type, String(manifest.size),
      Buffer.from(manifest.content as Uint8Array), manifest.subject_digest, manifest.annotations, time(manifest.created_at),
    ]);
  }

  const references = all(db, 'SELECT repository_id, manifest_digest, child_digest, kind FROM manifest_references');
  await inBatches(references, (batch) => client.query(`INSERT INTO manifest_references (repository_id, manifest_digest, child_digest, kind)
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])`,
  [batch.map(id), batch.map((r) => r.manifest_digest), batch.map((r) => r.child_digest), batch.map((r) => r.kind)]));

  const tags = all(db, 'SELECT repository_id, name, digest, updated_at FROM tags');
  await inBatches(tags, (batch) => client.query(`INSERT INTO tags (repository_id, name, digest, updated_at)
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[])`,
  [batch.map(id), batch.map((t) => t.name), batch.map((t) => t.digest), batch.map((t) => time(t.updated_at))]));

  const uploads = all(db, 'SELECT id, repository_id, created_at FROM uploads');
  await inBatches(uploads, (batch) => client.query(`INSERT INTO uploads (id, repository_id, created_at)
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::timestamptz[])`, [batch.map((u) => u.id), batch.map(id), batch.map((u) => time(u.created_at))]));

  return { repositories: repositories.length, blobs: blobs.length, manifests: manifests.length, tags: tags.length, uploads: uploads.length };
}

/**
 * The SQLite policy store's tables (`policies`, `policy_history`, `generation`, `decisions`,
 * `quarantine`, `namespace_settings`) into the PostgreSQL one's `policy_*` tables.
 */
async function copyPolicies(db: DatabaseSync, client: Queryable): Promise<Pick<MigrationSummary, 'policies' | 'policyVersions' | 'decisions'>> {
  const history = all(db, 'SELECT name, version, revision, definition, updated_at FROM policy_history ORDER BY name, version');
  for (const version of history) {
    await client.query('INSERT INTO policy_history (name, version, revision, definition, updated_at) VALUES ($1, $2, $3, $4, $5)',
      [version.name, Number(version.version), version.revision, version.definition, time(version.updated_at)]);
  }
  const current = all(db, 'SELECT name, version, revision, definition, updated_at FROM policies ORDER BY name');
  for (const policy of current) {
    // A version the history lacks (it should not) is added, so the current one always resolves.
    await client.query(`INSERT INTO policy_history (name, version, revision, definition, updated_at) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT DO NOTHING`, [policy.name, Number(policy.version), policy.revision, policy.definition, time(policy.updated_at)]);
    await client.query('INSERT INTO policy_current (name, version) VALUES ($1, $2)', [policy.name, Number(policy.version)]);
  }
  const generation = all(db, 'SELECT value FROM generation WHERE id = 1')[0];
  // One more than the old value, so a cache keyed on the old generation reloads.
  await client.query('UPDATE policy_generation SET value = $1 WHERE id = 1', [String(Number(generation?.value ?? 0) + 1)]);

  const decisions = all(db, `SELECT id, time, point, repository, digest, requester, allowed, policies, paths, input_hash, result, duration_ms, admission
    FROM decisions ORDER BY time, rowid`);
  await inBatches(decisions, (batch) => client.query(`INSERT INTO policy_decisions
    (id, time, point, repository, digest, requester, allowed, policies, paths, input_hash, result, duration_ms, admission)
    SELECT id, time, point, repository, digest, requester, allowed, policies, paths, input_hash, result, duration_ms, admission
    FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[], $8::jsonb[], $9::jsonb[],
      $10::text[], $11::jsonb[], $12::double precision[], $13::jsonb[]) WITH ORDINALITY
      AS d(id, time, point, repository, digest, requester, allowed, policies, paths, input_hash, result, duration_ms, admission, n)
    ORDER BY n`, [
    batch.map((d) => d.id), batch.map((d) => time(d.time)), batch.map((d) => d.point), batch.map((d) => d.repository), batch.map((d) => d.digest),
    batch.map((d) => d.requester), batch.map((d) => Number(d.allowed) === 1), batch.map((d) => d.policies), batch.map((d) => d.paths),
    batch.map((d) => d.input_hash), batch.map((d) => d.result), batch.map((d) => Number(d.duration_ms)), batch.map((d) => d.admission ?? null),
  ]));

  for (const row of all(db, 'SELECT repository, digest, reasons, since FROM quarantine')) {
    await client.query('INSERT INTO policy_quarantine (repository, digest, reasons, since) VALUES ($1, $2, $3, $4)',
      [row.repository, row.digest, row.reasons, time(row.since)]);
  }
  for (const row of all(db, 'SELECT namespace, settings FROM namespace_settings')) {
    await client.query('INSERT INTO policy_namespace_settings (namespace, settings) VALUES ($1, $2)', [row.namespace, row.settings]);
  }
  return { policies: current.length, policyVersions: history.length, decisions: decisions.length };
}
