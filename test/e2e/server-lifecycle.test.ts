// The process contract every other end-to-end test relies on: Wharf announces its real port,
// answers its health endpoints, exits 0 on SIGTERM, and a failed start surfaces its stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWharf } from './harness.ts';
import { targetRegistryKind } from './target-registry.ts';

const wharfOnly = targetRegistryKind() === 'wharf' ? false : 'these tests are about the Wharf process itself';

test('wharf starts on a free port, serves health and /v2/, and exits 0 on SIGTERM', { skip: wharfOnly }, async () => {
  const wharf = await startWharf();
  try {
    assert.match(wharf.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(wharf.host, '127.0.0.1:0', 'the ready line must carry the real port, not 0');
    for (const path of ['/healthz', '/readyz', '/v2/']) {
      const response = await fetch(`${wharf.url}${path}`);
      await response.arrayBuffer();
      assert.equal(response.status, 200, path);
    }
  } finally {
    const status = await wharf.stop();
    assert.deepEqual(status, { code: 0, signal: null }, 'SIGTERM must lead to a graceful exit 0');
  }
  assert.equal(existsSync(wharf.dataDir), false, 'stop() removes the temp data dir it created');
});

test('two instances run side by side on different ports and data dirs', { skip: wharfOnly }, async () => {
  const [first, second] = await Promise.all([startWharf(), startWharf()]);
  try {
    assert.notEqual(first.url, second.url);
    assert.notEqual(first.dataDir, second.dataDir);
  } finally {
    await Promise.all([first.stop(), second.stop()]);
  }
});

test('a start that fails is reported with the server stderr, not a hang', { skip: wharfOnly }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-bad-config-'));
  const configPath = join(dir, 'wharf.yaml');
  // An invalid value must be refused at startup (issue 2: invalid config exits non-zero naming
  // the key); the harness must turn that into an error that carries the server's stderr.
  // (Not `listen`: the harness's own --listen flag would override it.)
  await writeFile(configPath, 'log:\n  level: deafening\n');
  try {
    await assert.rejects(
      startWharf({ extraArgs: ['--config', configPath], startupTimeoutMs: 15_000 }),
      (error: Error) => /wharf did not start/.test(error.message) && /log\.level/.test(error.message),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
