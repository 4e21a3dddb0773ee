// The query process: results formatted by type, the row cap, the deadline (the process is killed
// and the next query gets a new one), and the authorizer that stands behind the compiler.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileQuery } from '../query/compiler.ts';
import { runQuery } from './query-process.ts';
import { QueryFailure, QueryRunner } from './query-runner.ts';
import { SqliteUsageStore, telemetryDatabasePath } from './sqlite-usage-store.ts';
import { TELEMETRY_TABLES } from './telemetry-schema.ts';

const TABLES = TELEMETRY_TABLES.map((table) => table.name);
const NOW = Date.parse('2026-12-07T12:00:00Z');

describe('usage query runner', () => {
  let dir: string;
  let database: string;
  const compile = (text: string, maxRows = 100) => compileQuery(text, { tables: TELEMETRY_TABLES, scope: { all: true }, now: NOW, maxRows });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-query-'));
    database = telemetryDatabasePath(dir);
    const store = new SqliteUsageStore(database);
    await store.migrate();
    const pulls = Array.from({ length: 2000 }, (_, index) => ({
      time: NOW - index * 1000, repository: `team-${index % 4}/app`, digest: `sha256:${index % 10}`, kind: 'blob' as const, bytes: 10, identity: 'anonymous',
    }));
    await store.append({ pulls, pushes: [], decisions: [{ id: 'd1', time: NOW, point: 'push', identity: 'user:alice', allowed: false, repository: 'team-0/app', policy: 'p' }] });
    await store.close();
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('formats times as ISO strings, booleans as booleans, intervals in seconds, and cuts long results', async () => {
    const runner = new QueryRunner({ database, tables: TABLES, timeoutMs: 10_000, maxRows: 3 });
    try {
      const result = await runner.run(compile('FROM decisions |> SELECT time, allowed, now() - time AS age', 3));
      assert.deepEqual(result.rows, [['2026-12-07T12:00:00.000Z', false, 0]]);
      assert.equal(result.truncated, false);
      const cut = await runner.run(compile('FROM pulls |> SELECT digest', 3));
      assert.equal(cut.rows.length, 3);
      assert.equal(cut.truncated, true);
    } finally {
      await runner.close();
    }
  });

  it('stops a query past its deadline by killing its process, and runs the next one in a new process', async () => {
    const runner = new QueryRunner({ database, tables: TABLES, timeoutMs: 300, maxRows: 10 });
    try {
      await runner.run(compile('FROM pulls |> LIMIT 1'));
      const first = runner.processId!;
      // 2000³ rows to count: minutes of work.
      const endless = compile('FROM pulls |> JOIN pulls AS b ON TRUE |> JOIN pulls AS c ON TRUE |> AGGREGATE count(*) AS n');
      const started = performance.now();
      await assert.rejects(runner.run(endless), (error: unknown) => error instanceof QueryFailure && error.kind === 'timeout');
      assert.ok(performance.now() - started < 5000, 'answered near the deadline');
      await waitUntilGone(first);
      const next = await runner.run(compile('FROM pulls |> AGGREGATE count(*) AS n'));
      assert.deepEqual(next.rows, [[2000]]);
      assert.notEqual(runner.processId, first);
    } finally {
      await runner.close();
    }
  });

  it('tells a caller to come back when too many queries wait', async () => {
    const runner = new QueryRunner({ database, tables: TABLES, timeoutMs: 2000, maxRows: 10, maxWaiting: 1 });
    try {
      const query = compile('FROM pulls |> AGGREGATE count(*) AS n');
      const first = runner.run(query);
      await assert.rejects(runner.run(query), (error: unknown) => error instanceof QueryFailure && error.kind === 'busy');
      await first;
    } finally {
      await runner.close();
    }
  });

  it('denies, below the compiler, anything but reading the telemetry tables', () => {
    const attempt = (sql: string) => runQuery({ id: 1, database, tables: TABLES, sql, params: [], maxRows: 10 });
    assert.deepEqual(attempt('SELECT count(*) FROM pulls'), { id: 1, rows: [[2000]], truncated: false });
    for (const sql of [
      'SELECT * FROM known_repositories',
      'SELECT * FROM sqlite_master',
      'DELETE FROM pulls',
      'INSERT INTO pulls (time) VALUES (1)',
      'DROP TABLE pulls',
      "ATTACH DATABASE ':memory:' AS other",
      'PRAGMA user_version',
      'PRAGMA writable_schema = 1',
      "SELECT load_extension('/tmp/evil.so')",
      'SELECT sqlite_version()',
      'WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT x FROM r LIMIT 5',
      'CREATE TEMP TABLE t (x)',
    ]) {
      const result = attempt(sql);
      assert.ok('error' in result, `refused: ${sql}`);
    }
  });
});

async function waitUntilGone(pid: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`process ${pid} is still running`);
}
