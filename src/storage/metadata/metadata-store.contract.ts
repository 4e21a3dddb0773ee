/**
 * The guarantees of MetadataStore, as tests any implementation runs:
 * `describeMetadataStore('sqlite', async () => ({ store, cleanup }))`.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { ManifestRecord, MetadataStore } from './metadata-store.ts';

export interface MetadataStoreFixture {
  readonly store: MetadataStore;
  cleanup(): Promise<void>;
}

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

function manifest(n: number, extra: Partial<ManifestRecord> = {}): ManifestRecord {
  return {
    digest: digest(n),
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    content: Buffer.from(`{"n":${n}}`),
    references: [{ digest: digest(1000 + n), kind: 'blob' }],
    ...extra,
  };
}

export function describeMetadataStore(name: string, make: () => Promise<MetadataStoreFixture>): void {
  describe(`MetadataStore contract: ${name}`, () => {
    let fixture: MetadataStoreFixture;
    let store: MetadataStore;
    beforeEach(async () => {
      fixture = await make();
      store = fixture.store;
      await store.migrate();
    });
    afterEach(() => fixture.cleanup());

    it('migrates idempotently', async () => {
      await store.migrate();
      await store.check();
    });

    it('links blobs per repository only', async () => {
      await store.linkBlob('team/a', digest(1), 10);
      assert.equal(await store.linkedBlobSize('team/a', digest(1)), 10);
      assert.equal(await store.linkedBlobSize('team/b', digest(1)), undefined);
      assert.deepEqual(await store.missingBlobs('team/a', [digest(1), digest(2)]), [digest(2)]);
      assert.deepEqual(await store.missingBlobs('unknown', [digest(1)]), [digest(1)]);
      assert.equal(await store.unlinkBlob('team/a', digest(1)), true);
      assert.equal(await store.unlinkBlob('team/a', digest(1)), false);
      assert.equal(await store.linkedBlobSize('team/a', digest(1)), undefined);
    });

    it('stores manifests byte for byte and resolves tags', async () => {
      const record = manifest(1);
      await store.putManifest('repo', record, 'v1');
      const byTag = await store.getManifestByTag('repo', 'v1');
      const byDigest = await store.getManifest('repo', digest(1));
      assert.deepEqual(Buffer.from(byTag!.content), Buffer.from(record.content));
      assert.equal(byDigest?.mediaType, record.mediaType);
      assert.equal(await store.getManifest('other', digest(1)), undefined);
      assert.deepEqual(await store.missingManifests('repo', [digest(1), digest(2)]), [digest(2)]);
      assert.deepEqual(await store.listManifests('repo'), [{ digest: digest(1), mediaType: record.mediaType }]);
      assert.deepEqual(await store.listManifests('other'), []);
    });

    it('tells when a repository first stored a manifest, by digest and by tag, unchanged by a second push', async () => {
      const before = Date.now();
      await store.putManifest('repo', manifest(1), 'v1');
      const after = Date.now();
      const first = (await store.getManifest('repo', digest(1)))?.pushedAt;
      assert.ok(first instanceof Date, 'pushedAt is a Date');
      // Clocks of the database and of this process may differ by a little; a second is plenty.
      assert.ok(first.getTime() >= before - 1000 && first.getTime() <= after + 1000, `pushedAt ${first.toISOString()} is the time of the push`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await store.putManifest('repo', manifest(1), 'v2');
      assert.equal((await store.getManifestByTag('repo', 'v2'))?.pushedAt?.getTime(), first.getTime(), 'a second push keeps the first time');
    });

    it('moves a tag to a new manifest', async () => {
      await store.putManifest('repo', manifest(1), 'latest');
      await store.putManifest('repo', manifest(2), 'latest');
      assert.equal((await store.getManifestByTag('repo', 'latest'))?.digest, digest(2));
      assert.deepEqual(await store.listTags('repo', {}), ['latest']);
    });

    it('pushing the same manifest twice keeps one record', async () => {
      await store.putManifest('repo', manifest(1), 'a');
      await store.putManifest('repo', manifest(1), 'b');
      assert.deepEqual(await store.listTags('repo', {}), ['a', 'b']);
    });

    it('deleting a manifest removes its tags and referrer edge', async () => {
      await store.putManifest('repo', manifest(1), 'v1');
      await store.putManifest('repo', manifest(2, { subject: digest(1), artifactType: 'application/spdx+json' }));
      assert.equal((await store.listReferrers('repo', digest(1))).length, 1);
      assert.equal(await store.deleteManifest('repo', digest(2)), true);
      assert.deepEqual(await store.listReferrers('repo', digest(1)), []);
      assert.equal(await store.deleteManifest('repo', digest(1)), true);
      assert.deepEqual(await store.listTags('repo', {}), []);
      assert.equal(await store.getManifestByTag('repo', 'v1'), undefined);
      assert.equal(await store.deleteManifest('repo', digest(1)), false);
    });

    it('lists referrers with their artifact type and annotations, filtered on request', async () => {
      await store.putManifest('repo', manifest(1));
      await store.putManifest('repo', manifest(2, { subject: digest(1), artifactType: 'application/sbom', annotations: { a: 'b' } }));
      await store.putManifest('repo', manifest(3, { subject: digest(1), artifactType: 'application/sig' }));
      const all = await store.listReferrers('repo', digest(1));
      assert.deepEqual(all.map((r) => r.digest).sort(), [digest(2), digest(3)]);
      const sboms = await store.listReferrers('repo', digest(1), 'application/sbom');
      assert.deepEqual(sboms, [{ digest: digest(2), mediaType: manifest(2).mediaType, size: manifest(2).content.byteLength, artifactType: 'application/sbom', annotations: { a: 'b' } }]);
      assert.deepEqual(await store.listReferrers('other', digest(1)), []);
    });

    it('deletes tags and pages tags and repositories in byte order', async () => {
      for (const tag of ['b', 'a', 'C', 'c']) await store.putManifest('repo', manifest(1), tag);
      assert.deepEqual(await store.listTags('repo', {}), ['C', 'a', 'b', 'c']);
      assert.deepEqual(await store.listTags('repo', { limit: 2 }), ['C', 'a']);
      assert.deepEqual(await store.listTags('repo', { limit: 2, last: 'a' }), ['b', 'c']);
      assert.equal(await store.deleteTag('repo', 'a'), true);
      assert.equal(await store.deleteTag('repo', 'a'), false);
      assert.equal(await store.listTags('unknown', {}), undefined);
      await store.linkBlob('z/last', digest(1), 1);
      assert.deepEqual(await store.listRepositories({ limit: 1 }), ['repo']);
      assert.deepEqual(await store.listRepositories({ last: 'repo' }), ['z/last']);
      assert.equal(await store.repositoryExists('z/last'), true);
    });

    it('sums the storage of a namespace, counting a blob shared by its repositories once', async () => {
      await store.linkBlob('team/a', digest(1), 100);
      await store.linkBlob('team/b', digest(1), 100);
      await store.linkBlob('team/b', digest(2), 20);
      await store.linkBlob('teamx/c', digest(3), 5000);
      await store.linkBlob('team', digest(4), 3);
      await store.putManifest('team/a', manifest(9));
      const manifestBytes = manifest(9).content.byteLength;
      assert.deepEqual(await store.namespaceUsage('team'), { storageBytes: 123 + manifestBytes, artifacts: 1 });
      assert.deepEqual(await store.namespaceUsage('nobody'), { storageBytes: 0, artifacts: 0 });
      assert.deepEqual(await store.usageByNamespace(), [
        { namespace: 'team', storageBytes: 123 + manifestBytes, artifacts: 1 },
        { namespace: 'teamx', storageBytes: 5000, artifacts: 0 },
      ]);
    });

    it('tracks upload sessions', async () => {
      await store.createUpload('u1', 'repo');
      const session = await store.getUpload('u1');
      assert.equal(session?.repository, 'repo');
      assert.deepEqual((await store.listUploads()).map((u) => u.id), ['u1']);
      await store.deleteUpload('u1');
      assert.equal(await store.getUpload('u1'), undefined);
    });
  });
}
