/**
 * Locating /work/shared/testdata (the repository's sibling `../shared`) for interop tests. When it
 * is absent the tests skip with a clear message, unless WHARF_REQUIRE_SHARED=1 makes that a failure.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED_TESTDATA, sharedSkip } from '../../../test/support/shared.ts';

export const TESTDATA = SHARED_TESTDATA;

/** `{ skip: message }` for node:test when the data is missing; throws when it is required. */
export function sharedDataOptions(): { skip?: string } {
  const skip = sharedSkip(TESTDATA);
  return skip === false ? {} : { skip };
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
