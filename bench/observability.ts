// `npm run bench:observability`: usage queries over a large telemetry table.
// 1,000,000 pull records spread over 30 days (200 repositories in 20 namespaces), written through
// the usage store; then, through the query process as POST /api/v1/query runs them:
//   1. the headline query (top repositories of the last 7 days): target < 200 ms;
//   2. pulls per hour over 30 days, GROUP BY time_bucket('1h', time): target < 300 ms;
//   3. the headline query for a caller who may read 10 of the 200 repositories.
// Each figure is the median of --runs runs after one warm-up run.
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteUsageStore, telemetryDatabasePath } from '../src/observability/usage/sqlite-usage-store.ts';
import { UsageQueries } from '../src/observability/usage/usage-queries.ts';
import type { TransferRecord } from '../src/observability/usage/usage-store.ts';
import type { ReadScope } from '../src/observability/query/schema.ts';
import { median } from './lib/report.ts';

const { values } = parseArgs({ options: { records: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '7' } } });
const records = Number(values.records);
const runs = Number(values.runs);
const DAY = 86_400_000;
const NOW = Date.now();
const REPOSITORIES = Array.from({ length: 200 }, (_, index) => `team-${index % 20}/app-${index}`);

const QUERIES = {
  headline: 'FROM pulls |> WHERE time > now() - INTERVAL 7 DAY |> AGGREGATE count(*) AS pulls, sum(bytes) AS bytes GROUP BY repository |> ORDER BY pulls DESC |> LIMIT 10',
  hourly: "FROM pulls |> WHERE time > now() - INTERVAL 30 DAY |> AGGREGATE count(*) AS pulls, sum(bytes) AS bytes GROUP BY time_bucket('1h', time) AS hour |> ORDER BY hour",
};

async function fill(dataDir: string): Promise<number> {
  const store = new SqliteUsageStore(telemetryDatabasePath(dataDir));
  await store.migrate();
  const started = performance.now();
  const batchSize = 50_000;
  // A fixed pseudo-random sequence, so every run measures the same data.
  let seed = 42;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
  for (let written = 0; written < records; written += batchSize) {
    const pulls: TransferRecord[] = [];
    for (let index = 0; index < Math.min(batchSize, records - written); index++) {
      // Popularity is skewed: low-numbered repositories are pulled far more often.
      const repository = REPOSITORIES[Math.floor(random() ** 3 * REPOSITORIES.length)]!;
      const blob = random() < 0.8;
      pulls.push({
        // Records arrive in time order, as the recorder writes them.
        time: NOW - 30 * DAY + Math.floor(((written + index) * 30 * DAY) / records), repository, digest: `sha256:${Math.floor(random() * 5000).toString(16).padStart(64, '0')}`,
        kind: blob ? 'blob' : 'manifest', bytes: blob ? Math.floor(random() * 50_000_000) : 1500, identity: `robot:ci-${Math.floor(random() * 50)}`,
        clientAddress: `10.0.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`, userAgent: 'containerd/2.0', ...(blob ? {} : { tag: 'v1' }),
      });
    }
    await store.append({ pulls, pushes: [], decisions: [] });
  }
  await store.close();
  return performance.now() - started;
}

async function time(queries: UsageQueries, text: string, scope: ReadScope): Promise<{ ms: number; rows: number }> {
  await queries.run(text, scope);
  const timings: number[] = [];
  let rows = 0;
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    const result = await queries.run(text, scope);
    timings.push(performance.now() - started);
    rows = result.rows.length;
  }
  return { ms: median(timings), rows };
}

const dataDir = await mkdtemp(join(tmpdir(), 'wharf-bench-observability-'));
try {
  console.log(`writing ${records.toLocaleString('en')} pull records over 30 days…`);
  const fillMs = await fill(dataDir);
  console.log(`  ${(fillMs / 1000).toFixed(1)} s (${Math.round(records / (fillMs / 1000)).toLocaleString('en')} records/s in batches of 50,000)`);
  const queries = new UsageQueries(dataDir, { timeoutMs: 60_000, maxRows: 10_000 });
  try {
    const everything: ReadScope = { all: true };
    const some: ReadScope = { all: false, repositories: REPOSITORIES.filter((_, index) => index % 20 === 0), namespaces: [] };
    const results = [
      ['top 10 repositories, last 7 days', await time(queries, QUERIES.headline, everything), 200],
      ["pulls per hour over 30 days, time_bucket('1h')", await time(queries, QUERIES.hourly, everything), 300],
      ['top 10, last 7 days, caller reading 10 repositories', await time(queries, QUERIES.headline, some), 200],
    ] as const;
    console.log(`\nmedian of ${runs} runs, through the query process (load average ${loadavg().map((load) => load.toFixed(1)).join(' ')} on ${cpus().length} CPUs):`);
    for (const [name, { ms, rows }, target] of results) {
      console.log(`  ${name.padEnd(52)} ${ms.toFixed(1).padStart(7)} ms  (${rows} rows; target < ${target} ms: ${ms < target ? 'met' : 'MISSED'})`);
    }
  } finally {
    await queries.close();
  }
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
