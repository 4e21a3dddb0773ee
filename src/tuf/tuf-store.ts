/**
 * Where the TUF repositories live: `<data>/tuf.db`, behind a small interface so the service holds
 * no SQL. Every metadata version is kept (clients fetch `N.root.json` to rotate, and with
 * consistent snapshots `N.snapshot.json` and `N.ROLE.json`), except old timestamps, which nobody
 * can ask for by version.
 *
 *   metadata (namespace, role, version) ── body (the served JSON), expires
 *   online_keys (namespace, keyid) ── role, sealed private key, state (active|pending|retired)
 *   delegations (namespace, delegator, role) ── which targets role delegates to which (a `bins`
 *     row stands for a whole succinct hash-bin delegation: role = its name prefix)
 *   targets (namespace, role, path) ── sha256, length: the targets each role's latest metadata names
 */
import type { SQLInputValue } from 'node:sqlite';
import { SqliteDatabase } from '../storage/sqlite-database.ts';

export interface StoredMetadata {
  readonly role: string;
  readonly version: number;
  readonly body: Buffer;
  readonly expires: Date;
}

export interface OnlineKeyRow {
  readonly keyid: string;
  readonly role: 'snapshot' | 'timestamp';
  readonly publicHex: string;
  readonly sealed: string;
  readonly state: 'active' | 'pending' | 'retired';
}

export interface DelegationRow {
  readonly delegator: string;
  readonly role: string;
  readonly kind: 'role' | 'bins';
}

export interface TargetRow {
  readonly role: string;
  readonly path: string;
  readonly sha256: string;
  readonly length: number;
}

export interface TufStore {
  namespaces(): string[];
  latest(namespace: string, role: string): StoredMetadata | undefined;
  get(namespace: string, role: string, version: number): StoredMetadata | undefined;
  /** The latest version of every role of the namespace. */
  latestVersions(namespace: string): Map<string, number>;
  putMetadata(namespace: string, metadata: StoredMetadata): void;
  /** Drops timestamps older than `keepFrom` (nobody fetches a timestamp by version). */
  pruneTimestamps(namespace: string, keepFrom: number): void;
  onlineKeys(namespace: string): OnlineKeyRow[];
  addOnlineKey(namespace: string, key: OnlineKeyRow): void;
  setOnlineKeyState(namespace: string, keyid: string, state: OnlineKeyRow['state']): void;
  delegations(namespace: string): DelegationRow[];
  replaceDelegations(namespace: string, delegator: string, rows: readonly DelegationRow[]): void;
  replaceTargets(namespace: string, role: string, targets: readonly TargetRow[]): void;
  /** Targets of `roles` whose path starts with `prefix` and whose sha256 is `sha256`. */
  targetsWithHash(namespace: string, prefix: string, sha256: string): TargetRow[];
  targetAt(namespace: string, path: string): TargetRow[];
  transaction<T>(work: () => T): T;
  close(): void;
}

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE metadata (
    id INTEGER PRIMARY KEY,
    namespace TEXT NOT NULL,
    role TEXT NOT NULL,
    version INTEGER NOT NULL,
    body BLOB NOT NULL,
    expires INTEGER NOT NULL
  );
  -- Bodies stay out of the index, so version look-ups never read them.
  CREATE UNIQUE INDEX metadata_by_role ON metadata(namespace, role, version);
  CREATE TABLE online_keys (
    namespace TEXT NOT NULL,
    keyid TEXT NOT NULL,
    role TEXT NOT NULL,
    public_hex TEXT NOT NULL,
    sealed TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (namespace, keyid)
  ) WITHOUT ROWID;
  CREATE TABLE delegations (
    namespace TEXT NOT NULL,
    delegator TEXT NOT NULL,
    role TEXT NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (namespace, delegator, role)
  ) WITHOUT ROWID;
  CREATE TABLE targets (
    namespace TEXT NOT NULL,
    role TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    length INTEGER NOT NULL,
    PRIMARY KEY (namespace, role, path)
  ) WITHOUT ROWID;
  CREATE INDEX targets_by_hash ON targets(sha256, namespace);
  CREATE INDEX targets_by_path ON targets(namespace, path);
  `,
];

type Row = Record<string, SQLInputValue>;

function metadataOf(row: Row): StoredMetadata {
  return { role: row.role as string, version: Number(row.version), body: Buffer.from(row.body as Uint8Array), expires: new Date(Number(row.expires)) };
}

export class SqliteTufStore implements TufStore {
  readonly #db: SqliteDatabase;

  constructor(path: string) {
    this.#db = new SqliteDatabase(path);
    this.#db.migrate(MIGRATIONS);
  }

  namespaces(): string[] {
    return (this.#db.sql(`SELECT DISTINCT namespace FROM metadata WHERE role = 'root' ORDER BY namespace`).all() as Row[]).map((row) => row.namespace as string);
  }

  latest(namespace: string, role: string): StoredMetadata | undefined {
    const row = this.#db.sql('SELECT role, version, body, expires FROM metadata WHERE namespace = ? AND role = ? ORDER BY version DESC LIMIT 1').get(namespace, role) as Row | undefined;
    return row ? metadataOf(row) : undefined;
  }

  get(namespace: string, role: string, version: number): StoredMetadata | undefined {
    const row = this.#db.sql('SELECT role, version, body, expires FROM metadata WHERE namespace = ? AND role = ? AND version = ?').get(namespace, role, version) as Row | undefined;
    return row ? metadataOf(row) : undefined;
  }

  latestVersions(namespace: string): Map<string, number> {
    const rows = this.#db.sql('SELECT role, MAX(version) AS version FROM metadata WHERE namespace = ? GROUP BY role').all(namespace) as Row[];
    return new Map(rows.map((row) => [row.role as string, Number(row.version)]));
  }

  putMetadata(namespace: string, metadata: StoredMetadata): void {
    this.#db.sql('INSERT INTO metadata (namespace, role, version, body, expires) VALUES (?, ?, ?, ?, ?)')
      .run(namespace, metadata.role, metadata.version, metadata.body, metadata.expires.getTime());
  }

  pruneTimestamps(namespace: string, keepFrom: number): void {
    this.#db.sql(`DELETE FROM metadata WHERE namespace = ? AND role = 'timestamp' AND version < ?`).run(namespace, keepFrom);
  }

  onlineKeys(namespace: string): OnlineKeyRow[] {
    return (this.#db.sql('SELECT keyid, role, public_hex, sealed, state FROM online_keys WHERE namespace = ? ORDER BY keyid').all(namespace) as Row[]).map((row) => ({
      keyid: row.keyid as string, role: row.role as OnlineKeyRow['role'], publicHex: row.public_hex as string, sealed: row.sealed as string, state: row.state as OnlineKeyRow['state'],
    }));
  }

  addOnlineKey(namespace: string, key: OnlineKeyRow): void {
    this.#db.sql('INSERT INTO online_keys (namespace, keyid, role, public_hex, sealed, state) VALUES (?, ?, ?, ?, ?, ?)').run(namespace, key.keyid, key.role, key.publicHex, key.sealed, key.state);
  }

  setOnlineKeyState(namespace: string, keyid: string, state: OnlineKeyRow['state']): void {
    this.#db.sql('UPDATE online_keys SET state = ? WHERE namespace = ? AND keyid = ?').run(state, namespace, keyid);
  }

  delegations(namespace: string): DelegationRow[] {
    return (this.#db.sql('SELECT delegator, role, kind FROM delegations WHERE namespace = ?').all(namespace) as Row[]).map((row) => ({
      delegator: row.delegator as string, role: row.role as string, kind: row.kind as DelegationRow['kind'],
    }));
  }

  replaceDelegations(namespace: string, delegator: string, rows: readonly DelegationRow[]): void {
    this.#db.sql('DELETE FROM delegations WHERE namespace = ? AND delegator = ?').run(namespace, delegator);
    const insert = this.#db.sql('INSERT INTO delegations (namespace, delegator, role, kind) VALUES (?, ?, ?, ?)');
    for (const row of rows) insert.run(namespace, delegator, row.role, row.kind);
  }

  replaceTargets(namespace: string, role: string, targets: readonly TargetRow[]): void {
    this.#db.sql('DELETE FROM targets WHERE namespace = ? AND role = ?').run(namespace, role);
    const insert = this.#db.sql('INSERT INTO targets (namespace, role, path, sha256, length) VALUES (?, ?, ?, ?, ?)');
    for (const target of targets) insert.run(namespace, role, target.path, target.sha256, target.length);
  }

  targetsWithHash(namespace: string, prefix: string, sha256: string): TargetRow[] {
    return (this.#db.sql('SELECT role, path, sha256, length FROM targets INDEXED BY targets_by_hash WHERE sha256 = ? AND namespace = ? AND substr(path, 1, ?) = ?').all(sha256, namespace, prefix.length, prefix) as Row[])
      .map((row) => ({ role: row.role as string, path: row.path as string, sha256: row.sha256 as string, length: Number(row.length) }));
  }

  targetAt(namespace: string, path: string): TargetRow[] {
    return (this.#db.sql('SELECT role, path, sha256, length FROM targets WHERE namespace = ? AND path = ?').all(namespace, path) as Row[])
      .map((row) => ({ role: row.role as string, path: row.path as string, sha256: row.sha256 as string, length: Number(row.length) }));
  }

  transaction<T>(work: () => T): T {
    return this.#db.transaction(work);
  }

  close(): void {
    this.#db.close();
  }
}
