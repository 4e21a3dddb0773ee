// The pipe-SQL compiler against a real SQLite database holding the telemetry tables: every pipe
// operator, plain SELECT, time-series sugar, errors with line and column, read scopes, and
// attempts to smuggle SQL through names, strings and comments.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { compileQuery, type CompiledQuery } from './compiler.ts';
import { QueryError } from './query-error.ts';
import type { ReadScope } from './schema.ts';
import { USAGE_MIGRATIONS } from '../usage/sqlite-usage-store.ts';
import { TELEMETRY_TABLES } from '../usage/telemetry-schema.ts';

const NOW = Date.parse('2026-12-07T12:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function compile(text: string, scope: ReadScope = { all: true }, maxRows = 1000): CompiledQuery {
  return compileQuery(text, { tables: TELEMETRY_TABLES, scope, now: NOW, maxRows });
}

describe('pipe-SQL compiler', () => {
  let db: DatabaseSync;
  /** Rows as objects named like the result columns. */
  const run = (text: string, scope?: ReadScope): Record<string, unknown>[] => {
    const compiled = compile(text, scope);
    assert.match(compiled.sql, /^WITH /, 'only WITH … SELECT statements are made');
    const statement = db.prepare(compiled.sql);
    statement.setReturnArrays(true);
    return (statement.all(...compiled.params) as unknown as unknown[][]).map((row) => Object.fromEntries(compiled.columns.map((column, index) => [column.name, row[index]])));
  };
  const failure = (text: string): QueryError => {
    try {
      compile(text);
    } catch (error) {
      assert.ok(error instanceof QueryError, `a QueryError, not ${String(error)}`);
      return error;
    }
    assert.fail(`compiled: ${text}`);
  };

  before(() => {
    db = new DatabaseSync(':memory:');
    for (const migration of USAGE_MIGRATIONS) db.exec(migration);
    const pull = db.prepare(`INSERT INTO pulls (time, namespace, repository, digest, tag, kind, bytes, identity, client_address, user_agent)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    // team-a/app: 6 pulls an hour apart, 100 bytes each; team-b/web: 3 pulls, 1000 bytes each, one 10 days ago.
    for (let i = 0; i < 6; i++) pull.run(NOW - i * HOUR, 'team-a', 'team-a/app', `sha256:a${i % 2}`, i % 2 ? null : 'v1', 'manifest', 100, 'user:alice', '10.0.0.1', 'docker/27');
    pull.run(NOW - 1 * HOUR, 'team-b', 'team-b/web', 'sha256:b0', 'latest', 'blob', 1000, 'robot:ci', '10.0.0.2', 'containerd/2');
    pull.run(NOW - 2 * HOUR, 'team-b', 'team-b/web', 'sha256:b0', 'latest', 'blob', 1000, 'robot:ci', '10.0.0.2', 'containerd/2');
    pull.run(NOW - 10 * DAY, 'team-b', 'team-b/web', 'sha256:b1', null, 'manifest', 1000, 'robot:ci', '10.0.0.2', "it's a quote");
    const push = db.prepare(`INSERT INTO pushes (time, namespace, repository, digest, tag, kind, bytes, identity) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    push.run(NOW - 20 * DAY, 'team-a', 'team-a/app', 'sha256:a0', 'v1', 'manifest', 500, 'user:alice');
    push.run(NOW - 20 * DAY, 'team-b', 'team-b/web', 'sha256:b1', 'old', 'manifest', 500, 'robot:ci');
    push.run(NOW - 20 * DAY, 'team-b', 'team-b/web', 'sha256:stale', 'stale', 'manifest', 500, 'robot:ci');
    const decision = db.prepare(`INSERT INTO decisions (decision_id, time, namespace, repository, digest, point, identity, allowed, policy, mode, message)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    decision.run('d1', NOW - HOUR, 'team-a', 'team-a/app', 'sha256:x', 'push', 'user:alice', 0, 'no-latest', 'enforce', 'no latest');
    decision.run('d2', NOW - HOUR, 'team-b', 'team-b/web', 'sha256:y', 'push', 'robot:ci', 0, 'no-latest', 'enforce', 'no latest');
    decision.run('d3', NOW - HOUR, 'team-b', 'team-b/web', 'sha256:z', 'push', 'robot:ci', 1, null, null, null);
    db.prepare('INSERT INTO storage (day, namespace, bytes, repositories, artifacts) VALUES (?, ?, ?, ?, ?)').run(NOW - (NOW % DAY), 'team-a', 4096, 1, 2);
    db.prepare('INSERT INTO storage (day, namespace, bytes, repositories, artifacts) VALUES (?, ?, ?, ?, ?)').run(NOW - (NOW % DAY), 'team-b', 8192, 1, 3);
  });

  it('knows the tables the store creates, column for column', () => {
    for (const table of TELEMETRY_TABLES) {
      const columns = (db.prepare(`SELECT name FROM pragma_table_info('${table.name}')`).all() as { name: string }[]).map((row) => row.name);
      for (const column of table.columns) assert.ok(columns.includes(column.name), `${table.name}.${column.name} exists`);
    }
  });

  it('runs the headline query: WHERE with an interval, AGGREGATE … GROUP BY, ORDER BY, LIMIT', () => {
    const rows = run('FROM pulls |> WHERE time > now() - INTERVAL 7 DAY |> AGGREGATE count(*) AS pulls, sum(bytes) AS bytes GROUP BY repository |> ORDER BY pulls DESC |> LIMIT 10');
    assert.deepEqual(rows, [{ repository: 'team-a/app', pulls: 6, bytes: 600 }, { repository: 'team-b/web', pulls: 2, bytes: 2000 }]);
  });

  it('SELECT picks and computes columns, SELECT DISTINCT removes duplicates', () => {
    assert.deepEqual(run("FROM pulls |> WHERE repository = 'team-b/web' |> SELECT DISTINCT digest, upper(kind) AS kind |> ORDER BY digest, kind"),
      [{ digest: 'sha256:b0', kind: 'BLOB' }, { digest: 'sha256:b1', kind: 'MANIFEST' }]);
    assert.equal(run('FROM storage |> SELECT *').length, 2);
  });

  it('EXTEND adds columns, SET replaces them, DROP removes them, RENAME renames them', () => {
    const rows = run(`FROM storage
      |> EXTEND bytes / 1024 AS kib, lower(namespace) || '!' AS shout
      |> SET bytes = bytes * 2
      |> DROP repositories, artifacts, day
      |> RENAME namespace AS team
      |> ORDER BY team`);
    assert.deepEqual(rows, [{ team: 'team-a', bytes: 8192, kib: 4, shout: 'team-a!' }, { team: 'team-b', bytes: 16384, kib: 8, shout: 'team-b!' }]);
  });

  it('LIMIT with OFFSET, and ORDER BY that survives later steps', () => {
    const all = run('FROM pulls |> ORDER BY time DESC, repository |> SELECT repository, bytes');
    assert.equal(all.length, 9);
    assert.deepEqual(run('FROM pulls |> ORDER BY time DESC, repository |> LIMIT 2 OFFSET 1 |> SELECT repository, bytes'), all.slice(1, 3));
  });

  it('JOIN … USING and LEFT JOIN … ON, with AS naming a result', () => {
    const joined = run(`FROM pushes |> JOIN storage USING (namespace) |> SELECT repository, storage.bytes AS namespace_bytes |> ORDER BY repository`);
    assert.deepEqual(joined, [
      { repository: 'team-a/app', namespace_bytes: 4096 }, { repository: 'team-b/web', namespace_bytes: 8192 }, { repository: 'team-b/web', namespace_bytes: 8192 },
    ]);
    // Stale images: pushed, and not pulled in the last 90 days.
    const stale = run(`FROM pushes AS p
      |> LEFT JOIN (FROM pulls |> WHERE time > now() - INTERVAL 90 DAY |> AGGREGATE count(*) AS recent GROUP BY repository, digest) AS r
         ON p.repository = r.repository AND p.digest = r.digest
      |> WHERE recent IS NULL
      |> SELECT p.repository, p.digest, tag`);
    assert.deepEqual(stale, [{ repository: 'team-b/web', digest: 'sha256:stale', tag: 'stale' }]);
    const named = run('FROM pulls |> AGGREGATE count(*) AS n GROUP BY repository |> AS counts |> WHERE counts.n > 3 |> SELECT counts.repository');
    assert.deepEqual(named, [{ repository: 'team-a/app' }]);
  });

  it('plain SELECT … FROM … WHERE … GROUP BY … HAVING … ORDER BY … LIMIT, followed by pipes', () => {
    const rows = run(`SELECT namespace, count(*) AS pulls, sum(bytes) AS bytes FROM pulls WHERE kind IN ('manifest', 'blob')
      GROUP BY namespace HAVING count(*) > 1 ORDER BY bytes DESC LIMIT 5 |> EXTEND bytes / pulls AS average`);
    assert.deepEqual(rows, [{ namespace: 'team-b', pulls: 3, bytes: 3000, average: 1000 }, { namespace: 'team-a', pulls: 6, bytes: 600, average: 100 }]);
    assert.deepEqual(run('SELECT count(DISTINCT digest) AS digests FROM pulls'), [{ digests: 4 }]);
  });

  it('expressions: arithmetic, comparisons, AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL, CASE, coalesce, date()', () => {
    const rows = run(`FROM pulls
      |> WHERE (bytes BETWEEN 50 AND 150 OR bytes >= 1000) AND NOT repository LIKE 'team-b/%' AND tag IS NOT NULL AND kind NOT IN ('blob')
      |> SELECT coalesce(tag, 'none') AS tag, CASE WHEN bytes > 99 THEN 'big' ELSE 'small' END AS size, CASE kind WHEN 'manifest' THEN 1 ELSE 0 END AS m,
                date(time) AS day, bytes % 7 AS rest, -bytes + 2 * 3 AS sum, 7 / 2 AS half
      |> LIMIT 1`);
    assert.deepEqual(rows, [{ tag: 'v1', size: 'big', m: 1, day: '2026-12-07', rest: 2, sum: -94, half: 3.5 }]);
    assert.equal(run("FROM pulls |> WHERE user_agent = 'it''s a quote'").length, 1);
    assert.equal(run("FROM pulls |> WHERE time >= '2026-12-07' AND time < TIMESTAMP '2026-12-08T00:00:00Z'").length, 8);
  });

  it('time series: time_bucket groups, rate() per interval, AGGREGATE with GROUP AND ORDER BY', () => {
    const rows = run(`FROM pulls |> WHERE time > now() - INTERVAL 1 DAY
      |> AGGREGATE count(*) AS pulls, rate(count(*), '1m') AS per_minute GROUP AND ORDER BY time_bucket('2h', time) AS bucket`);
    assert.deepEqual(rows.map((row) => row.pulls), [1, 2, 4, 1]);
    assert.equal(rows[0]!.bucket, NOW - 6 * HOUR);
    assert.equal(rows[1]!.per_minute, 2 / 120);
    const compiled = compile("FROM pulls |> AGGREGATE count(*) AS n GROUP BY time_bucket('1h', time) AS hour");
    assert.deepEqual(compiled.columns, [{ name: 'hour', type: 'timestamp' }, { name: 'n', type: 'integer' }]);
  });

  it('points errors at the line and column', () => {
    assert.equal(failure("FROM pulls |> WHERE repo = 'x'").message,
      'line 1, column 21: unknown column "repo"; columns are time, namespace, repository, digest, tag, kind, bytes, identity, client_address, user_agent');
    assert.match(failure('FROM pulls\n|> WHERE bytes > 1\n|> SELEKT bytes').message, /^line 3, column 4: expected a pipe operator/);
    assert.match(failure('FROM pullz').message, /^line 1, column 6: unknown table "pullz"; tables are pulls, pushes, decisions, audit, artifacts, storage$/);
    assert.match(failure('FROM pulls |> WHERE count(*) > 1').message, /^line 1, column 21: count\(\) aggregates, which WHERE cannot do/);
    assert.match(failure('FROM pulls |> AGGREGATE count(*) GROUP BY repository |> SELECT digest').message, /^line 1, column 64: unknown column "digest"/);
    assert.match(failure('FROM pulls |> AGGREGATE bytes GROUP BY repository').message, /^line 1, column 25: this column is neither grouped nor aggregated/);
    assert.match(failure('SELECT repository, count(*) FROM pulls').message, /^line 1, column 8: this column is neither grouped nor aggregated/);
    assert.match(failure('FROM pulls |> WHERE time > now() - 7').message, /^line 1, column 34: cannot use - on a time here/);
    assert.match(failure("FROM pulls |> WHERE time > 'last week'").message, /^line 1, column 28: "last week" is not a time/);
    assert.match(failure("FROM pulls |> AGGREGATE count(*) GROUP BY time_bucket('1 fortnight', time)").message, /^line 1, column 55: an interval is written/);
    assert.match(failure('FROM pulls |> AGGREGATE rate(count(*)) GROUP BY repository').message, /rate\(\) needs a GROUP BY time_bucket/);
    assert.match(failure('FROM pulls |> EXTEND bytes AS bytes').message, /a column "bytes" exists already/);
    assert.match(failure('FROM pulls |> JOIN pushes USING (repository) |> SELECT bytes').message, /^line 1, column 56: column "bytes" is ambiguous; qualify it \(pulls.bytes, pushes.bytes\)/);
    assert.match(failure("FROM pulls |> WHERE tag = 'unterminated").message, /^line 1, column 27: this string is never closed/);
    assert.match(failure('FROM pulls |> LIMIT -1').message, /^line 1, column 21: LIMIT takes a whole number/);
    assert.match(failure('FROM pulls |> DROP time, namespace, repository, digest, tag, kind, bytes, identity, client_address, user_agent').message, /DROP cannot remove every column/);
    assert.match(failure('FROM pulls |> RENAME bytes AS time').message, /a column "time" exists already/);
    assert.match(failure('FROM pulls |> SET nothing = 1').message, /unknown column "nothing"/);
    assert.match(failure('FROM pulls | WHERE bytes > 1').message, /a pipe is written \|>/);
    assert.match(failure('FROM pulls |> WHERE ' + '('.repeat(100) + '1' + ')'.repeat(100)).message, /nest deeper than/);
  });

  it('filters every table source by the read scope, before any step of the caller', () => {
    const scope: ReadScope = { all: false, repositories: ['team-a/app'], namespaces: ['team-a'] };
    assert.deepEqual(run('FROM pulls |> AGGREGATE count(*) AS n GROUP BY repository', scope), [{ repository: 'team-a/app', n: 6 }]);
    // An OR in the caller's WHERE cannot widen the scope: it is applied to rows already filtered.
    assert.deepEqual(run("FROM pulls |> WHERE repository = 'team-b/web' OR TRUE |> AGGREGATE count(DISTINCT repository) AS n", scope), [{ n: 1 }]);
    assert.deepEqual(run('FROM storage |> SELECT namespace', scope), [{ namespace: 'team-a' }]);
    // Joined tables and subqueries are filtered too.
    assert.deepEqual(run('FROM pushes |> JOIN (FROM decisions) USING (repository) |> SELECT DISTINCT repository', scope), [{ repository: 'team-a/app' }]);
    assert.deepEqual(run('SELECT count(*) AS n FROM decisions LEFT JOIN pulls ON TRUE', scope), [{ n: 6 }]);
    assert.deepEqual(run('FROM pulls', { all: false, repositories: [], namespaces: [] }), []);
    // The audit trail is for administrators only.
    db.prepare("INSERT INTO audit (time, identity, action, resource, allowed, reason) VALUES (?, 'user:x', 'login', 'x', 0, 'bad password')").run(NOW);
    assert.deepEqual(run('FROM audit |> SELECT identity', scope), []);
    assert.deepEqual(run('FROM audit |> SELECT identity'), [{ identity: 'user:x' }]);
  });

  it('never writes caller text into the SQL: names are looked up, literals are parameters', () => {
    const compiled = compile("FROM pulls AS `x\"; DROP TABLE pulls; --` |> WHERE tag = 'v1''; DROP TABLE pulls; --' |> EXTEND 1 AS `evil\"name` |> SELECT `evil\"name`");
    assert.doesNotMatch(compiled.sql, /DROP|evil|--/);
    assert.ok(compiled.params.includes("v1'; DROP TABLE pulls; --"));
    assert.deepEqual(compiled.columns, [{ name: 'evil"name', type: 'integer' }]);
    assert.deepEqual(run(`FROM pulls |> WHERE tag = 'v1''; DROP TABLE pulls; --' |> SELECT tag`), []);
    assert.equal((db.prepare('SELECT count(*) AS n FROM pulls').get() as { n: number }).n, 9, 'the table is still there');
  });

  it('refuses SQL it does not speak: statements, other tables, PRAGMA, ATTACH, extension loading, comments hiding code', () => {
    const refused = [
      'FROM pulls; DROP TABLE pulls',
      'DROP TABLE pulls',
      'DELETE FROM pulls',
      "ATTACH DATABASE '/tmp/x.db' AS x",
      'PRAGMA writable_schema = 1',
      'FROM sqlite_master',
      'FROM known_repositories',
      'FROM main.pulls',
      "FROM pulls |> SELECT load_extension('/tmp/evil.so') AS x",
      'FROM pulls |> SELECT sqlite_version() AS v',
      "FROM pulls |> SELECT readfile('/etc/passwd') AS x",
      'FROM pulls |> WHERE bytes > (SELECT 1)',
      'WITH RECURSIVE r(x) AS (SELECT 1) SELECT x FROM r',
      'FROM pulls |> WHERE bytes > 1 /* unclosed',
      'FROM pulls |> UNION ALL FROM pushes',
      'SELECT * FROM pulls, pushes',
      'FROM pulls |> WHERE tag = "a" -- fine\n; DROP TABLE pulls',
      'FROM pulls |> SELECT `` AS x',
      "FROM pulls |> WHERE tag = x'00'",
      'FROM pulls |> WHERE tag = ?',
      'FROM pulls |> WHERE tag = :name',
      'FROM pulls |> WHERE tag = $1',
    ];
    for (const text of refused) assert.throws(() => compile(text), QueryError, text);
    // A comment is only a comment.
    assert.equal(run('FROM pulls -- everything\n|> /* but just */ LIMIT 1 # one').length, 1);
  });

  it('asks for one row more than the limit, so a cut result can be told', () => {
    assert.match(compile('FROM pulls', { all: true }, 5).sql, /LIMIT 6$/);
  });
});
