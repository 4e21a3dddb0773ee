/**
 * Moves a registry's embedded databases into PostgreSQL (`wharf migrate --to postgres://…`): the
 * registry metadata of `<data>/metadata.db` and, when present, the policies, decision log,
 * quarantines and namespace settings of `<data>/policy.db` and the users, teams, memberships,
 * robots, OIDC issuers, refresh tokens, token-signing keys and audit trail of
 * `<data>/identity.db` (so tokens issued before the move stay valid). Manifests are copied byte for byte,
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
import { PostgresIdentityStore } from '../auth/postgres-identity-store.ts';
import { SQLITE_IDENTITY_MIGRATIONS } from '../auth/sqlite-identity-store.ts';

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
  users: number;
  robots: number;
}

export class MigrationError extends Error {}

export async function migrateToPostgres(dataDir: string, url: string): Promise<MigrationSummary> {
  const metadataPath = join(dataDir, 'metadata.db');
  if (!existsSync(metadataPath)) throw new MigrationError(`${metadataPath} does not exist: nothing to migrate`);
  const policyPath = join(dataDir, 'policy.db');
  const identityPath = join(dataDir, 'identity.db');

  // The schemas first, through the stores themselves (each in its own transaction).
  for (const store of [
    new PostgresMetadataStore({ url, maxConnections: 1 }), new PostgresPolicyStore({ url, maxConnections: 1 }), new PostgresIdentityStore({ url, maxConnections: 1 }),
  ]) {
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
  const identity = existsSync(identityPath) ? new DatabaseSync(identityPath, { readOnly: true }) : undefined;
  const identityVersion = identity && Number((identity.prepare('PRAGMA user_version').get() as Row).user_version);
  if (identity && identityVersion !== SQLITE_IDENTITY_MIGRATIONS.length) {
    metadata.close();
    policy?.close();
    identity.close();
    throw new MigrationError(`${identityPath} is at schema version ${identityVersion}, this Wharf reads version ${SQLITE_IDENTITY_MIGRATIONS.length}: start this Wharf once on the data folder with auth.enabled (it upgrades it), stop it, then migrate`);
  }
  const target = new PostgresDatabase({ url, maxConnections: 1 });
  try {
    return await target.transaction(async (client) => {
      await requireEmpty(client);
      const summary = await copyMetadata(metadata, client);
      const policies = policy ? await copyPolicies(policy, client) : { policies: 0, policyVersions: 0, decisions: 0 };
      const identities = identity ? await copyIdentities(identity, client) : { users: 0, robots: 0 };
      return { ...summary, ...policies, ...identities };
    });
  } finally {
    metadata.close();
    policy?.close();
    identity?.close();
    await target.close();
  }
}

async function requireEmpty(client: Queryable): Promise<void> {
  const { rows } = await client.query<Row>(`SELECT
    (SELECT COUNT(*) FROM repositories) AS repositories, (SELECT COUNT(*) FROM policy_history) AS policies,
    (SELECT COUNT(*) FROM policy_decisions) AS decisions, (SELECT COUNT(*) FROM policy_namespace_settings) AS namespaces,
    (SELECT COUNT(*) FROM identity_users) AS users, (SELECT COUNT(*) FROM identity_robots) AS robots,
    (SELECT COUNT(*) FROM identity_signing_keys) AS "signing keys"`);
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

async function copyMetadata(db: DatabaseSync, client: Queryable): Promise<Omit<MigrationSummary, 'policies' | 'policyVersions' | 'decisions' | 'users' | 'robots'>> {
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

/** A nullable SQLite time (ms since the epoch) as a Date or null. */
const optionalTime = (value: unknown) => (value === null || value === undefined ? null : time(value));

/**
 * The SQLite identity store's tables into the PostgreSQL one's `identity_*` tables, account ids
 * and secret digests as they are (tokens name accounts by id; the signing keys keep verifying
 * the tokens they signed).
 */
async function copyIdentities(db: DatabaseSync, client: Queryable): Promise<Pick<MigrationSummary, 'users' | 'robots'>> {
  const users = all(db, 'SELECT id, username, password_hash, admin, created_at FROM users');
  for (const user of users) {
    await client.query('INSERT INTO identity_users (id, username, password_hash, admin, created_at) VALUES ($1, $2, $3, $4, $5)',
      [user.id, user.username, user.password_hash, Number(user.admin) === 1, time(user.created_at)]);
  }
  for (const team of all(db, 'SELECT name FROM teams')) await client.query('INSERT INTO identity_teams (name) VALUES ($1)', [team.name]);
  for (const member of all(db, 'SELECT team, username FROM team_members')) {
    await client.query('INSERT INTO identity_team_members (team, username) VALUES ($1, $2)', [member.team, member.username]);
  }
  for (const row of all(db, 'SELECT namespace, principal_kind, principal, role FROM memberships')) {
    await client.query('INSERT INTO identity_memberships (namespace, principal_kind, principal, role) VALUES ($1, $2, $3, $4)',
      [row.namespace, row.principal_kind, row.principal, row.role]);
  }
  const robots = all(db, 'SELECT id, name, secret_hash, grants, capabilities, created_at, expires_at, revoked_at, last_used_at FROM robots');
  for (const robot of robots) {
    await client.query(`INSERT INTO identity_robots (id, name, secret_hash, grants, capabilities, created_at, expires_at, revoked_at, last_used_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
      robot.id, robot.name, robot.secret_hash, robot.grants, robot.capabilities, time(robot.created_at),
      optionalTime(robot.expires_at), optionalTime(robot.revoked_at), optionalTime(robot.last_used_at),
    ]);
  }
  for (const row of all(db, 'SELECT name, issuer, audience, jwks, jwks_url, rules FROM issuers')) {
    await client.query('INSERT INTO identity_issuers (name, issuer, audience, jwks, jwks_url, rules) VALUES ($1, $2, $3, $4, $5, $6)',
      [row.name, row.issuer, row.audience, row.jwks, row.jwks_url, row.rules]);
  }
  const refresh = all(db, 'SELECT hash, subject, expires_at FROM refresh_tokens');
  await inBatches(refresh, (batch) => client.query(`INSERT INTO identity_refresh_tokens (hash, subject, expires_at)
    SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])`, [batch.map((r) => r.hash), batch.map((r) => r.subject), batch.map((r) => time(r.expires_at))]));
  for (const key of all(db, 'SELECT kid, algorithm, private_key_pem, created_at, retired_at FROM signing_keys')) {
    await client.query('INSERT INTO identity_signing_keys (kid, algorithm, private_key_pem, created_at, retired_at) VALUES ($1, $2, $3, $4, $5)',
      [key.kid, key.algorithm, key.private_key_pem, time(key.created_at), optionalTime(key.retired_at)]);
  }
  // Oldest first, so the identity column keeps the trail's order.
  const audit = all(db, 'SELECT time, identity, action, resource, allowed, reason, client FROM audit_events ORDER BY id');
  await inBatches(audit, (batch) => client.query(`INSERT INTO identity_audit_events (time, identity, action, resource, allowed, reason, client)
    SELECT time, identity, action, resource, allowed, reason, client
    FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::text[], $7::text[]) WITH ORDINALITY
      AS a(time, identity, action, resource, allowed, reason, client, n)
    ORDER BY n`, [
    batch.map((a) => time(a.time)), batch.map((a) => a.identity), batch.map((a) => a.action), batch.map((a) => a.resource),
    batch.map((a) => Number(a.allowed) === 1), batch.map((a) => a.reason), batch.map((a) => a.client),
  ]));
  return { users: users.length, robots: robots.length };
}
