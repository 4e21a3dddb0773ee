/**
 * What every SQLite-backed store of Wharf shares: one connection in WAL mode with full fsync and
 * foreign keys, migrations applied in order (recorded in `user_version`), cached prepared
 * statements, and transactions that never span an await (node:sqlite is synchronous).
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { asStorageError } from './storage-errors.ts';

export class SqliteDatabase {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  /**
   * `synchronous: 'NORMAL'` is for data a crash may lose the last moments of (telemetry): commits
   * then skip an fsync each. Everything the registry acknowledges keeps FULL.
   */
  constructor(path: string, options: { synchronous?: 'FULL' | 'NORMAL' } = {}) {
    this.path = path;
    try {
      this.#db = new DatabaseSync(path, { timeout: 5000 });
      this.#db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${options.synchronous ?? 'FULL'}; PRAGMA foreign_keys = ON;`);
    } catch (error) {
      // SQLite's own words ("unable to open database file") name no file: say which one.
      const named = asStorageError(error, path);
      throw named === error ? new Error(`cannot open database ${path}: ${(error as Error).message}`, { cause: error }) : named;
    }
  }

  /** Applies the migrations not applied yet, each in its own transaction. A released migration is never edited. */
  migrate(migrations: readonly string[]): void {
    const applied = Number((this.#db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
    for (let version = applied; version < migrations.length; version++) {
      this.transaction(() => {
        this.#db.exec(migrations[version]!);
        this.#db.exec(`PRAGMA user_version = ${version + 1}`);
      });
    }
  }

  /** A prepared statement, prepared once per text. */
  sql(text: string): StatementSync {
    let statement = this.#statements.get(text);
    if (!statement) {
      statement = this.#db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  /**
   * Runs `work` in one transaction. A failure is thrown as it is, never masked by the rollback:
   * SQLite rolls back by itself on some errors (SQLITE_FULL at COMMIT), and a ROLLBACK then
   * fails with "no transaction is active". A lack of space becomes a StorageFullError.
   */
  transaction<T>(work: () => T): T {
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        const result = work();
        this.#db.exec('COMMIT');
        return result;
      } catch (error) {
        try {
          if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
        } catch {
          // The first failure is the one worth reporting.
        }
        throw error;
      }
    } catch (error) {
      throw asStorageError(error, this.path);
    }
  }

  /** Runs statements that return nothing (DDL, PRAGMA, a bulk DELETE). */
  exec(text: string): void {
    this.#db.exec(text);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
