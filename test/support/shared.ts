/**
 * The read-only data beside the repository (`../shared/`): OPA's compliance cases and real
 * supply-chain artifacts. Tests read it in place; when it is absent they skip with the reason,
 * except under WHARF_REQUIRE_SHARED=1 (CI), where its absence is a failure.
 * WHARF_TESTDATA_DIR points the supply-chain tests at another set of the same layout.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHARED_DIR = resolve(fileURLToPath(new URL('../../..', import.meta.url)), 'shared');
export const SHARED_TESTDATA = process.env.WHARF_TESTDATA_DIR ?? join(SHARED_DIR, 'testdata');

/**
 * A `skip` value for node:test: the reason when `path` is absent and not required, else false.
 * Throws when it is absent and WHARF_REQUIRE_SHARED=1 demands it.
 */
export function sharedSkip(path: string): string | false {
  if (existsSync(path)) return false;
  if (process.env.WHARF_REQUIRE_SHARED === '1') throw new Error(`${path} is missing, and WHARF_REQUIRE_SHARED=1 requires it`);
  return `${path} is absent (set WHARF_REQUIRE_SHARED=1 to make this a failure)`;
}

/** The path of `testdata/<parts>`, or undefined after skipping the test when the data is absent. */
export function sharedTestdata(t: { skip(message?: string): void }, ...parts: string[]): string | undefined {
  const path = join(SHARED_TESTDATA, ...parts);
  const skip = sharedSkip(path);
  if (skip === false) return path;
  t.skip(skip);
  return undefined;
}
