// `wharf query` on a data folder and through --server, in each output format.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OCI_MANIFEST, pushImage, startTestRegistry, type TestRegistry } from '../../test/support/registry-fixture.ts';
import { SqliteUsageStore, telemetryDatabasePath } from '../observability/usage/sqlite-usage-store.ts';
import { formatAnswer } from './query.ts';

const WHARF = fileURLToPath(new URL('../../bin/wharf', import.meta.url));

interface Result { code: number | null; out: string; err: string }

function wharf(args: string[], home: string): Promise<Result> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('WHARF_')) env[key] = value;
  const child = spawn(WHARF, args, { cwd: home, env: { ...env, HOME: home, XDG_CONFIG_HOME: join(home, '.config') }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { err += chunk; });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out, err }); });
  });
}

describe('wharf query', () => {
  let home: string;
  let folder: string;
  let registry: TestRegistry;

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'wharf-query-cli-'));
    folder = join(home, 'data');
    await mkdir(join(folder, 'blobs'), { recursive: true });
    const store = new SqliteUsageStore(telemetryDatabasePath(folder));
    await store.migrate();
    const time = Date.now() - 3600_000;
    await store.append({
      pulls: [
        { time, repository: 'team-a/app', digest: 'sha256:1', tag: 'v1', kind: 'manifest', bytes: 100, identity: 'user:alice', userAgent: 'docker, "quoted"' },
        { time, repository: 'team-a/app', digest: 'sha256:1', kind: 'blob', bytes: 900, identity: 'user:alice' },
        { time, repository: 'team-b/web', digest: 'sha256:2', kind: 'blob', bytes: 50, identity: 'robot:ci' },
      ],
      pushes: [], decisions: [],
    });
    await store.close();
    registry = await startTestRegistry();
    await pushImage(registry.url, 'team-c/tool', 'v2');
    const pulled = await fetch(`${registry.url}/v2/team-c/tool/manifests/v2`, { headers: { accept: OCI_MANIFEST } });
    assert.equal(pulled.status, 200);
    await pulled.arrayBuffer();
  });
  after(async () => {
    await registry.close();
    await rm(home, { recursive: true, force: true });
  });

  const headline = 'FROM pulls |> WHERE time > now() - INTERVAL 7 DAY |> AGGREGATE count(*) AS pulls, sum(bytes) AS bytes GROUP BY repository |> ORDER BY pulls DESC |> LIMIT 10';

  it('prints a table of a data folder\'s telemetry', async () => {
    const result = await wharf(['query', headline, '--data-dir', folder], home);
    assert.equal(result.code, 0, result.err);
    assert.equal(result.out, 'repository  pulls  bytes\nteam-a/app      2   1000\nteam-b/web      1     50\n');
  });

  it('prints JSON and CSV', async () => {
    const json = await wharf(['query', 'FROM pulls |> WHERE kind = \'manifest\' |> SELECT repository, tag, user_agent', '--data-dir', folder, '--format', 'json'], home);
    assert.equal(json.code, 0, json.err);
    assert.deepEqual(JSON.parse(json.out), [{ repository: 'team-a/app', tag: 'v1', user_agent: 'docker, "quoted"' }]);
    const csv = await wharf(['query', 'FROM pulls |> WHERE kind = \'manifest\' |> SELECT repository, tag, user_agent', '--data-dir', folder, '--format', 'csv'], home);
    assert.equal(csv.out, 'repository,tag,user_agent\r\nteam-a/app,v1,"docker, ""quoted"""\r\n');
  });

  it('asks a running server with --server', async () => {
    const result = await wharf(['query', 'FROM pulls |> SELECT repository, tag, kind', '--server', registry.url, '--format', 'csv'], home);
    assert.equal(result.code, 0, result.err);
    assert.equal(result.out, 'repository,tag,kind\r\nteam-c/tool,v2,manifest\r\n');
  });

  it('says where a query is wrong, and exits 1', async () => {
    for (const target of [['--data-dir', folder], ['--server', registry.url]]) {
      const result = await wharf(['query', 'FROM pulls\n|> WHERE repo = 1', ...target], home);
      assert.equal(result.code, 1);
      assert.match(result.err, /line 2, column 10: unknown column "repo"; columns are time, namespace, repository/);
    }
    const format = await wharf(['query', 'FROM pulls', '--data-dir', folder, '--format', 'xml'], home);
    assert.equal(format.code, 1);
    assert.match(format.err, /--format is one of table, json, csv/);
  });

  it('formats an empty answer and right-aligns numbers', () => {
    assert.equal(formatAnswer({ columns: [{ name: 'n', type: 'integer' }], rows: [], truncated: false }, 'table'), 'n\n(no rows)\n');
    assert.equal(formatAnswer({ columns: [{ name: 'name', type: 'text' }, { name: 'n', type: 'integer' }], rows: [['a', 5], ['bb', 10]], truncated: false }, 'table'), 'name   n\na      5\nbb    10\n');
  });
});
