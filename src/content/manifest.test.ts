import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseManifest } from './manifest.ts';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_EMPTY, OCI_INDEX, OCI_MANIFEST } from './media-types.ts';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const descriptor = (c: string, mediaType = 'application/vnd.oci.image.layer.v1.tar+gzip') => ({ mediaType, digest: d(c), size: 3 });
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('manifest validation', () => {
  it('parses an OCI image manifest and lists the blobs it needs', () => {
    const parsed = parseManifest(bytes({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptor('a', 'application/vnd.oci.image.config.v1+json'), layers: [descriptor('b')] }), OCI_MANIFEST);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.manifest.blobs.map((b) => b.digest), [d('a'), d('b')]);
    assert.equal(parsed.manifest.artifactType, 'application/vnd.oci.image.config.v1+json');
  });

  it('takes artifactType and subject of an OCI 1.1 artifact', () => {
    const parsed = parseManifest(bytes({
      schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/spdx+json',
      config: { mediaType: OCI_EMPTY, digest: d('4'), size: 2 }, layers: [descriptor('b', 'application/spdx+json')],
      subject: { mediaType: OCI_MANIFEST, digest: d('c'), size: 100 }, annotations: { 'org.example': 'x' },
    }), OCI_MANIFEST);
    assert.ok(parsed.ok);
    assert.equal(parsed.manifest.artifactType, 'application/spdx+json');
    assert.equal(parsed.manifest.subject?.digest, d('c'));
    assert.deepEqual(parsed.manifest.annotations, { 'org.example': 'x' });
  });

  it('parses indexes and Docker manifest lists as lists of manifests', () => {
    for (const mediaType of [OCI_INDEX, DOCKER_MANIFEST_LIST]) {
      const parsed = parseManifest(bytes({ schemaVersion: 2, mediaType, manifests: [descriptor('a', OCI_MANIFEST)] }), mediaType);
      assert.ok(parsed.ok);
      assert.deepEqual(parsed.manifest.manifests.map((m) => m.digest), [d('a')]);
      assert.deepEqual(parsed.manifest.blobs, []);
    }
  });

  it('infers an OCI type when mediaType is absent', () => {
    const parsed = parseManifest(bytes({ schemaVersion: 2, manifests: [] }), 'application/json');
    assert.ok(parsed.ok && parsed.manifest.mediaType === OCI_INDEX);
  });

  it('does not require foreign layers to be in the registry', () => {
    const foreign = { ...descriptor('f', 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip'), urls: ['https://example.invalid/l'] };
    const parsed = parseManifest(bytes({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: descriptor('a'), layers: [foreign] }), DOCKER_MANIFEST);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.manifest.blobs.map((b) => b.digest), [d('a')]);
  });

  it('refuses schema 1 with a clear reason', () => {
    const parsed = parseManifest(bytes({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] }), 'application/vnd.docker.distribution.manifest.v1+prettyjws');
    assert.ok(!parsed.ok && parsed.unsupported && /schema 1/.test(parsed.reason));
  });

  it('rejects malformed manifests with the reason', () => {
    const cases: [unknown, string, RegExp][] = [
      ['not json', OCI_MANIFEST, /not valid JSON/],
      [[], OCI_MANIFEST, /JSON object/],
      [{ schemaVersion: 3 }, OCI_MANIFEST, /schemaVersion/],
      [{ schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [] }, OCI_MANIFEST, /config/],
      [{ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptor('a') }, OCI_MANIFEST, /layers/],
      [{ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...descriptor('a'), digest: 'sha256:zz' }, layers: [] }, OCI_MANIFEST, /digest/],
      [{ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...descriptor('a'), size: -1 }, layers: [] }, OCI_MANIFEST, /size/],
      [{ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...descriptor('a'), mediaType: 'nope' }, layers: [] }, OCI_MANIFEST, /media type/],
      [{ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }, OCI_MANIFEST, /does not match/],
      [{ schemaVersion: 2, mediaType: OCI_INDEX }, OCI_INDEX, /manifests/],
      [{ schemaVersion: 2, config: descriptor('a'), layers: [] }, DOCKER_MANIFEST, /must carry its mediaType/],
      [{ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptor('a'), layers: [], annotations: { a: 1 } }, OCI_MANIFEST, /annotations/],
    ];
    for (const [document, contentType, reason] of cases) {
      const parsed = parseManifest(typeof document === 'string' ? Buffer.from(document) : bytes(document), contentType);
      assert.ok(!parsed.ok, JSON.stringify(document));
      assert.match(parsed.reason, reason);
    }
  });

  it('never throws on arbitrary JSON, and accepts only what has the required shape', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.constantFrom(OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, '', 'text/plain'), (value, contentType) => {
      const parsed = parseManifest(bytes(value), contentType);
      if (parsed.ok) assert.equal((value as { schemaVersion?: unknown }).schemaVersion, 2);
    }), { numRuns: 2000 });
  });

  it('accepts any well-formed image manifest built from arbitrary descriptors', () => {
    const hex = fc.stringMatching(/^[a-f0-9]{64}$/);
    const desc = fc.record({ mediaType: fc.constant('application/octet-stream'), digest: hex.map((h) => `sha256:${h}`), size: fc.nat() });
    fc.assert(fc.property(desc, fc.array(desc, { maxLength: 8 }), (config, layers) => {
      const parsed = parseManifest(bytes({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers }), OCI_MANIFEST);
      assert.ok(parsed.ok);
      assert.equal(parsed.manifest.blobs.length, layers.length + 1);
    }));
  });
});
