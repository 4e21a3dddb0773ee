import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCephS3 } from './ceph-s3.ts';

/** Runs `work` with CI and WHARF_REQUIRE_SHARED set as given, restoring them after. */
async function withEnv<T>(env: { CI?: string; WHARF_REQUIRE_SHARED?: string }, work: () => Promise<T>): Promise<T> {
  const saved = { CI: process.env.CI, WHARF_REQUIRE_SHARED: process.env.WHARF_REQUIRE_SHARED };
  for (const name of ['CI', 'WHARF_REQUIRE_SHARED'] as const) {
    if (env[name] === undefined) delete process.env[name];
    else process.env[name] = env[name];
  }
  try {
    return await work();
  } finally {
    for (const name of ['CI', 'WHARF_REQUIRE_SHARED'] as const) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
}

describe('the Ceph S3 test harness', () => {
  it('skips with the reason when the gateway cannot start, and fails instead under CI=true or WHARF_REQUIRE_SHARED=1', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'wharf-ceph-harness-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const failing = join(dir, 'ceph-rgw.sh');
    await writeFile(failing, '#!/bin/sh\n[ "$1" = stop ] && exit 0\necho "ceph-rgw.sh: missing packages; as root run: apt-get install ceph-mon" >&2\nexit 1\n');
    await chmod(failing, 0o755);
    for (const script of [failing, join(dir, 'absent.sh')]) {
      const skipped = await withEnv({}, () => startCephS3(script));
      assert.ok('unavailable' in skipped);
      assert.match(skipped.unavailable, /missing packages|is absent/);
      assert.match(skipped.unavailable, /WHARF_REQUIRE_SHARED=1/);
      await assert.rejects(withEnv({ CI: 'true' }, () => startCephS3(script)), /required \(CI=true or WHARF_REQUIRE_SHARED=1\) but unavailable/);
      await assert.rejects(withEnv({ WHARF_REQUIRE_SHARED: '1' }, () => startCephS3(script)), /required/);
    }
  });
});
