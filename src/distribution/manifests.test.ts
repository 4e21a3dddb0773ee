import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  OCI_INDEX, OCI_MANIFEST, errorCodes, pushBlob, pushImage, pushManifest, rawRequest, sha256, startTestRegistry, type TestRegistry, json,
} from '../../test/support/registry-fixture.ts';

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

describe('manifests', () => {
  let registry: TestRegistry;
  let url: string;
  before(async () => {
    registry = await startTestRegistry({ WHARF_LIMITS_MAX_MANIFEST_BYTES: '4096' });
    url = registry.url;
  });
  after(() => registry.close());

  const put = (repository: string, reference: string, body: string | Buffer, contentType = OCI_MANIFEST) =>
    fetch(`${url}/v2/${repository}/manifests/${reference}`, { method: 'PUT', body, headers: { 'content-type': contentType } });

  it('stores a manifest byte for byte and serves it by tag and by digest', async () => {
    const image = await pushImage(url, 'bytes/app', 'v1', { annotations: { z: '1', a: '2' } });
    assert.equal(image.response.headers.get('location'), `/v2/bytes/app/manifests/${image.digest}`);
    assert.equal(image.response.headers.get('docker-content-digest'), image.digest);
    for (const reference of ['v1', image.digest]) {
      const response = await fetch(`${url}/v2/bytes/app/manifests/${reference}`, { headers: { accept: OCI_MANIFEST } });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), OCI_MANIFEST);
      assert.equal(response.headers.get('docker-content-digest'), image.digest);
      assert.deepEqual(Buffer.from(await response.arrayBuffer()), image.bytes);
    }
    const head = await fetch(`${url}/v2/bytes/app/manifests/v1`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(image.size));
  });

  it('keeps whitespace and key order exactly as pushed', async () => {
    const config = await pushBlob(url, 'pretty/app', '{}');
    const text = `{\n  "schemaVersion": 2,\n  "mediaType": "${OCI_MANIFEST}",\n  "config": ${JSON.stringify(config)},\n  "layers": []\n}\n`;
    const response = await put('pretty/app', 'v1', text);
    assert.equal(response.status, 201);
    assert.equal(await (await fetch(`${url}/v2/pretty/app/manifests/v1`)).text(), text);
    assert.equal(response.headers.get('docker-content-digest'), sha256(text));
  });

  it('accepts a push by digest and refuses one whose digest does not match', async () => {
    const config = await pushBlob(url, 'bydigest/app', '{}');
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] });
    assert.equal((await put('bydigest/app', sha256(body), body)).status, 201);
    const wrong = await put('bydigest/app', sha256('other'), body);
    assert.equal(wrong.status, 400);
    assert.deepEqual(await errorCodes(wrong), ['DIGEST_INVALID']);
  });

  it('accepts Docker schema 2 manifests and manifest lists, and OCI indexes', async () => {
    const config = await pushBlob(url, 'docker/app', '{}');
    const layer = await pushBlob(url, 'docker/app', 'layer');
    const manifest = await pushManifest(url, 'docker/app', 'v2', { schemaVersion: 2, mediaType: DOCKER_MANIFEST, config, layers: [layer] }, DOCKER_MANIFEST);
    const child = { mediaType: DOCKER_MANIFEST, digest: manifest.digest, size: manifest.size, platform: { os: 'linux', architecture: 'amd64' } };
    await pushManifest(url, 'docker/app', 'list', { schemaVersion: 2, mediaType: DOCKER_LIST, manifests: [child] }, DOCKER_LIST);
    await pushManifest(url, 'docker/app', 'index', { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [child] }, OCI_INDEX);
    const response = await fetch(`${url}/v2/docker/app/manifests/list`, { headers: { accept: DOCKER_LIST } });
    assert.equal(response.headers.get('content-type'), DOCKER_LIST);
  });

  it('refuses a manifest whose blobs or child manifests are not in the repository', async () => {
    const config = await pushBlob(url, 'elsewhere/app', '{"other":1}');
    const missingBlob = await put('refs/app', 'v1', JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] }));
    assert.equal(missingBlob.status, 400);
    assert.deepEqual(await errorCodes(missingBlob), ['MANIFEST_BLOB_UNKNOWN']);
    const missingChild = await put('refs/app', 'v1', JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256('x'), size: 1 }] }), OCI_INDEX);
    assert.deepEqual(await errorCodes(missingChild), ['MANIFEST_BLOB_UNKNOWN']);
    assert.equal((await fetch(`${url}/v2/refs/app/manifests/v1`)).status, 404, 'nothing stored');
  });

  it('refuses schema 1, malformed JSON, unknown media types and invalid descriptors with MANIFEST_INVALID', async () => {
    const cases: [string, string][] = [
      [JSON.stringify({ schemaVersion: 1, name: 'bad/app', tag: 'v1', fsLayers: [], history: [], signatures: [] }), 'application/vnd.docker.distribution.manifest.v1+prettyjws'],
      ['{"schemaVersion": 2, ', OCI_MANIFEST],
      ['[]', OCI_MANIFEST],
      [JSON.stringify({ schemaVersion: 2, mediaType: 'application/x-unknown', layers: [] }), 'application/x-unknown'],
      [JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'a/b', digest: 'nope', size: 1 }, layers: [] }), OCI_MANIFEST],
      [JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }), OCI_MANIFEST],
    ];
    for (const [body, contentType] of cases) {
      const response = await put('bad/app', 'v1', body, contentType);
      assert.equal(response.status, 400, body);
      assert.deepEqual(await errorCodes(response), ['MANIFEST_INVALID'], body);
    }
    const schema1 = await put('bad/app', 'v1', cases[0]![0], cases[0]![1]);
    assert.match(JSON.stringify(await json(schema1)), /schema 1 is not supported/);
    assert.equal((await fetch(`${url}/v2/bad/app/tags/list`)).status, 404, 'no repository was created');
  });

  it('refuses a manifest over the size limit with 413', async () => {
    const response = await put('big/app', 'v1', JSON.stringify({ schemaVersion: 2, padding: 'x'.repeat(5000) }));
    assert.equal(response.status, 413);
    assert.deepEqual(await errorCodes(response), ['SIZE_INVALID']);
  });

  it('refuses invalid tags, digests and repository names', async () => {
    const badTag = await fetch(`${url}/v2/ok/app/manifests/-bad`);
    assert.deepEqual([badTag.status, await errorCodes(badTag)], [400, ['TAG_INVALID']]);
    const badDigest = await fetch(`${url}/v2/ok/app/manifests/sha256:1234`);
    assert.deepEqual([badDigest.status, await errorCodes(badDigest)], [400, ['DIGEST_INVALID']]);
    for (const name of ['Upper/app', 'a/../b', 'a//b', '../etc', 'a/./b', 'a%2Fb', 'a'.repeat(256)]) {
      const response = await rawRequest(url, 'GET', `/v2/${name}/manifests/latest`);
      assert.equal(response.status, 400, name);
      assert.equal(JSON.parse(response.body).errors[0].code, 'NAME_INVALID', name);
    }
  });

  it('answers MANIFEST_UNKNOWN for unknown tags and digests', async () => {
    for (const reference of ['nope', sha256('nope')]) {
      const response = await fetch(`${url}/v2/unknown/app/manifests/${reference}`);
      assert.deepEqual([response.status, await errorCodes(response)], [404, ['MANIFEST_UNKNOWN']]);
    }
  });

  it('negotiates content: an OCI manifest is not served to a client accepting only Docker types', async () => {
    await pushImage(url, 'negotiate/app', 'v1');
    const docker = await fetch(`${url}/v2/negotiate/app/manifests/v1`, { headers: { accept: DOCKER_MANIFEST } });
    assert.deepEqual([docker.status, await errorCodes(docker)], [404, ['MANIFEST_UNKNOWN']]);
    for (const accept of [`${DOCKER_MANIFEST}, ${OCI_MANIFEST}`, '*/*', `${OCI_MANIFEST};q=0.9`]) {
      assert.equal((await fetch(`${url}/v2/negotiate/app/manifests/v1`, { headers: { accept } })).status, 200, accept);
    }
  });

  it('moves a tag to a newly pushed manifest, also for a cached tag', async () => {
    const first = await pushImage(url, 'retag/app', 'latest');
    assert.equal((await fetch(`${url}/v2/retag/app/manifests/latest`)).headers.get('docker-content-digest'), first.digest);
    const second = await pushImage(url, 'retag/app', 'latest');
    assert.equal((await fetch(`${url}/v2/retag/app/manifests/latest`)).headers.get('docker-content-digest'), second.digest);
  });

  it('deletes a tag alone, or a manifest with all its tags', async () => {
    const image = await pushImage(url, 'delete/app', 'a');
    await pushManifest(url, 'delete/app', 'b', JSON.parse(image.bytes.toString()));
    await fetch(`${url}/v2/delete/app/manifests/b`);
    assert.equal((await fetch(`${url}/v2/delete/app/manifests/b`, { method: 'DELETE' })).status, 202);
    assert.equal((await fetch(`${url}/v2/delete/app/manifests/b`)).status, 404);
    assert.equal((await fetch(`${url}/v2/delete/app/manifests/a`)).status, 200);
    assert.equal((await fetch(`${url}/v2/delete/app/manifests/${image.digest}`, { method: 'DELETE' })).status, 202);
    assert.equal((await fetch(`${url}/v2/delete/app/manifests/a`)).status, 404, 'the cached tag went with it');
    const again = await fetch(`${url}/v2/delete/app/manifests/${image.digest}`, { method: 'DELETE' });
    assert.deepEqual([again.status, await errorCodes(again)], [404, ['MANIFEST_UNKNOWN']]);
  });

  it('sets OCI-Subject on a push with a subject, even when the subject is not there yet', async () => {
    const empty = await pushBlob(url, 'subject/app', '{}', 'application/vnd.oci.empty.v1+json');
    const subject = { mediaType: OCI_MANIFEST, digest: sha256('future image'), size: 12 };
    const artifact = await pushManifest(url, 'subject/app', sha256('placeholder').replace(/.*/, 'sig'), {
      schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/example.sig', config: empty, layers: [empty], subject,
    });
    assert.equal(artifact.response.headers.get('oci-subject'), subject.digest);
  });

  it('accepts the same manifest pushed by many clients at once, storing one copy', async () => {
    const image = await pushImage(url, 'race/app', 'seed');
    const responses = await Promise.all(Array.from({ length: 24 }, (_, i) =>
      put('race/app', i % 2 === 0 ? 'same' : image.digest, image.bytes)));
    assert.deepEqual(responses.map((r) => r.status), Array(24).fill(201));
    assert.ok(responses.every((r) => r.headers.get('docker-content-digest') === image.digest));
    const tags = await json(await fetch(`${url}/v2/race/app/tags/list`));
    assert.deepEqual(tags.tags, ['same', 'seed']);
  });
});
