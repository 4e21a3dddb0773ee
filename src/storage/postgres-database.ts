/**
 * What every PostgreSQL-backed store of Wharf shares: a connection pool (pg.Pool), migrations
 * applied once however many replicas start at the same moment, transactions on one pooled
 * connection, and LISTEN on a connection of its own.
 *
 * Migrations are recorded per store in `schema_migrations (store, version)`, so several stores
 * can share one database. Replicas that start together serialise on an advisory lock held for
 * the migration's transaction: the second finds the versions applied and does nothing.
 */
import pg from 'pg';
import { StorageUnavailableError } from './storage-errors.ts';

export interface PostgresOptions {
  readonly url: string;
  /** Most connections this pool opens. */
  readonly maxConnections?: number;
}

export type Queryable = Pick<pg.PoolClient, 'query'>;

export class PostgresDatabase {
  readonly pool: pg.Pool;
  readonly #url: string;
  /** host:port/database, for messages: the URL without its credentials. */
  readonly #where: string;

  constructor(options: PostgresOptions) {
    this.#url = options.url;
    const parsed = new URL(options.url);
    this.#where = `${parsed.host}${parsed.pathname}`;
    this.pool = new pg.Pool({ connectionString: options.url, max: options.maxConnections ?? 10, connectionTimeoutMillis: 10_000 });
    // An idle pooled connection that the server closes emits here; without a listener Node would
    // treat it as an uncaught error. The pool drops the connection and opens another when needed.
    this.pool.on('error', () => undefined);
  }

  query<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(text, values).catch((error: unknown) => {
      throw unavailableOr(error);
    });
  }

  /** Runs `work` in one transaction on one connection; rolls back when it throws. */
  async transaction<T>(work: (client: Queryable) => Promise<T>): Promise<T> {
    return this.#transaction(work).catch((error: unknown) => {
      throw unavailableOr(error);
    });
  }

  async #transaction<T>(work: (client: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Applies the migrations of `store` not applied yet, all in one transaction. */
  async migrate(store: string, migrations: readonly string[]): Promise<void> {
    // The first thing a server does with the database: say which one failed, and why.
    await this.#migrate(store, migrations).catch((error: unknown) => {
      throw new Error(`PostgreSQL at ${this.#where} (metadata.postgres.url): ${(error as Error).message}`, { cause: error });
    });
  }

  async #migrate(store: string, migrations: readonly string[]): Promise<void> {
    await this.#transaction(async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext('wharf schema migrations'))");
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        store text NOT NULL, version integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (store, version))`);
      const { rows } = await client.query<{ version: number }>('SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations WHERE store = $1', [store]);
      const applied = Number(rows[0]!.version);
      if (applied > migrations.length) {
        throw new Error(`the ${store} schema in PostgreSQL is at version ${applied}, newer than this Wharf knows (${migrations.length}); upgrade Wharf`);
      }
      for (let version = applied; version < migrations.length; version++) {
        await client.query(migrations[version]!);
        await client.query('INSERT INTO schema_migrations (store, version) VALUES ($1, $2)', [store, version + 1]);
      }
    });
  }

  /**
   * A connection of its own that LISTENs on `channel`. `onNotify` gets each payload;
   * `onLost` is told once when the connection breaks (notifications may have been missed).
   */
  async listen(channel: string, onNotify: (payload: string) => void, onLost: (error: Error) => void): Promise<{ close(): Promise<void> }> {
    const client = new pg.Client({ connectionString: this.#url });
    let closing = false;
    let lost = false;
    const lose = (error: Error) => {
      if (closing || lost) return;
      lost = true;
      onLost(error);
    };
    client.on('error', lose);
    client.on('end', () => lose(new Error('the LISTEN connection ended')));
    client.on('notification', (message) => {
      if (message.channel === channel) onNotify(message.payload ?? '');
    });
    await client.connect();
    await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    return {
      async close() {
        closing = true;
        await client.end().catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** SQLSTATE classes and codes that mean "not now" rather than "wrong": connection failures,
 * shutdowns, exhausted resources, and conflicts PostgreSQL asks to retry. */
const RETRYABLE_SQLSTATE = /^(08|53|57P0[1-4]|40001|40P01)/;
const UNREACHABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** The error as thrown, or a StorageUnavailableError when PostgreSQL could not serve the request. */
function unavailableOr(error: unknown): unknown {
  if (error instanceof StorageUnavailableError) return error;
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : '';
  const retryable = (typeof code === 'string' && (RETRYABLE_SQLSTATE.test(code) || UNREACHABLE_ERRNO.has(code)))
    || /^Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(text);
  return retryable ? new StorageUnavailableError(`PostgreSQL unavailable: ${text || String(code)}`, { cause: error }) : error;
}
