import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  OCI_INDEX, OCI_MANIFEST, errorCodes, pushBlob, pushImage, pushManifest, sha256, startTestRegistry, type TestRegistry, json,
} from '../../test/support/registry-fixture.ts';

describe('tags, catalog and referrers', () => {
  let registry: TestRegistry;
  let url: string;
  before(async () => {
    registry = await startTestRegistry();
    url = registry.url;
  });
  after(() => registry.close());

  it('lists tags in order and pages them with n, last and a Link header', async () => {
    const image = await pushImage(url, 'tags/app', 'v3');
    const manifest = JSON.parse(image.bytes.toString());
    for (const tag of ['v1', 'v2', 'latest']) await pushManifest(url, 'tags/app', tag, manifest);
    const all = await fetch(`${url}/v2/tags/app/tags/list`);
    assert.deepEqual(await json(all), { name: 'tags/app', tags: ['latest', 'v1', 'v2', 'v3'] });
    assert.equal(all.headers.get('link'), null);
    const first = await fetch(`${url}/v2/tags/app/tags/list?n=2`);
    assert.deepEqual((await json(first)).tags, ['latest', 'v1']);
    assert.equal(first.headers.get('link'), '</v2/tags/app/tags/list?n=2&last=v1>; rel="next"');
    const second = await fetch(`${url}/v2/tags/app/tags/list?n=2&last=v1`);
    assert.deepEqual((await json(second)).tags, ['v2', 'v3']);
    assert.equal(second.headers.get('link'), null, 'no Link on the last page');
    assert.deepEqual((await json(await fetch(`${url}/v2/tags/app/tags/list?n=0`))).tags, []);
  });

  it('refuses a bad page size and answers NAME_UNKNOWN for an unknown repository', async () => {
    for (const n of ['-1', 'ten', '1.5']) {
      const response = await fetch(`${url}/v2/tags/app/tags/list?n=${n}`);
      assert.deepEqual([response.status, await errorCodes(response)], [400, ['PAGINATION_NUMBER_INVALID']], n);
    }
    const unknown = await fetch(`${url}/v2/never/pushed/tags/list`);
    assert.deepEqual([unknown.status, await errorCodes(unknown)], [404, ['NAME_UNKNOWN']]);
  });

  it('lists repositories in the catalog with the same pagination', async () => {
    await pushBlob(url, 'catalog/a', 'a');
    await pushBlob(url, 'catalog/b', 'b');
    const all = (await json(await fetch(`${url}/v2/_catalog`))).repositories as string[];
    assert.ok(all.includes('catalog/a') && all.includes('catalog/b'));
    assert.deepEqual(all, [...all].sort());
    const page = await fetch(`${url}/v2/_catalog?n=1&last=catalog/a`);
    assert.deepEqual((await json(page)).repositories, ['catalog/b']);
    assert.match(page.headers.get('link') ?? '', /^<\/v2\/_catalog\?n=1&last=catalog%2Fb>; rel="next"$/);
  });

  it('lists referrers of a subject as an OCI index, filtered by artifactType', async () => {
    const subject = await pushImage(url, 'refs/app', 'v1');
    const empty = await pushBlob(url, 'refs/app', '{}', 'application/vnd.oci.empty.v1+json');
    const sbomLayer = await pushBlob(url, 'refs/app', '{"spdxVersion":"SPDX-2.3"}', 'application/spdx+json');
    const subjectDescriptor = { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size };
    const sbom = await pushManifest(url, 'refs/app', 'sbom', {
      schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/spdx+json', config: empty, layers: [sbomLayer],
      subject: subjectDescriptor, annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
    });
    const signature = await pushManifest(url, 'refs/app', sha256('sig').slice(0, 10).replace(':', '-'), {
      schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...empty, mediaType: 'application/vnd.example.sig.config' }, layers: [empty], subject: subjectDescriptor,
    });
    const index = await pushManifest(url, 'refs/app', 'idx', {
      schemaVersion: 2, mediaType: OCI_INDEX, artifactType: 'application/vnd.example.bundle', manifests: [], subject: subjectDescriptor,
    }, OCI_INDEX);

    const all = await fetch(`${url}/v2/refs/app/referrers/${subject.digest}`);
    assert.equal(all.status, 200);
    assert.equal(all.headers.get('content-type'), OCI_INDEX);
    assert.equal(all.headers.get('oci-filters-applied'), null);
    const body = await json(all) as { schemaVersion: number; mediaType: string; manifests: Record<string, unknown>[] };
    assert.equal(body.schemaVersion, 2);
    assert.equal(body.mediaType, OCI_INDEX);
    const byDigest = new Map(body.manifests.map((m) => [m.digest, m]));
    assert.deepEqual(byDigest.get(sbom.digest), {
      mediaType: OCI_MANIFEST, digest: sbom.digest, size: sbom.size, artifactType: 'application/spdx+json',
      annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
    });
    assert.equal(byDigest.get(signature.digest)?.artifactType, 'application/vnd.example.sig.config', 'config media type stands in for artifactType');
    assert.equal(byDigest.get(index.digest)?.mediaType, OCI_INDEX);

    const filtered = await fetch(`${url}/v2/refs/app/referrers/${subject.digest}?artifactType=application/spdx+json`);
    assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');
    assert.deepEqual((await json(filtered)).manifests.map((m: { digest: string }) => m.digest), [sbom.digest]);

    assert.equal((await fetch(`${url}/v2/refs/app/manifests/${sbom.digest}`, { method: 'DELETE' })).status, 202);
    const afterDelete = await json(await fetch(`${url}/v2/refs/app/referrers/${subject.digest}`));
    assert.ok(!afterDelete.manifests.some((m: { digest: string }) => m.digest === sbom.digest), 'deleting a referrer removes its edge');
  });

  it('returns an empty index when nothing refers to a digest, and DIGEST_INVALID for a bad one', async () => {
    const none = await fetch(`${url}/v2/refs/app/referrers/${sha256('nothing')}`);
    assert.equal(none.status, 200);
    assert.deepEqual(await json(none), { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    const bad = await fetch(`${url}/v2/refs/app/referrers/latest`);
    assert.deepEqual([bad.status, await errorCodes(bad)], [400, ['DIGEST_INVALID']]);
  });
});
