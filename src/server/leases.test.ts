import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { postgresSkip, startPostgres, type RunningPostgres } from '../../test/support/postgres.ts';
import { InProcessLeases, PostgresLeases, everyIntervalWhileHolding, openLeases, runWhileHolding, type Leases } from './leases.ts';

/** Ends every other session that holds a Wharf advisory lock, as a crashed holder's would end. */
async function terminateLockHolders(url: string): Promise<number> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ ended: boolean }>(`SELECT pg_terminate_backend(pid) AS ended FROM pg_locks
      WHERE locktype = 'advisory' AND pid <> pg_backend_pid() AND granted`);
    return rows.filter((row) => row.ended).length;
  } finally {
    await admin.end();
  }
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what} within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('in-process leases', () => {
  test('a second holder is refused until the first closes, then takes over', async () => {
    const first = new InProcessLeases();
    const second = new InProcessLeases();
    try {
      assert.equal(await first.tryHold('purge'), true);
      assert.equal(await first.tryHold('purge'), true, 'holding it again is still holding it');
      assert.equal(await second.tryHold('purge'), false);
      assert.equal(await second.tryHold('other'), true, 'leases of other names are apart');
      await first.close();
      assert.equal(await second.tryHold('purge'), true);
      assert.equal(await first.tryHold('purge'), false);
    } finally {
      await first.close();
      await second.close();
    }
  });

  test('without a PostgreSQL URL the leases are in-process', () => {
    assert.ok(openLeases('') instanceof InProcessLeases);
  });
});

describe('PostgreSQL leases (advisory locks)', { skip: postgresSkip() }, () => {
  let postgres: RunningPostgres;
  let url: string;
  const opened: Leases[] = [];
  const holder = (): PostgresLeases => {
    const leases = new PostgresLeases(url);
    opened.push(leases);
    return leases;
  };
  before(async () => {
    postgres = await startPostgres();
    url = await postgres.createDatabase();
  });
  after(async () => {
    await Promise.all(opened.map((leases) => leases.close()));
    await postgres?.stop();
  });

  test('one holder at a time; a second takes over when the first closes', async () => {
    const first = holder();
    const second = holder();
    assert.equal(await first.tryHold('upload-purge'), true);
    assert.equal(await first.tryHold('upload-purge'), true);
    assert.equal(await second.tryHold('upload-purge'), false);
    assert.equal(await second.tryHold('something-else'), true);
    await first.close();
    assert.equal(await second.tryHold('upload-purge'), true);
  });

  test('when the holder\'s connection dies (its session ends) another takes over, and the old holder is refused', async () => {
    const first = holder();
    const second = holder();
    let firstRuns = 0;
    let secondRuns = 0;
    const tick = async (): Promise<void> => {
      await runWhileHolding(first, 'hourly', async () => { firstRuns++; }).catch(() => undefined);
      await runWhileHolding(second, 'hourly', async () => { secondRuns++; });
    };
    await tick();
    await tick();
    assert.deepEqual([firstRuns, secondRuns], [2, 0], 'only the holder does the work');
    // The first holder's session ends as it would if its replica were killed.
    assert.ok((await terminateLockHolders(url)) >= 1);
    await eventually(async () => (await second.tryHold('hourly')), 'the second holder takes the lease over');
    await tick();
    assert.equal(await first.tryHold('hourly'), false, 'the first, on a new connection, is refused');
    assert.ok(secondRuns >= 1);
    assert.equal(firstRuns, 2, 'the first no longer does the work');
  });

  test('a task every interval (as the hourly upload purge) runs on one replica; another takes over when it dies', async () => {
    const runs = [0, 0];
    const errors: unknown[] = [];
    const stops = [holder(), holder()].map((leases, n) => everyIntervalWhileHolding({
      leases, name: 'upload-purge-task', intervalMs: 40,
      work: async () => { runs[n]!++; },
      onError: (error) => errors.push(error),
    }));
    try {
      await eventually(async () => runs[0]! + runs[1]! >= 5, 'the task runs');
      const [first, second] = runs as [number, number];
      assert.ok(first === 0 || second === 0, `only one replica runs it (runs: ${runs.join(', ')})`);
      const holderIndex = first > 0 ? 0 : 1;
      // The holding replica dies: its timer stops and its session ends (a killed process's
      // connection is closed by the kernel). The other one takes over at its next interval.
      stops[holderIndex]!();
      assert.ok((await terminateLockHolders(url)) >= 1);
      await eventually(async () => runs[1 - holderIndex]! >= 3, 'the other replica takes the task over');
    } finally {
      for (const stop of stops) stop();
    }
  });

  test('with a PostgreSQL URL the leases are advisory locks', async () => {
    const leases = openLeases(url);
    opened.push(leases);
    assert.ok(leases instanceof PostgresLeases);
  });
});
