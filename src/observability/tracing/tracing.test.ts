// Traces exported over OTLP/HTTP (JSON) to a small collector of the test's own, which decodes
// what arrives: one server span per request continuing the caller's W3C traceparent, with storage,
// database and policy calls as its children, and the trace id in the request's log line.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadConfig } from '../../config/config.ts';
import { extensionsFor } from '../../server/extensions.ts';
import { listen } from '../../server/http-server.ts';
import { createRegistryApp } from '../../server/registry-app.ts';
import { SqliteMetadataStore } from '../../storage/metadata/sqlite-metadata-store.ts';
import { pushImage, startTestRegistry } from '../../../test/support/registry-fixture.ts';

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

/** An OTLP/HTTP receiver: decodes each JSON export request and keeps its spans. */
async function startCollector(): Promise<{ url: string; spans: ExportedSpan[]; services: string[]; server: Server }> {
  const spans: ExportedSpan[] = [];
  const services: string[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
      res.writeHead(400).end();
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString()) as {
      resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: ExportedSpan[] }[] }[];
    };
    for (const resourceSpans of body.resourceSpans) {
      const service = resourceSpans.resource.attributes.find((attribute) => attribute.key === 'service.name')?.value.stringValue;
      if (service) services.push(service);
      for (const scopeSpans of resourceSpans.scopeSpans) spans.push(...scopeSpans.spans);
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/v1/traces`, spans, services, server };
}

function attribute(span: ExportedSpan, key: string): unknown {
  const value = span.attributes?.find((entry) => entry.key === key)?.value;
  return value && Object.values(value)[0];
}

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

describe('traces over OTLP', () => {
  const logLines: Record<string, unknown>[] = [];
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let spans: ExportedSpan[];
  let responseTraceparent: string | null;
  let pushTraceparent: string | null;

  before(async () => {
    collector = await startCollector();
    const dataDir = await mkdtemp(join(tmpdir(), 'wharf-tracing-'));
    const config = loadConfig({ env: { WHARF_LISTEN: '127.0.0.1:0', WHARF_DATA: dataDir, WHARF_TRACING_OTLP_ENDPOINT: collector.url, WHARF_TRACING_SERVICE_NAME: 'wharf-under-test' } });
    const logs = new Writable({ write(chunk, _encoding, done) { for (const line of String(chunk).split('\n')) if (line) logLines.push(JSON.parse(line)); done(); } });
    const app = await createRegistryApp(config, pino({ level: 'info', base: undefined }, logs), await extensionsFor(config));
    const running = await listen(app, config.listen.host, config.listen.port);
    try {
      const policy = `package wharf.traced\n\ndeny contains "no latest" if {\n\tinput.artifact.tag == "latest"\n}\n`;
      const created = await fetch(`${running.url}/api/v1/policies/traced`, {
        method: 'PUT', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ package: 'wharf.traced', modules: [{ file: 'p.rego', source: policy }], binding: { points: ['push'] } }),
      });
      assert.equal(created.status, 201);
      const pushed = await pushImage(running.url, 'team/app', 'v1');
      pushTraceparent = pushed.response.headers.get('traceparent');
      const pulled = await fetch(`${running.url}/v2/team/app/manifests/v1`, { headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` } });
      assert.equal(pulled.status, 200);
      responseTraceparent = pulled.headers.get('traceparent');
    } finally {
      await running.stop(1000);
      await app.close(); // sends the spans still queued
      await rm(dataDir, { recursive: true, force: true });
    }
    spans = collector.spans;
  });
  after(() => new Promise<void>((resolve) => collector.server.close(() => resolve())));

  it('continues the caller\'s trace in a server span named by the route template', () => {
    const pull = spans.find((span) => span.traceId === CALLER_TRACE && span.kind === 2);
    assert.ok(pull, `a server span in the caller's trace among ${spans.map((span) => span.name).join(', ')}`);
    assert.equal(pull.name, 'GET /v2/{name}/manifests/{reference}');
    assert.equal(pull.parentSpanId, CALLER_SPAN);
    assert.equal(attribute(pull, 'http.response.status_code'), 200);
    assert.deepEqual([...new Set(collector.services)], ['wharf-under-test']);
    assert.equal(responseTraceparent, `00-${CALLER_TRACE}-${pull.spanId}-01`, 'the response names the span that served it');
  });

  it('records database calls as children of the request span', () => {
    const pull = spans.find((span) => span.traceId === CALLER_TRACE && span.kind === 2)!;
    const lookup = spans.find((span) => span.parentSpanId === pull.spanId && span.name === 'db.getManifestByTag');
    assert.ok(lookup, 'the tag lookup is a child span');
    assert.equal(attribute(lookup, 'db.system.name'), 'sqlite');
  });

  it('records storage and policy evaluation in the push\'s trace', () => {
    const pushTrace = pushTraceparent!.split('-')[1];
    const push = spans.find((span) => span.traceId === pushTrace && span.kind === 2)!;
    assert.equal(push.name, 'PUT /v2/{name}/manifests/{reference}');
    const decide = spans.find((span) => span.traceId === pushTrace && span.name === 'policy.decide');
    assert.ok(decide, 'the policy evaluation is a span');
    assert.equal(decide.parentSpanId, push.spanId);
    assert.equal(attribute(decide, 'wharf.policy.point'), 'push');
    const blobUploads = spans.filter((span) => span.name.startsWith('storage.blobs.') && span.kind !== 2);
    assert.ok(blobUploads.some((span) => span.name === 'storage.blobs.commit'), 'blob commits of the layer uploads are spans');
  });

  it('writes the trace id in each request\'s log line', () => {
    const pullLine = logLines.find((line) => line.msg === 'request' && line.path === '/v2/team/app/manifests/v1' && line.method === 'GET');
    assert.equal(pullLine?.traceId, CALLER_TRACE);
    const requestLines = logLines.filter((line) => line.msg === 'request');
    assert.ok(requestLines.length > 3 && requestLines.every((line) => typeof line.traceId === 'string' && /^[0-9a-f]{32}$/.test(line.traceId)));
  });
});

/** Starts a registry in a fresh process, serves one request, and lists the URLs of the modules it loaded. */
function modulesLoadedByARegistry(env: Record<string, string>): string[] {
  const fixture = fileURLToPath(new URL('../../../test/support/registry-fixture.ts', import.meta.url));
  const script = `
    import { registerHooks } from 'node:module';
    const loaded = new Set();
    registerHooks({ resolve(specifier, context, next) { const resolved = next(specifier, context); loaded.add(resolved.url); return resolved; } });
    const { startTestRegistry } = await import(process.argv[1]);
    const registry = await startTestRegistry(JSON.parse(process.argv[2]));
    await fetch(registry.url + '/v2/');
    await registry.close();
    console.log(JSON.stringify([...loaded]));
  `;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script, fixture, JSON.stringify(env)], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }));
}

describe('tracing off', () => {
  it('loads no tracing code nor OpenTelemetry SDK, and does once tracing is configured', () => {
    // prom-client itself requires @opentelemetry/api (a small no-op facade) for exemplars.
    const tracingCode = (url: string) => url.includes('/observability/tracing/') || (url.includes('/@opentelemetry/') && !url.includes('/@opentelemetry/api/'));
    assert.deepEqual(modulesLoadedByARegistry({}).filter(tracingCode), []);
    const withoutMetrics = modulesLoadedByARegistry({ WHARF_METRICS_ENABLED: 'false' });
    assert.deepEqual(withoutMetrics.filter((url) => url.includes('opentelemetry') || url.includes('prom-client') || url.includes('metrics-extension') || url.includes('/observability/tracing/')), []);
    const traced = modulesLoadedByARegistry({ WHARF_TRACING_OTLP_ENDPOINT: 'http://127.0.0.1:9/v1/traces' });
    assert.ok(traced.some((url) => url.includes('exporter-trace-otlp-http')), 'the check sees modules when they load');
  });

  it('leaves the stores undecorated and the log lines without trace ids', async () => {
    const registry = await startTestRegistry();
    try {
      assert.equal(registry.app.deps.metadata.getManifestByTag, SqliteMetadataStore.prototype.getManifestByTag);
      const response = await fetch(`${registry.url}/v2/`, { headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` } });
      assert.equal(response.headers.get('traceparent'), null);
    } finally {
      await registry.close();
    }
  });
});
