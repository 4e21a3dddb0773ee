// One data folder, one server: a second `wharf serve` on a folder in use refuses to start, naming
// the holder's PID and the lock file, while a lock left by a server killed with -9 does not block
// the next start. A data folder that cannot be written is refused with its path and the reason.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWharf } from './harness.ts';
import { targetRegistryKind } from './target-registry.ts';
import { mountSmallFilesystem, mountUnavailable } from '../support/small-filesystem.ts';

const wharfOnly = targetRegistryKind() === 'wharf' ? false : 'the data folder is Wharf\'s own';
const cannotMount = await mountUnavailable();

describe('the data folder of a running server', { skip: wharfOnly }, () => {
  it('refuses a second server on the same folder, and lets a new one start after the first was killed with -9', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'wharf-lock-'));
    try {
      const first = await startWharf({ dataDir });
      try {
        await assert.rejects(startWharf({ dataDir, startupTimeoutMs: 15_000 }), (error: Error) =>
          error.message.includes(`PID ${first.pid}`) && error.message.includes(join(dataDir, 'wharf.lock')));
        assert.equal((await fetch(`${first.url}/readyz`)).status, 200, 'the first server keeps serving');
        process.kill(first.pid, 'SIGKILL');
      } finally {
        await first.stop();
      }
      const next = await startWharf({ dataDir });
      await next.stop();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('names the folder and the reason when it is read-only', { skip: wharfOnly || cannotMount }, async () => {
    // root ignores permission bits, so the read-only-ness comes from the mount.
    const fs = await mountSmallFilesystem('tmpfs-readonly', 1);
    try {
      for (const dataDir of [fs.dir, join(fs.dir, 'data')]) {
        await assert.rejects(startWharf({ dataDir, startupTimeoutMs: 15_000 }), (error: Error) =>
          error.message.includes(`data folder ${dataDir} is not writable (EROFS`), dataDir);
      }
    } finally {
      await fs.unmount();
    }
  });
});
