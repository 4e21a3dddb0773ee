/**
 * The compliance ratchet: every in-scope OPA compliance case must pass unless it is listed
 * in failing.txt. The list may only shrink: a listed case that now passes is reported so it
 * can be removed (`npm run compliance -- --write-failing`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sharedAvailable, SHARED_DIR } from './cases.ts';
import { FAILING_FILE, runAll } from './run.ts';

function knownFailures(): Set<string> {
  const ids = new Set<string>();
  for (const line of readFileSync(FAILING_FILE, 'utf8').split('\n')) {
    const id = line.trim().split(/\s+/)[0];
    if (id && !id.startsWith('#')) ids.add(id);
  }
  return ids;
}

const requireShared = process.env.WHARF_REQUIRE_SHARED === '1';
const skip = !sharedAvailable() && !requireShared ? `OPA compliance cases not found at ${SHARED_DIR}` : false;

test('no compliance case outside failing.txt fails', { skip }, (t) => {
  assert.ok(sharedAvailable(), `OPA compliance cases are required (WHARF_REQUIRE_SHARED=1) but missing at ${SHARED_DIR}`);
  const known = knownFailures();
  const summary = runAll();
  const failing = new Set(summary.failures.map((f) => f.id));
  const regressions = summary.failures.filter((f) => !known.has(f.id)).map((f) => `${f.id}  ${f.reason}`);
  const fixed = [...known].filter((id) => !failing.has(id));
  if (fixed.length) t.diagnostic(`${fixed.length} case(s) in failing.txt now pass; remove them: ${fixed.slice(0, 20).join(', ')}`);
  for (const [version, total] of summary.totals) t.diagnostic(`${version}: ${total.passed}/${total.total} passed`);
  assert.deepEqual(regressions, [], `compliance regressions:\n${regressions.join('\n')}`);
});
