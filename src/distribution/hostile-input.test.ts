// Whatever a client sends, the registry answers with a 4xx/2xx and the spec's error body: never a
// 500, never a hang, and nothing it already stored changes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { request } from 'node:http';
import { pushImage, startTestRegistry, type TestRegistry } from '../../test/support/registry-fixture.ts';

interface Answer { status: number; body: string }

function send(url: string, method: string, path: string, headers: Record<string, string>, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const framed = { ...headers, 'content-length': String(body.length) };
    const req = request({ host: target.hostname, port: target.port, method, path, headers: framed, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout on ${method} ${path}`)));
    req.on('error', reject);
    req.end(body);
  });
}

const segment = fc.oneof(
  fc.constantFrom('v2', 'a', 'team', 'app', '..', '.', '', 'blobs', 'uploads', 'manifests', 'tags', 'list', 'referrers', '_catalog', 'latest', '%2e%2e', 'A', '-x'),
  fc.stringMatching(/^[a-z0-9:._-]{1,20}$/),
  fc.constant(`sha256:${'0'.repeat(64)}`),
);
const path = fc.array(segment, { minLength: 1, maxLength: 7 }).chain((parts) =>
  fc.tuple(fc.constant(`/v2/${parts.join('/')}`), fc.constantFrom('', '?n=2', '?n=-1', '?last=zz', '?digest=sha256:00', '?mount=x&from=y', '?artifactType=a%2Bb')))
  .map(([p, q]) => p + q);
const headers = fc.record({
  'content-type': fc.constantFrom('application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json', 'text/plain', 'application/json', ''),
  'content-range': fc.constantFrom('0-3', '5-1', 'bytes=0-1', 'x', '0-0'),
  range: fc.constantFrom('bytes=0-1', 'bytes=5-', 'bytes=-3', 'nonsense', 'bytes=9999999-'),
  accept: fc.constantFrom('*/*', 'application/vnd.docker.distribution.manifest.v2+json', 'text/html'),
}, { requiredKeys: [] });
const body = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
  fc.constant(Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[{}]}')),
);

describe('hostile input', () => {
  let registry: TestRegistry;
  before(async () => { registry = await startTestRegistry(); });
  after(() => registry.close());

  it('never answers 5xx to arbitrary methods, paths, headers and bodies, and keeps stored content', async () => {
    const image = await pushImage(registry.url, 'keep/app', 'v1');
    await fc.assert(fc.asyncProperty(
      fc.constantFrom('GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS'), path, headers, body,
      async (method, target, sent, payload) => {
        const answer = await send(registry.url, method, target, sent as Record<string, string>, payload);
        assert.ok(answer.status >= 200 && answer.status < 500, `${method} ${target} → ${answer.status} ${answer.body}`);
        if (answer.status >= 400 && method !== 'HEAD') {
          const parsed = JSON.parse(answer.body) as { errors: { code: string; message: string }[] };
          assert.ok(parsed.errors.length > 0 && typeof parsed.errors[0]!.code === 'string');
        }
      },
    ), { numRuns: 400 });
    const kept = await fetch(`${registry.url}/v2/keep/app/manifests/v1`);
    assert.deepEqual(Buffer.from(await kept.arrayBuffer()), image.bytes);
  });
});
