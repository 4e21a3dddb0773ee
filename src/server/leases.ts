/**
 * Leases for background work that one process of a cluster should do, not every replica: the
 * hourly purge of abandoned uploads on a shared store, for one.
 *
 * On PostgreSQL a lease is a session-level advisory lock (pg_try_advisory_lock) taken on a
 * connection of its own. It is held until released or until that session ends, so a holder that
 * dies (killed, its host gone, its connection cut) frees the lease without any expiry to tune, and
 * the next replica that asks takes it over. With SQLite (one process per data folder) the leases
 * are kept in memory, with the same contract.
 */
import pg from 'pg';

export interface Leases {
  /**
   * True when this holder has the named lease: it already held it, or took it now. False while
   * another holder has it. Never waits. Throws when the lease service cannot be reached.
   */
  tryHold(name: string): Promise<boolean>;
  /** Gives every lease of this holder back. */
  close(): Promise<void>;
}

/** Runs `work` only while this holder has the lease `name`; true when it ran. */
export async function runWhileHolding(leases: Leases, name: string, work: () => Promise<void>): Promise<boolean> {
  if (!(await leases.tryHold(name))) return false;
  await work();
  return true;
}

export interface ClusterTaskOptions {
  readonly leases: Leases;
  /** The lease's name: one holder runs this task at a time. */
  readonly name: string;
  readonly intervalMs: number;
  readonly work: () => Promise<void>;
  /** A failed try or a failed run; the next interval tries again. */
  readonly onError: (error: unknown) => void;
}

/**
 * Every `intervalMs`, runs `work` if this holder has (or can take) the lease: so among replicas
 * sharing the lease service one runs it, and when that one dies the next interval of another
 * takes over. A run still going when the next interval comes is not started twice. Returns stop().
 */
export function everyIntervalWhileHolding(options: ClusterTaskOptions): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    runWhileHolding(options.leases, options.name, options.work)
      .catch(options.onError)
      .finally(() => { running = false; });
  }, options.intervalMs).unref();
  return () => clearInterval(timer);
}

/** Advisory locks of one PostgreSQL database, on a dedicated connection opened when first needed. */
export class PostgresLeases implements Leases {
  readonly #url: string;
  #client: pg.Client | undefined;
  /** Leases held on the current connection; forgotten with it. */
  readonly #held = new Set<string>();
  #closed = false;

  constructor(url: string) {
    this.#url = url;
  }

  async tryHold(name: string): Promise<boolean> {
    if (this.#closed) throw new Error('leases closed');
    const client = await this.#connection();
    if (this.#held.has(name)) return true;
    // hashtextextended: a 64-bit key from the name, computed by the server; the prefix keeps
    // Wharf's keys apart from other users of advisory locks in the same database.
    const { rows } = await client.query<{ taken: boolean }>(
      'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS taken', [`wharf-lease:${name}`]);
    if (client !== this.#client) return false; // the connection died during the query
    if (rows[0]?.taken === true) this.#held.add(name);
    return rows[0]?.taken === true;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    this.#forget();
    // Ending the session releases its advisory locks.
    await client?.end().catch(() => undefined);
  }

  async #connection(): Promise<pg.Client> {
    if (this.#client !== undefined) return this.#client;
    const client = new pg.Client({ connectionString: this.#url, connectionTimeoutMillis: 10_000 });
    // A connection that dies took its locks with it: forget them, and connect anew next time.
    const lost = (): void => {
      if (this.#client === client) this.#forget();
    };
    client.on('error', lost);
    client.on('end', lost);
    this.#client = client;
    try {
      await client.connect();
    } catch (error) {
      lost();
      throw error;
    }
    return client;
  }

  #forget(): void {
    this.#client = undefined;
    this.#held.clear();
  }
}

/** Holders of every InProcessLeases in this process, by lease name. */
const inProcessHolders = new Map<string, InProcessLeases>();

/** Leases among the holders of one process (SQLite: a data folder has one server process). */
export class InProcessLeases implements Leases {
  async tryHold(name: string): Promise<boolean> {
    const holder = inProcessHolders.get(name);
    if (holder === undefined) inProcessHolders.set(name, this);
    return holder === undefined || holder === this;
  }

  async close(): Promise<void> {
    for (const [name, holder] of inProcessHolders) {
      if (holder === this) inProcessHolders.delete(name);
    }
  }
}

/** PostgreSQL advisory locks when the metadata lives there (replicas share it), else in-process. */
export function openLeases(postgresUrl: string): Leases {
  return postgresUrl === '' ? new InProcessLeases() : new PostgresLeases(postgresUrl);
}
