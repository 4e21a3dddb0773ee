// Locates the read-only test data shared beside the repository (../shared/testdata). Tests that
// need it skip when it is absent, except under WHARF_REQUIRE_SHARED=1 (CI), where they must fail.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from './harness.ts';

export const SHARED_TESTDATA = resolve(REPO_ROOT, '..', 'shared', 'testdata');

/** A `skip` value for node:test: a reason when the data is absent and not required, else false. */
export function sharedTestdataSkip(): string | false {
  if (existsSync(SHARED_TESTDATA)) return false;
  if (process.env.WHARF_REQUIRE_SHARED === '1') return false;
  return `${SHARED_TESTDATA} is absent (set WHARF_REQUIRE_SHARED=1 to make this a failure)`;
}

/** Path of a shared test-data file or folder; throws a clear error when it is missing. */
export function sharedTestdataPath(...parts: string[]): string {
  const path = join(SHARED_TESTDATA, ...parts);
  if (!existsSync(path)) throw new Error(`shared test data missing: ${path} (WHARF_REQUIRE_SHARED=1 requires it)`);
  return path;
}
