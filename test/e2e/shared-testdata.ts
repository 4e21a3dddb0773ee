// Paths into the shared test data for the end-to-end tests (see test/support/shared.ts).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED_TESTDATA, sharedSkip } from '../support/shared.ts';

export { SHARED_TESTDATA };

/** A `skip` value for node:test: a reason when the data is absent and not required, else false. */
export function sharedTestdataSkip(): string | false {
  return sharedSkip(SHARED_TESTDATA);
}

/** Path of a shared test-data file or folder; throws a clear error when it is missing. */
export function sharedTestdataPath(...parts: string[]): string {
  const path = join(SHARED_TESTDATA, ...parts);
  if (!existsSync(path)) throw new Error(`shared test data missing: ${path} (WHARF_REQUIRE_SHARED=1 requires it)`);
  return path;
}
