/**
 * The process that runs usage queries (forked by query-runner.ts). A query runs here, not in the
 * registry's process, because SQLite cannot be interrupted from node:sqlite: a query past its
 * deadline is ended by killing this process, which takes its CPU and memory with it.
 *
 * Each database is opened read-only, in defensive mode, with an authorizer that allows reading
 * the telemetry tables and calling the compiler's functions, and denies everything else (writes,
 * ATTACH, PRAGMA, other tables, recursive CTEs, any other function), a second wall behind the
 * compiler.
 */
import { constants, DatabaseSync } from 'node:sqlite';

export interface QueryRequest {
  readonly id: number;
  readonly database: string;
  readonly tables: readonly string[];
  readonly sql: string;
  readonly params: readonly (string | number | null)[];
  readonly maxRows: number;
}

export type QueryResponse =
  | { readonly id: number; readonly rows: unknown[][]; readonly truncated: boolean }
  | { readonly id: number; readonly error: string };

/** The SQL functions the compiler writes (compiler.ts); json_each carries the read scope. */
const FUNCTIONS = new Set(['count', 'sum', 'avg', 'min', 'max', 'lower', 'upper', 'length', 'coalesce', 'abs', 'round', 'date', 'json_each']);

const connections = new Map<string, DatabaseSync>();

function connection(path: string, tables: readonly string[]): DatabaseSync {
  let db = connections.get(path);
  if (!db) {
    db = new DatabaseSync(path, { readOnly: true, timeout: 1000 });
    db.enableDefensive(true);
    const readable = new Set([...tables, 'json_each']);
    db.setAuthorizer((action, first, second) => {
      if (action === constants.SQLITE_SELECT) return constants.SQLITE_OK;
      if (action === constants.SQLITE_READ && first !== null && readable.has(first)) return constants.SQLITE_OK;
      if (action === constants.SQLITE_FUNCTION && second !== null && FUNCTIONS.has(second.toLowerCase())) return constants.SQLITE_OK;
      return constants.SQLITE_DENY;
    });
    connections.set(path, db);
  }
  return db;
}

export function runQuery(request: QueryRequest): QueryResponse {
  try {
    const statement = connection(request.database, request.tables).prepare(request.sql);
    statement.setReturnArrays(true);
    const rows: unknown[][] = [];
    for (const row of statement.iterate(...request.params)) {
      if (rows.length === request.maxRows) return { id: request.id, rows, truncated: true };
      rows.push(row as unknown as unknown[]);
    }
    return { id: request.id, rows, truncated: false };
  } catch (error) {
    return { id: request.id, error: (error as Error).message };
  }
}

if (process.send) {
  process.on('message', (request: QueryRequest) => process.send!(runQuery(request)));
  // The registry went away: nothing is left to answer.
  process.on('disconnect', () => process.exit(0));
  // Starting takes a while; the runner starts a query's deadline once this arrives.
  process.send({ ready: true });
}
