/** PolicyStore on SQLite, in its own file `<data>/policy.db`. */
import { createHash } from 'node:crypto';
import { SqliteDatabase } from '../../storage/sqlite-database.ts';
import {
  PolicyStoreError, type DecisionRecord, type EnforcementPoint, type NamespaceSettings, type PolicyDefinition, type PolicyStore, type StoredPolicy, type Violation,
} from './policy-store.ts';

type Row = Record<string, unknown>;

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE policies (name TEXT PRIMARY KEY, version INTEGER NOT NULL, revision TEXT NOT NULL, definition TEXT NOT NULL, updated_at INTEGER NOT NULL);
  CREATE TABLE policy_history (name TEXT NOT NULL, version INTEGER NOT NULL, revision TEXT NOT NULL, definition TEXT NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (name, version));
  CREATE TABLE generation (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
  INSERT INTO generation (id, value) VALUES (1, 0);
  CREATE TABLE decisions (
    id TEXT PRIMARY KEY, time INTEGER NOT NULL, point TEXT NOT NULL, repository TEXT, digest TEXT, requester TEXT NOT NULL,
    allowed INTEGER NOT NULL, policies TEXT NOT NULL, paths TEXT NOT NULL, input_hash TEXT NOT NULL, result TEXT NOT NULL, duration_ms REAL NOT NULL
  );
  CREATE INDEX decisions_by_time ON decisions(time);
  CREATE TABLE quarantine (repository TEXT NOT NULL, digest TEXT NOT NULL, reasons TEXT NOT NULL, since INTEGER NOT NULL, PRIMARY KEY (repository, digest));
  CREATE TABLE namespace_settings (namespace TEXT PRIMARY KEY, settings TEXT NOT NULL);
  `,
  // Admission decisions name their review, workload and container (JSON), so they can be traced.
  `ALTER TABLE decisions ADD COLUMN admission TEXT;`,
];

export class SqlitePolicyStore implements PolicyStore {
  readonly #db: SqliteDatabase;

  constructor(path: string) {
    this.#db = new SqliteDatabase(path);
  }

  async migrate(): Promise<void> {
    this.#db.migrate(MIGRATIONS);
  }

  async close(): Promise<void> {
    this.#db.close();
  }

  async putPolicy(definition: PolicyDefinition): Promise<StoredPolicy> {
    return this.#guard('store the policy', () => {
      const text = JSON.stringify(definition);
      const revision = createHash('sha256').update(text).digest('hex');
      return this.#db.transaction(() => {
        // Numbering goes on past a removal: old decision-log entries name earlier versions of this name.
        const previous = this.#db.sql('SELECT MAX(version) AS version FROM policy_history WHERE name = ?').get(definition.name) as Row;
        const version = Number(previous.version ?? 0) + 1;
        const now = Date.now();
        this.#db.sql(`INSERT INTO policies (name, version, revision, definition, updated_at) VALUES (?, ?, ?, ?, ?)
          ON CONFLICT (name) DO UPDATE SET version = excluded.version, revision = excluded.revision, definition = excluded.definition, updated_at = excluded.updated_at`)
          .run(definition.name, version, revision, text, now);
        this.#db.sql('INSERT INTO policy_history (name, version, revision, definition, updated_at) VALUES (?, ?, ?, ?, ?)').run(definition.name, version, revision, text, now);
        this.#bump();
        return { ...definition, version, revision, updatedAt: new Date(now) };
      });
    });
  }

  async getPolicy(name: string): Promise<StoredPolicy | undefined> {
    return this.#guard('read the policy', () => {
      const row = this.#db.sql('SELECT * FROM policies WHERE name = ?').get(name) as Row | undefined;
      return row && toPolicy(row);
    });
  }

  async listPolicies(): Promise<StoredPolicy[]> {
    return this.#guard('list the policies', () => (this.#db.sql('SELECT * FROM policies ORDER BY name').all() as Row[]).map(toPolicy));
  }

  async deletePolicy(name: string): Promise<boolean> {
    return this.#guard('remove the policy', () => this.#db.transaction(() => {
      const deleted = Number(this.#db.sql('DELETE FROM policies WHERE name = ?').run(name).changes) > 0;
      if (!deleted) return false;
      // What the policy held back is held no longer; reasons of other policies stay.
      for (const row of this.#db.sql('SELECT repository, digest, reasons FROM quarantine').all() as Row[]) {
        const reasons = (JSON.parse(row.reasons as string) as { policy?: string }[]);
        const kept = reasons.filter((reason) => reason.policy !== name);
        if (kept.length === reasons.length) continue;
        if (kept.length === 0) this.#db.sql('DELETE FROM quarantine WHERE repository = ? AND digest = ?').run(row.repository as string, row.digest as string);
        else this.#db.sql('UPDATE quarantine SET reasons = ? WHERE repository = ? AND digest = ?').run(JSON.stringify(kept), row.repository as string, row.digest as string);
      }
      this.#bump();
      return true;
    }));
  }

  async generation(): Promise<number> {
    return this.#guard('read the policy generation', () => Number((this.#db.sql('SELECT value FROM generation WHERE id = 1').get() as Row).value));
  }

  async appendDecisions(records: readonly DecisionRecord[]): Promise<void> {
    return this.#guard('write the decision log', () => {
      const insert = this.#db.sql(`INSERT INTO decisions (id, time, point, repository, digest, requester, allowed, policies, paths, input_hash, result, duration_ms, admission)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      this.#db.transaction(() => {
        for (const record of records) {
          insert.run(
            record.id, record.time.getTime(), record.point, record.repository ?? null, record.digest ?? null, record.requester,
            record.allowed ? 1 : 0, JSON.stringify(record.policies), JSON.stringify(record.paths), record.inputHash, JSON.stringify(record.result), record.durationMs,
            record.admission ? JSON.stringify(record.admission) : null,
          );
        }
      });
    });
  }

  async listDecisions(filter: { limit: number; point?: EnforcementPoint; allowed?: boolean; repository?: string; policy?: string }): Promise<DecisionRecord[]> {
    return this.#guard('read the decision log', () => {
      const rows = this.#db.sql(`SELECT * FROM decisions WHERE (?1 IS NULL OR point = ?1) AND (?2 IS NULL OR allowed = ?2) AND (?3 IS NULL OR repository = ?3)
        AND (?4 IS NULL OR EXISTS (SELECT 1 FROM json_each(policies) WHERE json_each.value LIKE ?4 || '@%')) ORDER BY time DESC, rowid DESC LIMIT ?5`)
        .all(filter.point ?? null, filter.allowed === undefined ? null : (filter.allowed ? 1 : 0), filter.repository ?? null, filter.policy ?? null, filter.limit) as Row[];
      return rows.map((row) => ({
        id: row.id as string,
        time: new Date(Number(row.time)),
        point: row.point as EnforcementPoint,
        repository: (row.repository as string | null) ?? undefined,
        digest: (row.digest as string | null) ?? undefined,
        requester: row.requester as string,
        allowed: Number(row.allowed) === 1,
        policies: JSON.parse(row.policies as string),
        paths: JSON.parse(row.paths as string),
        inputHash: row.input_hash as string,
        result: JSON.parse(row.result as string),
        durationMs: Number(row.duration_ms),
        ...(row.admission ? { admission: JSON.parse(row.admission as string) } : {}),
      }));
    });
  }

  async setQuarantine(repository: string, digest: string, reasons: readonly Violation[]): Promise<void> {
    return this.#guard('quarantine the artifact', () => {
      this.#db.sql(`INSERT INTO quarantine (repository, digest, reasons, since) VALUES (?, ?, ?, ?)
        ON CONFLICT (repository, digest) DO UPDATE SET reasons = excluded.reasons`).run(repository, digest, JSON.stringify(reasons), Date.now());
    });
  }

  async clearQuarantine(repository: string, digest: string): Promise<void> {
    return this.#guard('release the artifact from quarantine', () => {
      this.#db.sql('DELETE FROM quarantine WHERE repository = ? AND digest = ?').run(repository, digest);
    });
  }

  async releaseQuarantine(repository: string, digest: string): Promise<boolean> {
    return this.#guard('release the artifact from quarantine', () => this.#db.transaction(() => {
      const released = Number(this.#db.sql('DELETE FROM quarantine WHERE repository = ? AND digest = ?').run(repository, digest).changes) > 0;
      if (released) this.#bump();
      return released;
    }));
  }

  async getQuarantine(repository: string, digest: string): Promise<{ reasons: Violation[]; since: Date } | undefined> {
    return this.#guard('read the quarantine', () => {
      const row = this.#db.sql('SELECT reasons, since FROM quarantine WHERE repository = ? AND digest = ?').get(repository, digest) as Row | undefined;
      return row && { reasons: JSON.parse(row.reasons as string), since: new Date(Number(row.since)) };
    });
  }

  async listQuarantined(): Promise<{ repository: string; digest: string; reasons: Violation[]; since: Date }[]> {
    return this.#guard('list the quarantined artifacts', () => {
      return (this.#db.sql('SELECT * FROM quarantine ORDER BY since').all() as Row[]).map((row) => ({
        repository: row.repository as string, digest: row.digest as string, reasons: JSON.parse(row.reasons as string), since: new Date(Number(row.since)),
      }));
    });
  }

  async getNamespaceSettings(namespace: string): Promise<NamespaceSettings | undefined> {
    return this.#guard('read the namespace settings', () => {
      const row = this.#db.sql('SELECT settings FROM namespace_settings WHERE namespace = ?').get(namespace) as Row | undefined;
      return row && JSON.parse(row.settings as string);
    });
  }

  async putNamespaceSettings(namespace: string, settings: NamespaceSettings): Promise<void> {
    return this.#guard('store the namespace settings', () => {
      this.#db.transaction(() => {
        this.#db.sql(`INSERT INTO namespace_settings (namespace, settings) VALUES (?, ?)
          ON CONFLICT (namespace) DO UPDATE SET settings = excluded.settings`).run(namespace, JSON.stringify(settings));
        this.#bump();
      });
    });
  }

  /** Runs a store operation; a database failure becomes a PolicyStoreError naming the operation. */
  #guard<T>(operation: string, work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw storeError(operation, error);
    }
  }

  #bump(): void {
    this.#db.sql('UPDATE generation SET value = value + 1 WHERE id = 1').run();
  }
}

function toPolicy(row: Row): StoredPolicy {
  return { ...JSON.parse(row.definition as string), version: Number(row.version), revision: row.revision as string, updatedAt: new Date(Number(row.updated_at)) };
}

/** node:sqlite reports SQLITE_CONSTRAINT (19) and SQLITE_BUSY (5) / SQLITE_LOCKED (6) in the low byte of `errcode`. */
function storeError(operation: string, error: unknown): Error {
  if (error instanceof PolicyStoreError) return error;
  const sqlite = error as { code?: string; errcode?: number };
  if (sqlite.code !== 'ERR_SQLITE_ERROR' && sqlite.code !== 'ERR_INVALID_STATE') return error as Error;
  const primary = (sqlite.errcode ?? 0) & 0xff;
  if (primary === 19) return new PolicyStoreError('conflict', `the policy store could not ${operation}: it conflicts with what is stored`, { cause: error });
  const reason = primary === 5 || primary === 6 ? 'the database is busy, try again' : 'the database failed (see the server log)';
  return new PolicyStoreError('unavailable', `the policy store could not ${operation}: ${reason}`, { cause: error });
}
