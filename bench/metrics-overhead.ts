// What metrics cost the hottest request: manifest GET by tag, measured with wrk against two
// in-process registries that differ only in metrics.enabled, alternating for a few rounds.
//
//   npm run bench:metrics -- [--rounds N (3)] [--seconds S (5)] [--connections C (16)]
import { parseArgs } from 'node:util';
import { pushImage, startTestRegistry } from '../test/support/registry-fixture.ts';
import { median } from './lib/report.ts';
import { runWrk } from './lib/wrk.ts';
import { WharfMetrics } from '../src/observability/metrics/wharf-metrics.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '5' }, connections: { type: 'string', default: '16' } } });
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const connections = Number(values.connections);

// The cost of counting one request, measured directly (robust on a loaded machine, unlike req/s).
{
  const metrics = new WharfMetrics({
    manifestCache: { hits: 0, misses: 0 }, uploads: { totals: () => ({ sessions: 0, stagedBytes: 0 }) },
    metadata: { usageByNamespace: async () => [] }, apiRoutes: () => [],
  });
  const socket = { bytesRead: 0, bytesWritten: 0 };
  const ctx = { method: 'GET', path: '/v2/library/alpine/manifests/3.20', req: { socket, headers: {} } } as never;
  const calls = 2_000_000;
  for (let i = 0; i < 200_000; i++) metrics.requestFinished(ctx, 200, 0.4);
  const heapBefore = process.memoryUsage().heapUsed;
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) {
    socket.bytesRead += 180;
    socket.bytesWritten += 900;
    metrics.requestFinished(ctx, 200, 0.4);
  }
  const nanoseconds = Number(process.hrtime.bigint() - started) / calls;
  console.log(`counting one request: ${nanoseconds.toFixed(0)} ns (heap grew ${((process.memoryUsage().heapUsed - heapBefore) / 1024).toFixed(0)} KiB over ${calls} requests)`);
}

// Log level warn, as `npm run bench` runs Wharf: the per-request log line is not what is measured.
const on = await startTestRegistry({ WHARF_LOG_LEVEL: 'warn', WHARF_METRICS_ENABLED: 'true' });
const off = await startTestRegistry({ WHARF_LOG_LEVEL: 'warn', WHARF_METRICS_ENABLED: 'false' });
try {
  const figures: Record<'off' | 'on', number[]> = { off: [], on: [] };
  for (const registry of [off, on]) {
    await pushImage(registry.url, 'bench/app', 'v1');
    // Warm-up: JIT and the manifest cache.
    await runWrk(`${registry.url}/v2/bench/app/manifests/v1`, { threads: 1, connections, seconds: 1, headers: {} });
  }
  for (let round = 0; round < rounds; round++) {
    // Alternate which goes first, so drift of the machine's load hits both alike.
    const order = round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
    for (const name of order) {
      const registry = name === 'on' ? on : off;
      const result = await runWrk(`${registry.url}/v2/bench/app/manifests/v1`, { threads: 1, connections, seconds, headers: {} });
      figures[name].push(result.requestsPerSecond);
      console.log(`round ${round + 1} metrics ${name}: ${result.requestsPerSecond.toFixed(0)} req/s, p99 ${result.p99Milliseconds.toFixed(2)} ms`);
    }
  }
  const offMedian = median(figures.off);
  const onMedian = median(figures.on);
  console.log(`median req/s: metrics off ${offMedian.toFixed(0)}, on ${onMedian.toFixed(0)} (${(((onMedian - offMedian) / offMedian) * 100).toFixed(1)}%)`);
  const scrape = await fetch(`${on.url}/metrics`);
  const started = performance.now();
  await (await fetch(`${on.url}/metrics`)).text();
  console.log(`GET /metrics: ${scrape.status}, ${(performance.now() - started).toFixed(1)} ms`);
} finally {
  await off.close();
  await on.close();
}
