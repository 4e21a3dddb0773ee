/**
 * Locating /work/shared/testdata (the repository's sibling `../shared`) for interop tests. When it
 * is absent the tests skip with a clear message, unless WHARF_REQUIRE_SHARED=1 makes that a failure.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** WHARF_TESTDATA_DIR points elsewhere (e.g. the held-back acceptance set of the same layout). */
export const TESTDATA = process.env['WHARF_TESTDATA_DIR'] ?? join(repositoryRoot, '..', 'shared', 'testdata');

/** `{ skip: message }` for node:test when the data is missing; throws when it is required. */
export function sharedDataOptions(): { skip?: string } {
  if (existsSync(TESTDATA)) return {};
  if (process.env['WHARF_REQUIRE_SHARED'] === '1') throw new Error(`WHARF_REQUIRE_SHARED=1 but the shared test data is missing at ${TESTDATA}`);
  return { skip: `shared test data not found at ${TESTDATA} (set WHARF_REQUIRE_SHARED=1 to make this a failure)` };
}

export function dataPath(...parts: string[]): string {
  return join(TESTDATA, ...parts);
}

export function readData(...parts: string[]): Buffer {
  return readFileSync(dataPath(...parts));
}

export function readDataText(...parts: string[]): string {
  return readFileSync(dataPath(...parts), 'utf8');
}

export function readDataJson(...parts: string[]): any {
  return JSON.parse(readDataText(...parts));
}
