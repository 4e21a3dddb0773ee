import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BundleError, readBundle } from './opa-bundle.ts';
import { json, pushBlob, pushManifest, startTestRegistry, type TestRegistry } from '../../../test/support/registry-fixture.ts';

const POLICY = 'package bundled.rules\n\ndeny contains msg if {\n\tsome label in data.bundled.required\n\tnot input.artifact.annotations[label]\n\tmsg := sprintf("annotation %s is required", [label])\n}\n';

/** An OPA bundle made the way `opa build` lays it out, packed by the system tar. */
async function makeBundle(): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-bundle-'));
  try {
    await mkdir(join(dir, 'bundled'), { recursive: true });
    await writeFile(join(dir, 'bundled', 'rules.rego'), POLICY);
    await writeFile(join(dir, 'bundled', 'rules_test.rego'), 'package bundled.rules\n\ntest_x if true\n');
    await writeFile(join(dir, 'bundled', 'data.json'), JSON.stringify({ required: ['org.opencontainers.image.source'] }));
    await writeFile(join(dir, '.manifest'), JSON.stringify({ revision: 'rev-7', roots: ['bundled'] }));
    execFileSync('tar', ['-czf', join(dir, 'bundle.tar.gz'), '-C', dir, '.manifest', 'bundled']);
    return await readFile(join(dir, 'bundle.tar.gz'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('OPA bundles', () => {
  let registry: TestRegistry;
  let bundle: Buffer;
  before(async () => {
    registry = await startTestRegistry();
    bundle = await makeBundle();
  });
  after(() => registry.close());

  it('reads modules, data at their path and the revision, skipping tests', () => {
    const read = readBundle(bundle);
    assert.deepEqual(read.modules.map((m) => m.file), ['bundled/rules.rego']);
    assert.deepEqual(read.data, { bundled: { required: ['org.opencontainers.image.source'] } });
    assert.equal(read.revision, 'rev-7');
  });

  it('refuses what is not a bundle, precisely', () => {
    assert.throws(() => readBundle(Buffer.from('not gzip')), BundleError);
    assert.throws(() => readBundle(gzipSync(Buffer.alloc(1024))), /no \.rego module/);
    assert.throws(() => readBundle(gzipSync(bundle.subarray(0, 10))), BundleError);
    const truncated = gzipSync(Buffer.concat([Buffer.from(execFileSync('gzip', ['-dc'], { input: bundle })).subarray(0, 700)]));
    assert.throws(() => readBundle(truncated), /truncated|no \.rego/);
  });

  it('loads a policy from a bundle stored in Wharf as an OCI artifact and enforces it', async () => {
    const url = registry.url;
    const config = await pushBlob(url, 'platform/policies', '{}', 'application/vnd.oci.image.config.v1+json');
    const layer = await pushBlob(url, 'platform/policies', bundle, 'application/vnd.oci.image.layer.v1.tar+gzip');
    await pushManifest(url, 'platform/policies', 'v1', { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [layer] });
    const put = await fetch(`${url}/api/v1/policies/source-required`, {
      method: 'PUT', body: JSON.stringify({ ociReference: 'platform/policies:v1', package: 'bundled.rules', binding: { points: ['push'], namespaces: ['apps'] } }),
    });
    assert.equal(put.status, 201, JSON.stringify(await json(put.clone())));
    const stored = await json(await fetch(`${url}/api/v1/policies/source-required`));
    assert.match(stored.origin, /^oci:platform\/policies@sha256:/);
    const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: await pushBlob(url, 'apps/web', '{}'), layers: [] };
    await assert.rejects(pushManifest(url, 'apps/web', 'v1', manifest), /annotation org\.opencontainers\.image\.source is required/);
    await pushManifest(url, 'apps/web', 'v1', { ...manifest, annotations: { 'org.opencontainers.image.source': 'https://example.invalid/web' } });
    const missing = await fetch(`${url}/api/v1/policies/x`, { method: 'PUT', body: JSON.stringify({ ociReference: 'platform/policies:nope', package: 'bundled.rules' }) });
    assert.equal(missing.status, 400);
    assert.match((await json(missing)).errors[0].message, /no manifest platform\/policies:nope/);
  });
});
