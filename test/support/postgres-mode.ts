/**
 * `npm run test:scale`: WHARF_TEST_METADATA=postgres runs every Wharf the tests start (the e2e
 * harness's processes and the in-process fixture) on PostgreSQL instead of SQLite, each on a
 * fresh database of one throwaway cluster per test process, so the same real-client tests prove
 * the PostgreSQL stores. Unset, nothing changes.
 */
import { startPostgres, type RunningPostgres } from './postgres.ts';

let cluster: Promise<RunningPostgres> | undefined;

export function postgresModeRequested(): boolean {
  return process.env.WHARF_TEST_METADATA === 'postgres';
}

/**
 * Environment for one more Wharf: WHARF_METADATA_POSTGRES_URL of a fresh database under
 * WHARF_TEST_METADATA=postgres, else nothing. An explicitly given URL is kept.
 */
export async function metadataEnvForTest(given: Record<string, string | undefined> = {}): Promise<Record<string, string>> {
  if (!postgresModeRequested() || given.WHARF_METADATA_POSTGRES_URL !== undefined) return {};
  cluster ??= startPostgres().then((running) => {
    // The cluster lives as long as the test process: after() hooks of one file may still start
    // servers, so it is stopped at exit rather than by any one test.
    process.once('beforeExit', () => void running.stop());
    return running;
  });
  return { WHARF_METADATA_POSTGRES_URL: await (await cluster).createDatabase() };
}
