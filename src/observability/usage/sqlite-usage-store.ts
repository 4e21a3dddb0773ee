/**
 * The telemetry tables in their own SQLite database (<data>/telemetry.db), apart from the
 * registry's metadata: telemetry is written often and in bulk and pruned by age, and a query over
 * it must never hold a lock the registry needs.
 *
 * Times are milliseconds since the epoch (INTEGER). Indexes, measured with bench/observability.ts:
 * (repository, time, bytes) covers "per repository since" queries, whole or for a caller who
 * may read only some repositories; the expression indexes on hourly and daily buckets let
 * `GROUP BY time_bucket('1h'|'1d', time)` read groups in order instead of sorting every row
 * (the compiler writes time_bucket as exactly these expressions); (time) serves other ranges. Writes use synchronous=NORMAL: telemetry may lose the last
 * transaction on power loss, and never blocks the registry's own fsyncs.
 */
import { join } from 'node:path';
import type { StatementSync } from 'node:sqlite';
import { SqliteDatabase } from '../../storage/sqlite-database.ts';
import { namespaceOf } from '../../auth/access.ts';
import type { ArtifactRow, AuditRow, DecisionRow, StorageRow, TelemetryBatch, TransferRecord, UsageStore } from './usage-store.ts';

const TRANSFER_COLUMNS = `time INTEGER NOT NULL, namespace TEXT NOT NULL, repository TEXT NOT NULL, digest TEXT NOT NULL, tag TEXT,
  kind TEXT NOT NULL, bytes INTEGER NOT NULL, identity TEXT NOT NULL, client_address TEXT, user_agent TEXT`;

/** Applied in order, recorded in user_version; a released migration is never edited. */
export const USAGE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE pulls (${TRANSFER_COLUMNS});
   CREATE INDEX pulls_by_time ON pulls(time);
   CREATE INDEX pulls_by_repository ON pulls(repository, time, bytes);
   CREATE INDEX pulls_by_hour ON pulls(time / 3600000 * 3600000, time, bytes);
   CREATE INDEX pulls_by_day ON pulls(time / 86400000 * 86400000, time, bytes);
   CREATE TABLE pushes (${TRANSFER_COLUMNS});
   CREATE INDEX pushes_by_time ON pushes(time);
   CREATE INDEX pushes_by_repository ON pushes(repository, time, bytes);
   CREATE TABLE decisions (decision_id TEXT NOT NULL, time INTEGER NOT NULL, namespace TEXT, repository TEXT, digest TEXT, point TEXT NOT NULL,
     identity TEXT NOT NULL, allowed INTEGER NOT NULL, policy TEXT, mode TEXT, message TEXT);
   CREATE UNIQUE INDEX decisions_once ON decisions(decision_id, coalesce(policy, ''), coalesce(message, ''));
   CREATE INDEX decisions_by_time ON decisions(time);
   CREATE TABLE storage (day INTEGER NOT NULL, namespace TEXT NOT NULL, bytes INTEGER NOT NULL, repositories INTEGER NOT NULL, artifacts INTEGER NOT NULL,
     PRIMARY KEY (namespace, day));
   CREATE INDEX storage_by_day ON storage(day);
   CREATE TABLE artifacts (namespace TEXT NOT NULL, repository TEXT NOT NULL, digest TEXT NOT NULL, tag TEXT, media_type TEXT NOT NULL, pushed INTEGER);
   CREATE INDEX artifacts_by_repository ON artifacts(repository, digest);
   CREATE TABLE audit (time INTEGER NOT NULL, identity TEXT NOT NULL, action TEXT NOT NULL, resource TEXT NOT NULL, allowed INTEGER NOT NULL,
     reason TEXT NOT NULL, client_address TEXT);
   CREATE UNIQUE INDEX audit_once ON audit(time, identity, action, resource, allowed, reason, coalesce(client_address, ''));
   CREATE TABLE known_repositories (repository TEXT PRIMARY KEY) WITHOUT ROWID;`,
];

export function telemetryDatabasePath(dataDir: string): string {
  return join(dataDir, 'telemetry.db');
}

export class SqliteUsageStore implements UsageStore {
  readonly #db: SqliteDatabase;

  constructor(path: string) {
    // Telemetry may lose the last moments before a crash (records wait in memory anyway).
    this.#db = new SqliteDatabase(path, { synchronous: 'NORMAL' });
  }

  async migrate(): Promise<void> {
    this.#db.migrate(USAGE_MIGRATIONS);
  }

  async append(batch: TelemetryBatch): Promise<void> {
    if (batch.pulls.length + batch.pushes.length + batch.decisions.length + (batch.audit?.length ?? 0) === 0) return;
    const repositories = new Set<string>();
    this.#transaction(() => {
      this.#insertTransfers('pulls', batch.pulls, repositories);
      this.#insertTransfers('pushes', batch.pushes, repositories);
      const decision = this.#sql(`INSERT OR IGNORE INTO decisions (decision_id, time, namespace, repository, digest, point, identity, allowed, policy, mode, message)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const row of batch.decisions) {
        decision.run(row.id, row.time, row.repository === undefined ? null : namespaceOf(row.repository), row.repository ?? null, row.digest ?? null,
          row.point, row.identity, row.allowed ? 1 : 0, row.policy ?? null, row.mode ?? null, row.message ?? null);
        if (row.repository !== undefined) repositories.add(row.repository);
      }
      // The audit trail is copied again from its newest entry on: an entry seen twice is kept once.
      const audit = this.#sql(`INSERT OR IGNORE INTO audit (time, identity, action, resource, allowed, reason, client_address) VALUES (?, ?, ?, ?, ?, ?, ?)`);
      for (const row of batch.audit ?? []) audit.run(row.time, row.identity, row.action, row.resource, row.allowed ? 1 : 0, row.reason, row.clientAddress ?? null);
      const known = this.#sql('INSERT OR IGNORE INTO known_repositories (repository) VALUES (?)');
      for (const repository of repositories) known.run(repository);
    });
  }

  #insertTransfers(table: 'pulls' | 'pushes', records: readonly TransferRecord[], repositories: Set<string>): void {
    if (records.length === 0) return;
    const insert = this.#sql(`INSERT INTO ${table} (time, namespace, repository, digest, tag, kind, bytes, identity, client_address, user_agent)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    for (const record of records) {
      insert.run(record.time, namespaceOf(record.repository), record.repository, record.digest, record.tag ?? null, record.kind, record.bytes,
        record.identity, record.clientAddress ?? null, record.userAgent ?? null);
      repositories.add(record.repository);
    }
  }

  async putStorage(day: number, rows: readonly StorageRow[]): Promise<void> {
    const upsert = this.#sql(`INSERT INTO storage (day, namespace, bytes, repositories, artifacts) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (namespace, day) DO UPDATE SET bytes = excluded.bytes, repositories = excluded.repositories, artifacts = excluded.artifacts`);
    this.#transaction(() => {
      for (const row of rows) upsert.run(day, row.namespace, row.bytes, row.repositories, row.artifacts);
    });
  }

  async replaceArtifacts(rows: readonly ArtifactRow[]): Promise<void> {
    const insert = this.#sql('INSERT INTO artifacts (namespace, repository, digest, tag, media_type, pushed) VALUES (?, ?, ?, ?, ?, ?)');
    const known = this.#sql('INSERT OR IGNORE INTO known_repositories (repository) VALUES (?)');
    this.#transaction(() => {
      this.#db.exec('DELETE FROM artifacts');
      for (const row of rows) {
        insert.run(namespaceOf(row.repository), row.repository, row.digest, row.tag ?? null, row.mediaType, row.pushed ?? null);
        known.run(row.repository);
      }
    });
  }

  async prune(before: number): Promise<number> {
    const removed = this.#transaction(() => {
      let removed = 0;
      for (const [table, column] of [['pulls', 'time'], ['pushes', 'time'], ['decisions', 'time'], ['audit', 'time'], ['storage', 'day']] as const) {
        removed += Number(this.#sql(`DELETE FROM ${table} WHERE ${column} < ?`).run(before).changes);
      }
      return removed;
    });
    // SQLite's advice for long-lived connections: refresh the planner's statistics now and then.
    this.#db.exec('PRAGMA optimize');
    return removed;
  }

  async knownRepositories(): Promise<string[]> {
    return (this.#sql('SELECT repository FROM known_repositories ORDER BY repository').all() as { repository: string }[]).map((row) => row.repository);
  }

  async knownNamespaces(): Promise<string[]> {
    return (this.#sql('SELECT DISTINCT namespace FROM storage ORDER BY namespace').all() as { namespace: string }[]).map((row) => row.namespace);
  }

  async latestAuditTime(): Promise<number> {
    return Number((this.#sql('SELECT coalesce(max(time), 0) AS latest FROM audit').get() as { latest: number }).latest);
  }

  async latestDecisionTime(): Promise<number> {
    return Number((this.#sql('SELECT coalesce(max(time), 0) AS latest FROM decisions').get() as { latest: number }).latest);
  }

  async close(): Promise<void> {
    this.#db.close();
  }

  #sql(text: string): StatementSync {
    return this.#db.sql(text);
  }

  #transaction<T>(work: () => T): T {
    return this.#db.transaction(work);
  }
}

export type { AuditRow, DecisionRow, StorageRow };
