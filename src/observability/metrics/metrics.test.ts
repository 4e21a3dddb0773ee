// GET /metrics against an in-process registry: what requests, pulls, policies and failed logins
// add, both exposition formats (checked by promtool, Prometheus's own checker), and who may read it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pushImage, startTestRegistry, type TestRegistry } from '../../../test/support/registry-fixture.ts';
import { basic, startAuthRegistry, type AuthRegistry } from '../../../test/support/auth-fixture.ts';
import fc from 'fast-check';
import { matchRegistryPath } from '../../distribution/paths.ts';
import { authFailureReason, registryRouteOf, routeTemplate, WharfMetrics } from './wharf-metrics.ts';
import { formatFor } from './exposition.ts';
import { freePort } from '../test-ports.ts';

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.startsWith(`${name}{`) ? line.slice(name.length + 1, line.lastIndexOf('}')) : '';
    const present = labelText === '' ? [] : labelText.split(/,(?=[a-z_]+=")/);
    if (wanted.every((pair) => present.includes(pair)) && present.length === wanted.length) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(`${url}/metrics`, { headers });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

/** promtool from Debian's prometheus package; under CI its absence is a failure, elsewhere a skip. */
export function promtoolOrSkip(t: { skip(message: string): void }): boolean {
  const found = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (found.error) {
    if (process.env.CI === 'true') throw new Error('promtool is missing (scripts/install-test-deps.sh installs the prometheus package)');
    t.skip('promtool is not installed (scripts/install-test-deps.sh installs it)');
    return false;
  }
  return true;
}

describe('metrics of an open registry', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry();
    await pushImage(registry.url, 'alpha/app', 'v1');
    await pushImage(registry.url, 'beta/tool', 'v1');
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${registry.url}/v2/alpha/app/manifests/v1`)).status, 200);
    assert.equal((await fetch(`${registry.url}/v2/alpha/app/manifests/nope`)).status, 404);
  });
  after(() => registry.close());

  it('counts requests by route template, method and status class, never by repository or reference', async () => {
    const { status, type, text } = await scrape(registry.url);
    assert.equal(status, 200);
    assert.equal(type, 'text/plain; version=0.0.4; charset=utf-8');
    const manifestGets = { route: '/v2/{name}/manifests/{reference}', method: 'GET' };
    assert.equal(sample(text, 'wharf_http_requests_total', { ...manifestGets, status_class: '2xx' }), 3);
    assert.equal(sample(text, 'wharf_http_requests_total', { ...manifestGets, status_class: '4xx' }), 1);
    assert.equal(sample(text, 'wharf_http_requests_total', { route: '/v2/{name}/manifests/{reference}', method: 'PUT', status_class: '2xx' }), 2);
    assert.equal(sample(text, 'wharf_http_request_duration_seconds_count', { ...manifestGets, status_class: '2xx' }), 3);
    assert.equal(sample(text, 'wharf_http_request_duration_seconds_bucket', { ...manifestGets, status_class: '2xx', le: '+Inf' }), 3);
    const requestLines = text.split('\n').filter((line) => line.startsWith('wharf_http_'));
    assert.ok(requestLines.every((line) => !/alpha|beta|sha256|v1"/.test(line)), 'no repository, digest or tag in request metrics');
  });

  it('counts bytes received and sent, manifest cache hits and storage per namespace', async () => {
    const { text } = await scrape(registry.url);
    const manifestRoute = { route: '/v2/{name}/manifests/{reference}' };
    assert.ok(sample(text, 'wharf_http_sent_bytes_total', manifestRoute)! > 3 * 300, 'three manifests and their headers were sent');
    assert.ok(sample(text, 'wharf_http_received_bytes_total', { route: '/v2/{name}/blobs/uploads/' })! > 100);
    assert.equal(sample(text, 'wharf_manifest_cache_hits_total'), 2, 'the first pull filled the cache');
    assert.equal(sample(text, 'wharf_manifest_cache_misses_total'), 2);
    assert.equal(sample(text, 'wharf_namespace_artifacts', { namespace: 'alpha' }), 1);
    assert.ok(sample(text, 'wharf_namespace_storage_bytes', { namespace: 'beta' })! > 100);
    assert.equal(sample(text, 'wharf_upload_sessions_open'), 0);
    assert.ok(sample(text, 'process_cpu_seconds_total')! > 0, 'process metrics');
  });

  it('counts an upload session as open until it completes', async () => {
    const started = await fetch(`${registry.url}/v2/alpha/app/blobs/uploads/`, { method: 'POST' });
    assert.equal(started.status, 202);
    assert.equal(sample((await scrape(registry.url)).text, 'wharf_upload_sessions_open'), 1);
    assert.equal((await fetch(new URL(started.headers.get('location')!, registry.url), { method: 'DELETE' })).status, 204);
    assert.equal(sample((await scrape(registry.url)).text, 'wharf_upload_sessions_open'), 0);
  });

  it('speaks OpenMetrics when the scraper asks for it', async () => {
    const { type, text } = await scrape(registry.url, { accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' });
    assert.equal(type, 'application/openmetrics-text; version=1.0.0; charset=utf-8');
    assert.ok(text.endsWith('# EOF\n'));
    assert.match(text, /^# TYPE wharf_http_requests counter$/m);
    assert.match(text, /^wharf_http_requests_total\{/m);
  });

  it('passes promtool check metrics', (t) => {
    if (!promtoolOrSkip(t)) return;
    return scrape(registry.url).then(({ text }) => {
      const checked = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.equal(checked.status, 0, `promtool: ${checked.stdout}${checked.stderr}`);
      assert.equal(`${checked.stdout}${checked.stderr}`.trim(), '', 'no lint findings');
    });
  });

  it('counts policy decisions by policy and result, with their evaluation time', async () => {
    const policy = `package wharf.no_latest\n\ndeny contains "no latest" if {\n\tinput.artifact.tag == "latest"\n}\n`;
    const created = await fetch(`${registry.url}/api/v1/policies/no-latest`, {
      method: 'PUT', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ package: 'wharf.no_latest', modules: [{ file: 'p.rego', source: policy }], binding: { points: ['push'], namespaces: ['gated'] } }),
    });
    assert.equal(created.status, 201);
    await assert.rejects(pushImage(registry.url, 'gated/app', 'latest'), /403/);
    await pushImage(registry.url, 'gated/app', 'v2');
    const { text } = await scrape(registry.url);
    assert.equal(sample(text, 'wharf_policy_decisions_total', { point: 'push', policy: 'no-latest', result: 'deny' }), 1);
    assert.equal(sample(text, 'wharf_policy_decisions_total', { point: 'push', policy: 'no-latest', result: 'allow' }), 1);
    assert.equal(sample(text, 'wharf_policy_evaluation_duration_seconds_count', { point: 'push' }), 2);
  });

  it('answers a method other than GET with 405 in the OCI error format', async () => {
    const response = await fetch(`${registry.url}/metrics`, { method: 'POST' });
    assert.equal(response.status, 405);
    assert.equal(((await response.json()) as { errors: { code: string }[] }).errors[0]!.code, 'UNSUPPORTED');
  });
});

describe('who may read /metrics', () => {
  let registry: AuthRegistry;
  before(async () => {
    registry = await startAuthRegistry({ WHARF_METRICS_TOKEN: 'scrape-secret' });
    await registry.admin.addUser('root', 'root-password-1', true);
    await registry.admin.addUser('bob', 'bob-password-1');
  });
  after(() => registry.close());

  it('refuses anonymous callers and non-administrators on the main listener when authentication is on', async () => {
    assert.equal((await scrape(registry.url)).status, 401);
    assert.equal((await scrape(registry.url, { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await scrape(registry.url, { authorization: basic('bob', 'bob-password-1') })).status, 403);
  });

  it('serves the holder of metrics.token and administrators', async () => {
    assert.equal((await scrape(registry.url, { authorization: 'Bearer scrape-secret' })).status, 200);
    assert.equal((await scrape(registry.url, { authorization: basic('root', 'root-password-1') })).status, 200);
  });

  it('counts authentication failures by reason', async () => {
    await fetch(`${registry.url}/v2/`);
    await fetch(`${registry.url}/v2/`, { headers: { authorization: basic('bob', 'wrong-password') } });
    await fetch(`${registry.url}/v2/`, { headers: { authorization: 'Bearer not-a-token' } });
    const { text } = await scrape(registry.url, { authorization: 'Bearer scrape-secret' });
    assert.ok(sample(text, 'wharf_auth_failures_total', { reason: 'missing_credentials' })! >= 1);
    assert.ok(sample(text, 'wharf_auth_failures_total', { reason: 'invalid_credentials' })! >= 1);
    assert.ok(sample(text, 'wharf_auth_failures_total', { reason: 'invalid_token' })! >= 1);
  });
});

describe('metrics on a listener of their own', () => {
  let registry: TestRegistry;
  let listener: string;
  before(async () => {
    const port = await freePort();
    listener = `http://127.0.0.1:${port}`;
    registry = await startTestRegistry({ WHARF_METRICS_LISTEN: `127.0.0.1:${port}` });
  });
  after(() => registry.close());

  it('serves /metrics only there, and nothing else there', async () => {
    assert.equal((await fetch(`${registry.url}/v2/`)).status, 200);
    assert.equal((await scrape(registry.url)).status, 404, 'not on the main listener');
    const { status, text } = await scrape(listener);
    assert.equal(status, 200);
    assert.equal(sample(text, 'wharf_http_requests_total', { route: '/v2/', method: 'GET', status_class: '2xx' }), 1);
    assert.equal((await fetch(`${listener}/v2/`)).status, 404);
  });
});

describe('metric labels', () => {
  it('names registry and fixed routes by template and everything else "unmatched"', () => {
    assert.equal(routeTemplate('GET', '/v2/a/b/c/manifests/sha256:abc', []), '/v2/{name}/manifests/{reference}');
    assert.equal(routeTemplate('PATCH', '/v2/a/blobs/uploads/123', []), '/v2/{name}/blobs/uploads/{session}');
    assert.equal(routeTemplate('GET', '/v2/', []), '/v2/');
    assert.equal(routeTemplate('GET', '/v2/nothing-here', []), 'unmatched');
    assert.equal(routeTemplate('GET', '/healthz', []), '/healthz');
    assert.equal(routeTemplate('GET', '/wp-admin/login.php', []), 'unmatched');
    assert.equal(routeTemplate('GET', '/api/v1/repositories/a/b/trust', [{ method: 'GET', path: '/api/v1/repositories/{repository}/trust', access: 'authenticated' }]), '/api/v1/repositories/{repository}/trust');
    assert.equal(routeTemplate('GET', '/api/v1/%zz', [{ method: 'GET', path: '/api/v1/{name}', access: 'admin' }]), 'unmatched');
  });

  it('tells authentication failures apart by the credentials sent', () => {
    assert.equal(authFailureReason(401, '/v2/', undefined), 'missing_credentials');
    assert.equal(authFailureReason(401, '/v2/', 'Bearer x'), 'invalid_token');
    assert.equal(authFailureReason(401, '/v2/', 'Basic eDp5'), 'invalid_credentials');
    assert.equal(authFailureReason(401, '/v2/', 'Digest x'), 'malformed_credentials');
    assert.equal(authFailureReason(429, '/token', 'Basic eDp5'), 'throttled');
    assert.equal(authFailureReason(429, '/v2/{name}/blobs/uploads/', 'Basic eDp5'), undefined, 'upload limits are no login failure');
    assert.equal(authFailureReason(200, '/v2/', undefined), undefined);
  });

  it('picks OpenMetrics only when the Accept header lists it with a non-zero quality', () => {
    assert.equal(formatFor(undefined), 'prometheus');
    assert.equal(formatFor('text/plain'), 'prometheus');
    assert.equal(formatFor('application/openmetrics-text;version=1.0.0;q=0'), 'prometheus');
    assert.equal(formatFor('application/openmetrics-text; version=1.0.0, text/plain;q=0.5'), 'openmetrics');
  });

  it('keeps one set of children per label combination, so the hot path allocates none', async () => {
    const metrics = new WharfMetrics({
      manifestCache: { hits: 0, misses: 0 }, uploads: { totals: () => ({ sessions: 0, stagedBytes: 0 }) },
      metadata: { usageByNamespace: async () => [] }, apiRoutes: () => [],
    });
    const socket = { bytesRead: 0, bytesWritten: 0 };
    const ctx = { method: 'GET', path: '/v2/x/manifests/v1', req: { socket, headers: {} } } as never;
    for (let i = 0; i < 1000; i++) metrics.requestFinished(ctx, 200, 0.3);
    const text = await metrics.scrape('prometheus');
    assert.equal(sample(text, 'wharf_http_requests_total', { route: '/v2/{name}/manifests/{reference}', method: 'GET', status_class: '2xx' }), 1000);
    assert.equal(sample(text, 'wharf_http_request_duration_seconds_bucket', { route: '/v2/{name}/manifests/{reference}', method: 'GET', status_class: '2xx', le: '0.0005' }), 1000);
    assert.equal(sample(text, 'wharf_http_request_duration_seconds_bucket', { route: '/v2/{name}/manifests/{reference}', method: 'GET', status_class: '2xx', le: '0.00025' }), undefined);
  });
});

describe('storage per namespace', () => {
  it('is computed at the first scrape, then served from the last figures and refreshed after answering once stale', async () => {
    let figures = [{ namespace: 'team', storageBytes: 10, artifacts: 1 }];
    let scans = 0;
    const errors: string[] = [];
    const metrics = new WharfMetrics({
      manifestCache: { hits: 0, misses: 0 }, uploads: { totals: () => ({ sessions: 0, stagedBytes: 0 }) },
      metadata: { usageByNamespace: async () => { scans++; if (figures.length === 0) throw new Error('database gone'); return figures; } },
      apiRoutes: () => [], onError: (_error, message) => errors.push(message),
    });
    const at = 1_000_000;
    assert.equal(sample(await metrics.scrape('prometheus', at), 'wharf_namespace_storage_bytes', { namespace: 'team' }), 10);
    figures = [{ namespace: 'team', storageBytes: 20, artifacts: 2 }];
    assert.equal(sample(await metrics.scrape('prometheus', at + 5_000), 'wharf_namespace_storage_bytes', { namespace: 'team' }), 10);
    assert.equal(scans, 1, 'fresh figures are not recomputed');
    assert.equal(sample(await metrics.scrape('prometheus', at + 11_000), 'wharf_namespace_storage_bytes', { namespace: 'team' }), 10, 'stale figures are served');
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(scans, 2, 'and refreshed after answering');
    assert.equal(sample(await metrics.scrape('prometheus', at + 12_000), 'wharf_namespace_storage_bytes', { namespace: 'team' }), 20);
    figures = [];
    const text = await metrics.scrape('prometheus', at + 30_000);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(sample(text, 'wharf_namespace_storage_bytes', { namespace: 'team' }), 20);
    assert.deepEqual(errors, ['computing storage per namespace failed'], 'a failed scan is reported, the last figures stay');
  });
});

describe('route of a registry path', () => {
  it('agrees with the router\'s matchRegistryPath on any path', () => {
    const segment = fc.constantFrom('v2', 'a', 'b', 'manifests', 'blobs', 'uploads', 'tags', 'list', 'referrers', '_catalog', '', 'sha256:ab');
    const paths = fc.array(segment, { minLength: 0, maxLength: 7 }).map((segments) => `/${segments.join('/')}`);
    const registryPaths = fc.array(segment, { minLength: 0, maxLength: 6 }).map((segments) => `/v2/${segments.join('/')}`);
    fc.assert(fc.property(fc.oneof(paths, registryPaths), (path) => {
      assert.equal(registryRouteOf(path), matchRegistryPath(path)?.route, path);
    }), { numRuns: 20_000 });
  });
});

describe('a metrics listener that cannot start', () => {
  it('stops the registry\'s start-up with the key and the reason', async () => {
    const { createServer } = await import('node:net');
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      await assert.rejects(startTestRegistry({ WHARF_METRICS_LISTEN: `127.0.0.1:${port}` }), /config key metrics\.listen: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});
