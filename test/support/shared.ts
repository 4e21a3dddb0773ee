/**
 * The read-only data beside the repository (`../shared/`): OPA's compliance cases and real
 * supply-chain artifacts. Tests read it in place; when it is absent they skip with the reason,
 * except under WHARF_REQUIRE_SHARED=1 (CI), where its absence is a failure.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHARED_DIR = resolve(fileURLToPath(new URL('../../..', import.meta.url)), 'shared');

/** The path of `../shared/testdata/<parts>`, or undefined after skipping the test when the data is absent. */
export function sharedTestdata(t: { skip(message?: string): void }, ...parts: string[]): string | undefined {
  const path = join(SHARED_DIR, 'testdata', ...parts);
  if (existsSync(path)) return path;
  if (process.env.WHARF_REQUIRE_SHARED === '1') throw new Error(`${path} is missing, and WHARF_REQUIRE_SHARED=1 requires it`);
  t.skip(`${path} is absent (set WHARF_REQUIRE_SHARED=1 to make this a failure)`);
  return undefined;
}
