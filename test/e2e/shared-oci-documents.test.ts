// The OCI documents of the shared test data (../shared/testdata/oci, apart from the oras layout,
// which shared-oras-layout.test.ts covers) pushed over HTTP with their expected results: the Helm
// chart round-trips under the digest helm's own test asserts, the manifest with an empty config
// digest is refused as invalid, and the documents whose blobs are not part of the data set parse
// as valid manifests that are refused only for the content they reference.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { pushBlob, putManifest, sha256Of } from './registry-http.ts';
import { sharedTestdataPath, sharedTestdataSkip } from './shared-testdata.ts';
import { startTargetRegistry } from './target-registry.ts';
import type { RunningRegistry } from './child-lifecycle.ts';

const REPO = 'e2e/shared-oci';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

interface OciError { code: string; message: string; detail?: unknown }

async function errorsOf(response: Response): Promise<OciError[]> {
  const body = await response.json() as { errors?: OciError[] };
  assert.ok(Array.isArray(body.errors) && body.errors.length > 0, `not an OCI error body: ${JSON.stringify(body)}`);
  return body.errors;
}

/** A manifest PUT whose refusal the test expects (registry-http's putManifest insists on 201). */
function putExpectingRefusal(registry: RunningRegistry, reference: string, mediaType: string, bytes: Uint8Array): Promise<Response> {
  return fetch(`${registry.url}/v2/${REPO}/manifests/${reference}`, { method: 'PUT', headers: { 'content-type': mediaType }, body: bytes, signal: AbortSignal.timeout(60_000) });
}

const read = (...parts: string[]) => readFile(sharedTestdataPath('oci', ...parts));

describe('OCI documents of the shared test data', { skip: sharedTestdataSkip() }, () => {
  let registry: RunningRegistry;
  before(async () => { registry = await startTargetRegistry(); });
  after(async () => { await registry?.stop(); });

  test('helm-chart: blobs and manifest push, the digest is the one helm asserts, and pull returns the same bytes', async () => {
    const manifestBytes = await read('helm-chart', 'manifest.json');
    const manifest = JSON.parse(manifestBytes.toString()) as { config: { digest: string; size: number }; layers: { digest: string; size: number }[] };
    for (const descriptor of [manifest.config, ...manifest.layers]) {
      const blob = await read('helm-chart', 'blobs', 'sha256', descriptor.digest.slice('sha256:'.length));
      assert.equal(blob.length, descriptor.size);
      assert.equal((await pushBlob(registry.url, REPO, blob)).digest, descriptor.digest);
    }
    const expected = 'sha256:fbbade96da6050f68f94f122881e3b80051a18f13ab5f4081868dd494538f5c2';
    assert.equal(sha256Of(manifestBytes), expected);
    const put = await putManifest(registry.url, REPO, 'signtest-0.1.0', OCI_MANIFEST, manifestBytes);
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('docker-content-digest'), expected);
    const pulled = await fetch(`${registry.url}/v2/${REPO}/manifests/${expected}`, { headers: { accept: OCI_MANIFEST } });
    assert.equal(pulled.status, 200);
    assert.deepEqual(Buffer.from(await pulled.arrayBuffer()), manifestBytes);
  });

  test('invalid/oci-artifact-empty-config-digest: MUST BE REJECTED as MANIFEST_INVALID', async () => {
    const response = await putExpectingRefusal(registry, 'invalid', OCI_MANIFEST, await read('invalid', 'oci-artifact-empty-config-digest.json'));
    assert.equal(response.status, 400);
    assert.equal((await errorsOf(response))[0]!.code, 'MANIFEST_INVALID');
  });

  test('wasm: the digest the Harbor test names; with only the config pushed it is refused for the missing layer alone', async () => {
    const bytes = await read('wasm', 'wasm-to-oci.manifest.json');
    assert.equal(sha256Of(bytes), 'sha256:de887d93431e0def1f8d6daf2b695ab2a581443835fc30a0297b6592921cc9df');
    const manifest = JSON.parse(bytes.toString()) as { config: { digest: string }; layers: { digest: string }[] };
    assert.equal(manifest.config.digest, sha256Of(Buffer.from('{}')));
    await pushBlob(registry.url, REPO, Buffer.from('{}'));
    const response = await putExpectingRefusal(registry, 'wasm', OCI_MANIFEST, bytes);
    assert.equal(response.status, 400);
    const [error] = await errorsOf(response);
    assert.equal(error!.code, 'MANIFEST_BLOB_UNKNOWN');
    assert.ok(error!.message.includes(manifest.layers[0]!.digest) && !error!.message.includes(manifest.config.digest), error!.message);
  });

  const withoutBlobs: [string[], string, number][] = [
    [['docker', 'schema2-manifest-list.busybox.json'], 'application/vnd.docker.distribution.manifest.list.v2+json', 7],
    [['docker', 'schema2-manifest.json'], 'application/vnd.docker.distribution.manifest.v2+json', 0],
    [['oci-image-manifest.json'], OCI_MANIFEST, 0],
    [['oci-image-index.json'], 'application/vnd.oci.image.index.v1+json', 0],
  ];
  for (const [parts, mediaType, platforms] of withoutBlobs) {
    test(`${parts.join('/')}: a valid ${mediaType.split('/')[1]}, refused only because its content is not in the data set`, async () => {
      const bytes = await read(...parts);
      const document = JSON.parse(bytes.toString()) as { manifests?: { platform?: { architecture: string } }[] };
      if (platforms > 0) assert.equal(document.manifests?.filter((entry) => entry.platform?.architecture).length, platforms);
      const response = await putExpectingRefusal(registry, parts.at(-1)!.replace(/[^a-z0-9]+/gi, '-').toLowerCase(), mediaType, bytes);
      assert.equal(response.status, 400);
      assert.equal((await errorsOf(response))[0]!.code, 'MANIFEST_BLOB_UNKNOWN');
    });
  }

  test('schema: the manifests the registry accepts or refuses for missing content carry what the image-spec schemas require', async () => {
    const schema = async (name: string) => JSON.parse((await read('schema', name)).toString()) as { required: string[] };
    const manifestRequired = (await schema('image-manifest-schema.json')).required;
    const indexRequired = (await schema('image-index-schema.json')).required;
    const descriptorRequired = (await schema('content-descriptor.json')).required;
    assert.deepEqual([manifestRequired, indexRequired, descriptorRequired], [['schemaVersion', 'config', 'layers'], ['schemaVersion', 'manifests'], ['mediaType', 'size', 'digest']]);
    const check = (document: Record<string, unknown>, required: string[], descriptors: unknown[]) => {
      for (const field of required) assert.ok(field in document, `missing ${field}`);
      for (const descriptor of descriptors) for (const field of descriptorRequired) assert.ok(field in (descriptor as object), `descriptor missing ${field}`);
    };
    for (const parts of [['helm-chart', 'manifest.json'], ['wasm', 'wasm-to-oci.manifest.json'], ['oci-image-manifest.json']]) {
      const manifest = JSON.parse((await read(...parts)).toString());
      check(manifest, manifestRequired, [manifest.config, ...manifest.layers]);
    }
    const index = JSON.parse((await read('oci-image-index.json')).toString());
    check(index, indexRequired, index.manifests);
    // The invalid manifest is refused for what the schema cannot see: an empty digest and null layers.
    const invalid = JSON.parse((await read('invalid', 'oci-artifact-empty-config-digest.json')).toString());
    assert.equal(invalid.config.digest, '');
    assert.equal(invalid.layers, null);
  });
});
