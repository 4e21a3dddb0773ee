/**
 * `npm run test:scale`: WHARF_TEST_METADATA=postgres runs every Wharf the tests start (the e2e
 * harness's processes and the in-process fixture) on PostgreSQL instead of SQLite, each on a
 * fresh database of one throwaway cluster per test process, so the same real-client tests prove
 * the PostgreSQL stores. Unset, nothing changes.
 */
import { startPostgres, type RunningPostgres } from './postgres.ts';

let cluster: Promise<RunningPostgres> | undefined;
/** A data folder reused by a restarted server keeps its database, as a real deployment would. */
const databaseOf = new Map<string, string>();

export function postgresModeRequested(): boolean {
  return process.env.WHARF_TEST_METADATA === 'postgres';
}

/**
 * Environment for one more Wharf on `dataDir`: under WHARF_TEST_METADATA=postgres,
 * WHARF_METADATA_POSTGRES_URL of the data folder's database (a fresh one for a new folder), else
 * nothing. An explicitly given URL (empty: SQLite) is kept.
 *
 * The URL is also put in this process's environment, so that `wharf` commands a test runs against
 * the data folder (they inherit it) read the same stores as the server.
 */
export async function metadataEnvForTest(dataDir: string, given: Record<string, string | undefined> = {}): Promise<Record<string, string>> {
  if (!postgresModeRequested() || given.WHARF_METADATA_POSTGRES_URL !== undefined) return {};
  const known = databaseOf.get(dataDir);
  if (known !== undefined) return { WHARF_METADATA_POSTGRES_URL: known };
  cluster ??= startPostgres().then((running) => {
    // The cluster lives as long as the test process: after() hooks of one file may still start
    // servers, so it is stopped at exit rather than by any one test.
    process.once('beforeExit', () => void running.stop());
    return running;
  });
  const url = await (await cluster).createDatabase();
  databaseOf.set(dataDir, url);
  process.env.WHARF_METADATA_POSTGRES_URL = url;
  return { WHARF_METADATA_POSTGRES_URL: url };
}
