/**
 * PolicyStore on PostgreSQL, for several Wharf processes sharing one database (tables prefixed
 * `policy_`, migrations recorded as store `policy` beside the registry metadata's).
 *
 * Versions are taken under a row lock of the policy's history, so two replicas changing one
 * policy at once get consecutive versions; a policy deleted and put again continues its
 * numbering, so `name@version` in old decisions never names two contents. The generation lives
 * in one row that every change updates in its transaction. Definitions are stored as `json`
 * (text kept as written), so a policy reads back exactly as its revision was hashed.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { PostgresDatabase, type PostgresOptions, type Queryable } from '../../storage/postgres-database.ts';
import { StorageUnavailableError } from '../../storage/storage-errors.ts';
import {
  PolicyStoreError, type DecisionRecord, type EnforcementPoint, type NamespaceSettings, type PolicyDefinition, type PolicyStore, type StoredPolicy, type Violation,
} from './policy-store.ts';

type Row = Record<string, unknown>;

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE policy_history (
    name text COLLATE "C" NOT NULL, version integer NOT NULL, revision text NOT NULL, definition json NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (name, version)
  );
  CREATE TABLE policy_current (
    name text COLLATE "C" PRIMARY KEY, version integer NOT NULL,
    FOREIGN KEY (name, version) REFERENCES policy_history(name, version)
  );
  CREATE TABLE policy_generation (id integer PRIMARY KEY CHECK (id = 1), value bigint NOT NULL);
  INSERT INTO policy_generation (id, value) VALUES (1, 0);
  CREATE TABLE policy_decisions (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id text NOT NULL UNIQUE, time timestamptz NOT NULL, point text NOT NULL, repository text, digest text, requester text NOT NULL,
    allowed boolean NOT NULL, policies jsonb NOT NULL, paths jsonb NOT NULL, input_hash text NOT NULL, result jsonb NOT NULL,
    duration_ms double precision NOT NULL
  );
  CREATE INDEX policy_decisions_by_time ON policy_decisions(time DESC, seq DESC);
  CREATE TABLE policy_quarantine (
    repository text NOT NULL, digest text NOT NULL, reasons jsonb NOT NULL, since timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (repository, digest)
  );
  CREATE TABLE policy_namespace_settings (namespace text PRIMARY KEY, settings jsonb NOT NULL);
  `,
  // Admission decisions name their review, workload and container, so they can be traced.
  'ALTER TABLE policy_decisions ADD COLUMN admission jsonb;',
];

export class PostgresPolicyStore implements PolicyStore {
  readonly #db: PostgresDatabase;

  constructor(options: PostgresOptions) {
    this.#db = new PostgresDatabase(options);
  }

  async migrate(): Promise<void> {
    await this.#db.migrate('policy', MIGRATIONS);
  }

  async close(): Promise<void> {
    await this.#db.close();
  }

  async putPolicy(definition: PolicyDefinition): Promise<StoredPolicy> {
    return this.#guard('store the policy', async () => {
      const text = JSON.stringify(definition);
      const revision = createHash('sha256').update(text).digest('hex');
      return this.#db.transaction(async (client) => {
        // Serialises writers of this one policy across replicas (released at commit).
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`policy:${definition.name}`]);
        const { rows } = await client.query<Row>('SELECT COALESCE(MAX(version), 0) + 1 AS version FROM policy_history WHERE name = $1', [definition.name]);
        const version = Number(rows[0]!.version);
        const inserted = await client.query<Row>(`INSERT INTO policy_history (name, version, revision, definition) VALUES ($1, $2, $3, $4)
          RETURNING updated_at`, [definition.name, version, revision, text]);
        await client.query(`INSERT INTO policy_current (name, version) VALUES ($1, $2)
          ON CONFLICT (name) DO UPDATE SET version = excluded.version`, [definition.name, version]);
        await bump(client);
        return { ...definition, version, revision, updatedAt: inserted.rows[0]!.updated_at as Date };
      });
    });
  }

  async getPolicy(name: string): Promise<StoredPolicy | undefined> {
    return this.#guard('read the policy', async () => {
      const { rows } = await this.#db.query(`SELECT h.* FROM policy_current c JOIN policy_history h USING (name, version) WHERE c.name = $1`, [name]);
      return rows[0] && toPolicy(rows[0]);
    });
  }

  async listPolicies(): Promise<StoredPolicy[]> {
    return this.#guard('list the policies', async () => {
      const { rows } = await this.#db.query('SELECT h.* FROM policy_current c JOIN policy_history h USING (name, version) ORDER BY c.name');
      return rows.map(toPolicy);
    });
  }

  async deletePolicy(name: string): Promise<boolean> {
    return this.#guard('remove the policy', async () => {
      return this.#db.transaction(async (client) => {
        const deleted = ((await client.query('DELETE FROM policy_current WHERE name = $1', [name])).rowCount ?? 0) > 0;
        if (!deleted) return false;
        // What the policy held back is held no longer; reasons of other policies stay.
        const { rows } = await client.query('SELECT repository, digest, reasons FROM policy_quarantine FOR UPDATE');
        for (const row of rows) {
          const reasons = row.reasons as { policy?: string }[];
          const kept = reasons.filter((reason) => reason.policy !== name);
          if (kept.length === reasons.length) continue;
          if (kept.length === 0) await client.query('DELETE FROM policy_quarantine WHERE repository = $1 AND digest = $2', [row.repository, row.digest]);
          else await client.query('UPDATE policy_quarantine SET reasons = $3 WHERE repository = $1 AND digest = $2', [row.repository, row.digest, JSON.stringify(kept)]);
        }
        await bump(client);
        return true;
      });
    });
  }

  async generation(): Promise<number> {
    return this.#guard('read the policy generation', async () => {
      const { rows } = await this.#db.query('SELECT value FROM policy_generation WHERE id = 1');
      return Number(rows[0]!.value);
    });
  }

  async appendDecisions(records: readonly DecisionRecord[]): Promise<void> {
    return this.#guard('write the decision log', async () => {
      if (records.length === 0) return;
      // One statement, one transaction: the batch is appended whole or not at all.
      await this.#db.query(`INSERT INTO policy_decisions (id, time, point, repository, digest, requester, allowed, policies, paths, input_hash, result, duration_ms, admission)
        SELECT id, time, point, repository, digest, requester, allowed, policies, paths, input_hash, result, duration_ms, admission
        FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[],
          $8::jsonb[], $9::jsonb[], $10::text[], $11::jsonb[], $12::double precision[], $13::jsonb[])
          WITH ORDINALITY AS d(id, time, point, repository, digest, requester, allowed, policies, paths, input_hash, result, duration_ms, admission, n)
        ORDER BY n`, [
        records.map((r) => r.id), records.map((r) => r.time), records.map((r) => r.point), records.map((r) => r.repository ?? null),
        records.map((r) => r.digest ?? null), records.map((r) => r.requester), records.map((r) => r.allowed),
        records.map((r) => JSON.stringify(r.policies)), records.map((r) => JSON.stringify(r.paths)), records.map((r) => r.inputHash),
        records.map((r) => JSON.stringify(r.result)), records.map((r) => r.durationMs),
        records.map((r) => (r.admission ? JSON.stringify(r.admission) : null)),
      ]);
    });
  }

  async listDecisions(filter: { limit: number; point?: EnforcementPoint; allowed?: boolean; repository?: string; policy?: string }): Promise<DecisionRecord[]> {
    return this.#guard('read the decision log', async () => {
      const { rows } = await this.#db.query(`SELECT * FROM policy_decisions
        WHERE ($1::text IS NULL OR point = $1) AND ($2::boolean IS NULL OR allowed = $2) AND ($3::text IS NULL OR repository = $3)
          AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(policies) AS p(ref) WHERE starts_with(p.ref, $4 || '@')))
        ORDER BY time DESC, seq DESC LIMIT $5`,
      [filter.point ?? null, filter.allowed ?? null, filter.repository ?? null, filter.policy ?? null, filter.limit]);
      return rows.map((row) => ({
        id: row.id as string,
        time: row.time as Date,
        point: row.point as EnforcementPoint,
        repository: (row.repository as string | null) ?? undefined,
        digest: (row.digest as string | null) ?? undefined,
        requester: row.requester as string,
        allowed: row.allowed as boolean,
        policies: row.policies as string[],
        paths: row.paths as string[],
        inputHash: row.input_hash as string,
        result: row.result as DecisionRecord['result'],
        durationMs: Number(row.duration_ms),
        ...(row.admission ? { admission: row.admission as DecisionRecord['admission'] } : {}),
      }));
    });
  }

  async setQuarantine(repository: string, digest: string, reasons: readonly Violation[]): Promise<void> {
    return this.#guard('quarantine the artifact', async () => {
      await this.#db.query(`INSERT INTO policy_quarantine (repository, digest, reasons) VALUES ($1, $2, $3)
        ON CONFLICT (repository, digest) DO UPDATE SET reasons = excluded.reasons`, [repository, digest, JSON.stringify(reasons)]);
    });
  }

  async clearQuarantine(repository: string, digest: string): Promise<void> {
    return this.#guard('release the artifact from quarantine', async () => {
      await this.#db.query('DELETE FROM policy_quarantine WHERE repository = $1 AND digest = $2', [repository, digest]);
    });
  }

  async releaseQuarantine(repository: string, digest: string): Promise<boolean> {
    return this.#guard('release the artifact from quarantine', async () => {
      return this.#db.transaction(async (client) => {
        const released = ((await client.query('DELETE FROM policy_quarantine WHERE repository = $1 AND digest = $2', [repository, digest])).rowCount ?? 0) > 0;
        if (released) await bump(client);
        return released;
      });
    });
  }

  async getQuarantine(repository: string, digest: string): Promise<{ reasons: Violation[]; since: Date } | undefined> {
    return this.#guard('read the quarantine', async () => {
      const { rows } = await this.#db.query('SELECT reasons, since FROM policy_quarantine WHERE repository = $1 AND digest = $2', [repository, digest]);
      return rows[0] && { reasons: rows[0].reasons as Violation[], since: rows[0].since as Date };
    });
  }

  async listQuarantined(): Promise<{ repository: string; digest: string; reasons: Violation[]; since: Date }[]> {
    return this.#guard('list the quarantined artifacts', async () => {
      const { rows } = await this.#db.query('SELECT * FROM policy_quarantine ORDER BY since, repository, digest');
      return rows.map((row) => ({ repository: row.repository as string, digest: row.digest as string, reasons: row.reasons as Violation[], since: row.since as Date }));
    });
  }

  async getNamespaceSettings(namespace: string): Promise<NamespaceSettings | undefined> {
    return this.#guard('read the namespace settings', async () => {
      const { rows } = await this.#db.query('SELECT settings FROM policy_namespace_settings WHERE namespace = $1', [namespace]);
      return rows[0]?.settings as NamespaceSettings | undefined;
    });
  }

  async putNamespaceSettings(namespace: string, settings: NamespaceSettings): Promise<void> {
    return this.#guard('store the namespace settings', async () => {
      await this.#db.transaction(async (client) => {
        await client.query(`INSERT INTO policy_namespace_settings (namespace, settings) VALUES ($1, $2)
          ON CONFLICT (namespace) DO UPDATE SET settings = excluded.settings`, [namespace, JSON.stringify(settings)]);
        await bump(client);
      });
    });
  }

  /** Runs a store operation; a database failure becomes a PolicyStoreError naming the operation. */
  async #guard<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw storeError(operation, error);
    }
  }
}

async function bump(client: Queryable): Promise<void> {
  await client.query('UPDATE policy_generation SET value = value + 1 WHERE id = 1');
}

function toPolicy(row: Row): StoredPolicy {
  return { ...(row.definition as PolicyDefinition), version: Number(row.version), revision: row.revision as string, updatedAt: row.updated_at as Date };
}

/**
 * Integrity violations (SQLSTATE class 23) clash with what is stored; any other error PostgreSQL
 * reports, and a database that cannot be reached (StorageUnavailableError from the pool), leave
 * the store unavailable. Errors of other origins (programming errors) pass through unchanged.
 */
function storeError(operation: string, error: unknown): Error {
  if (error instanceof PolicyStoreError) return error;
  if (error instanceof StorageUnavailableError) {
    return new PolicyStoreError('unavailable', `the policy store could not ${operation}: the database cannot be reached or is busy, try again`, { cause: error });
  }
  if (!(error instanceof pg.DatabaseError)) return error as Error;
  if (error.code?.startsWith('23')) return new PolicyStoreError('conflict', `the policy store could not ${operation}: it conflicts with what is stored`, { cause: error });
  return new PolicyStoreError('unavailable', `the policy store could not ${operation}: the database failed (see the server log)`, { cause: error });
}
