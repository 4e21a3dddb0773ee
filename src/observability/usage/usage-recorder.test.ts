// Pull and push records are written in batches without anyone asking: at the latest one flush
// interval after they were made, sooner when enough have gathered.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteUsageStore, telemetryDatabasePath } from './sqlite-usage-store.ts';
import { UsageRecorder } from './usage-recorder.ts';

const pull = (index: number) => ({ time: Date.now(), repository: 'team-a/app', digest: `sha256:${index}`, kind: 'blob' as const, bytes: 1, identity: 'anonymous' });

async function withStore(work: (store: SqliteUsageStore, count: () => number) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-recorder-'));
  const store = new SqliteUsageStore(telemetryDatabasePath(dir));
  await store.migrate();
  const reader = new DatabaseSync(telemetryDatabasePath(dir), { readOnly: true });
  try {
    await work(store, () => Number((reader.prepare('SELECT count(*) AS n FROM pulls').get() as { n: number }).n));
  } finally {
    reader.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function eventually(check: () => boolean, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

it('writes records within one flush interval, without being asked', async () => {
  await withStore(async (store, count) => {
    const recorder = new UsageRecorder(store, { flushIntervalMs: 100, flushRecords: 1000 }, (error) => assert.fail(String(error)));
    recorder.start();
    for (let index = 0; index < 5; index++) recorder.recordPull(pull(index));
    assert.equal(count(), 0, 'recording a pull writes nothing on the request path');
    await eventually(() => count() === 5, 2000);
    await recorder.close();
  });
});

it('writes at once when enough records have gathered', async () => {
  await withStore(async (store, count) => {
    const recorder = new UsageRecorder(store, { flushIntervalMs: 3_600_000, flushRecords: 10 }, (error) => assert.fail(String(error)));
    recorder.start();
    for (let index = 0; index < 10; index++) recorder.recordPull(pull(index));
    await eventually(() => count() === 10, 2000);
    recorder.recordPull(pull(11));
    await recorder.close();
    assert.equal(count(), 11, 'closing writes what is left');
  });
});
