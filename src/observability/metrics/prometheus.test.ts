// A real Prometheus server (Debian's prometheus package) scrapes Wharf on loopback every second,
// with the bearer token of metrics.token as the README's scrape config shows, and answers PromQL
// over what it scraped. Under CI a missing prometheus is a failure; elsewhere the test is skipped.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pushImage, startTestRegistry } from '../../../test/support/registry-fixture.ts';
import { freePort } from '../test-ports.ts';

const TOKEN = 'prometheus-scrape-token';

function prometheusAvailable(t: { skip(message: string): void }): boolean {
  if (!spawnSync('prometheus', ['--version']).error) return true;
  if (process.env.CI === 'true') throw new Error('prometheus is missing (scripts/install-test-deps.sh installs the prometheus package)');
  t.skip('prometheus is not installed (scripts/install-test-deps.sh installs it)');
  return false;
}

/** Polls `probe` until it returns a value, at most `timeoutMs`. */
async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(killer);
}

it('a Prometheus server scrapes Wharf and answers PromQL about its requests', { timeout: 90_000 }, async (t) => {
  if (!prometheusAvailable(t)) return;
  const registry = await startTestRegistry({ WHARF_METRICS_TOKEN: TOKEN });
  const folder = await mkdtemp(join(tmpdir(), 'wharf-prometheus-'));
  let prometheus: ChildProcess | undefined;
  let output = '';
  try {
    const wharfTarget = new URL(registry.url).host;
    await writeFile(join(folder, 'prometheus.yml'), [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: wharf',
      '    authorization:',
      `      credentials: ${TOKEN}`,
      '    static_configs:',
      `      - targets: ['${wharfTarget}']`,
      '',
    ].join('\n'));
    const port = await freePort();
    const api = `http://127.0.0.1:${port}`;
    prometheus = spawn('prometheus', [
      `--config.file=${join(folder, 'prometheus.yml')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.tsdb.path=${join(folder, 'data')}`,
      '--log.level=warn',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    prometheus.stdout!.on('data', (chunk: Buffer) => { output += chunk; });
    prometheus.stderr!.on('data', (chunk: Buffer) => { output += chunk; });

    await pushImage(registry.url, 'team/app', 'v1');
    for (let i = 0; i < 5; i++) assert.equal((await fetch(`${registry.url}/v2/team/app/manifests/v1`)).status, 200);

    await eventually('Prometheus to be ready', 30_000, async () => ((await fetch(`${api}/-/ready`)).ok ? true : undefined));
    const query = async (promql: string) => {
      const response = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = await response.json() as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      assert.equal(body.status, 'success', JSON.stringify(body));
      return body.data.result;
    };
    const pulls = await eventually('a scrape with the manifest pulls', 30_000, async () => {
      const result = await query('sum(wharf_http_requests_total{route="/v2/{name}/manifests/{reference}", method="GET"}) > 0');
      return result.length === 1 ? Number(result[0]!.value[1]) : undefined;
    });
    assert.equal(pulls, 5);
    const up = await query('up{job="wharf"}');
    assert.equal(up[0]?.value[1], '1', 'the target is up (the token was accepted)');
    // Storage figures are refreshed at most every 10 s: a scrape from before the push may show none yet.
    const namespaces = await eventually('storage per namespace', 30_000, async () => {
      const result = await query('wharf_namespace_artifacts');
      return result.length > 0 ? result : undefined;
    });
    assert.deepEqual(namespaces.map((series) => [series.metric.namespace, series.value[1]]), [['team', '1']]);
  } catch (error) {
    throw new Error(`${(error as Error).message}\nprometheus output:\n${output.slice(-2000)}`, { cause: error });
  } finally {
    if (prometheus) await stop(prometheus);
    await registry.close();
    await rm(folder, { recursive: true, force: true });
  }
});
