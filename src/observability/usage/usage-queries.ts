/**
 * A usage query from text to rows: compiled for the caller's read scope, run with the deadline
 * and row limit. Used by POST /api/v1/query and by `wharf query --data-dir`.
 */
import { namespaceOf } from '../../auth/access.ts';
import type { AccessChecker } from '../../distribution/http.ts';
import { compileQuery } from '../query/compiler.ts';
import type { ReadScope } from '../query/schema.ts';
import { QueryRunner, type QueryResult } from './query-runner.ts';
import { telemetryDatabasePath } from './sqlite-usage-store.ts';
import { TELEMETRY_TABLES } from './telemetry-schema.ts';
import type { UsageStore } from './usage-store.ts';

export const EVERYTHING: ReadScope = { all: true };

export class UsageQueries {
  readonly #runner: QueryRunner;
  readonly #maxRows: number;
  readonly #now: () => number;

  constructor(dataDir: string, settings: { timeoutMs: number; maxRows: number }, now: () => number = Date.now) {
    this.#maxRows = settings.maxRows;
    this.#now = now;
    this.#runner = new QueryRunner({
      database: telemetryDatabasePath(dataDir), tables: TELEMETRY_TABLES.map((table) => table.name), timeoutMs: settings.timeoutMs, maxRows: settings.maxRows,
    });
  }

  /** Compiles (throwing QueryError with line and column) and runs (throwing QueryFailure). */
  async run(text: string, scope: ReadScope): Promise<QueryResult> {
    const compiled = compileQuery(text, { tables: TELEMETRY_TABLES, scope, now: this.#now(), maxRows: this.#maxRows });
    return this.#runner.run(compiled);
  }

  close(): Promise<void> {
    return this.#runner.close();
  }
}

/**
 * What a caller may read: rows of the repositories it may pull, and storage of the namespaces
 * whose every repository it may pull (asked as `namespace/*`: a namespace role or a `team-a/*`
 * grant covers it; a grant on one repository does not).
 */
export async function readScopeOf(access: AccessChecker, store: UsageStore): Promise<ReadScope> {
  const [repositories, measured] = await Promise.all([store.knownRepositories(), store.knownNamespaces()]);
  const readable = await filterAsync(repositories, (repository) => access.can(repository, 'pull'));
  const namespaces = [...new Set([...measured, ...repositories.map(namespaceOf)])];
  const readableNamespaces = await filterAsync(namespaces, (namespace) => access.can(`${namespace}/*`, 'pull'));
  return { all: false, repositories: readable, namespaces: readableNamespaces };
}

async function filterAsync<T>(items: readonly T[], keep: (item: T) => Promise<boolean>): Promise<T[]> {
  const answers = await Promise.all(items.map(keep));
  return items.filter((_, index) => answers[index]);
}
