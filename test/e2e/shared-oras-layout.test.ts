// A real referrers graph made by oras (../shared/testdata/oci/oras-referrers-layout: images, an
// index, artifacts with `subject` and `artifactType`, one with the empty config) is pushed over
// HTTP, then every subject's referrers list must match what the layout's own manifests declare.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pushBlob, putManifest } from './registry-http.ts';
import { sharedTestdataPath, sharedTestdataSkip } from './shared-testdata.ts';
import { startTargetRegistry, targetRegistryKind } from './target-registry.ts';
import type { RunningRegistry } from './child-lifecycle.ts';

const REPO = 'e2e/oras';
const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const ALL_MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

interface ParsedManifest {
  mediaType?: string;
  artifactType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

interface LayoutManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
  parsed: ParsedManifest;
  tags: string[];
  /** Manifests that must be in the registry first: an index's children and the subject. */
  dependsOn: string[];
}

/** Walks the layout from index.json, collecting every manifest and every plain blob it reaches. */
async function readLayout(layoutDir: string): Promise<{ manifests: Map<string, LayoutManifest>; blobs: Set<string> }> {
  const readBlob = (digest: string): Promise<Buffer> => readFile(join(layoutDir, 'blobs', ...digest.split(':')));
  const top = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const manifests = new Map<string, LayoutManifest>();
  const blobs = new Set<string>();
  const pending = [...top.manifests];
  for (let next = pending.shift(); next !== undefined; next = pending.shift()) {
    const tag = next.annotations?.['org.opencontainers.image.ref.name'];
    const known = manifests.get(next.digest);
    if (known !== undefined) {
      if (tag !== undefined) known.tags.push(tag);
      continue;
    }
    const bytes = await readBlob(next.digest);
    const parsed = JSON.parse(bytes.toString()) as ParsedManifest;
    const children = parsed.manifests ?? [];
    const dependsOn = [...children.map((child) => child.digest), ...(parsed.subject ? [parsed.subject.digest] : [])];
    manifests.set(next.digest, { digest: next.digest, mediaType: parsed.mediaType ?? next.mediaType, bytes, parsed, tags: tag ? [tag] : [], dependsOn });
    pending.push(...children, ...(parsed.subject ? [parsed.subject] : []));
    for (const blob of [...(parsed.config ? [parsed.config] : []), ...(parsed.layers ?? [])]) blobs.add(blob.digest);
  }
  return { manifests, blobs };
}

/** Orders manifests so each comes after everything it depends on. */
function pushOrder(manifests: Map<string, LayoutManifest>): LayoutManifest[] {
  const ordered: LayoutManifest[] = [];
  const placed = new Set<string>();
  const place = (manifest: LayoutManifest, path: Set<string>): void => {
    if (placed.has(manifest.digest)) return;
    if (path.has(manifest.digest)) throw new Error(`dependency cycle at ${manifest.digest}`);
    path.add(manifest.digest);
    for (const dependency of manifest.dependsOn) place(manifests.get(dependency)!, path);
    placed.add(manifest.digest);
    ordered.push(manifest);
  };
  for (const manifest of manifests.values()) place(manifest, new Set());
  return ordered;
}

/** What the referrers API must say about a referrer: the spec falls back to config.mediaType. */
function expectedReferrer(manifest: LayoutManifest): Descriptor {
  const artifactType = manifest.parsed.artifactType ?? (INDEX_TYPES.has(manifest.mediaType) ? undefined : manifest.parsed.config?.mediaType);
  return {
    mediaType: manifest.mediaType,
    digest: manifest.digest,
    size: manifest.bytes.length,
    ...(artifactType !== undefined ? { artifactType } : {}),
    ...(manifest.parsed.annotations !== undefined ? { annotations: manifest.parsed.annotations } : {}),
  };
}

const noReferrersApi = targetRegistryKind() === 'distribution' ? 'the reference registry (Distribution 2.8) has no referrers API' : false;

describe('the oras referrers layout from the shared test data', { skip: sharedTestdataSkip() }, () => {
  let registry: RunningRegistry;
  let manifests: Map<string, LayoutManifest>;

  before(async () => {
    const layoutDir = sharedTestdataPath('oci', 'oras-referrers-layout');
    const layout = await readLayout(layoutDir);
    manifests = layout.manifests;
    registry = await startTargetRegistry();
    for (const digest of layout.blobs) {
      const pushed = await pushBlob(registry.url, REPO, await readFile(join(layoutDir, 'blobs', ...digest.split(':'))));
      assert.equal(pushed.digest, digest);
    }
  });

  after(async () => {
    await registry?.stop();
  });

  test('every manifest and index is accepted, by digest and under its tags', async () => {
    assert.ok(manifests.size >= 10, `expected a rich layout, found ${manifests.size} manifests`);
    for (const manifest of pushOrder(manifests)) {
      await putManifest(registry.url, REPO, manifest.digest, manifest.mediaType, manifest.bytes);
      for (const tag of manifest.tags) await putManifest(registry.url, REPO, tag, manifest.mediaType, manifest.bytes);
    }
    for (const manifest of manifests.values()) {
      for (const reference of [manifest.digest, ...manifest.tags]) {
        const response = await fetch(`${registry.url}/v2/${REPO}/manifests/${reference}`, { headers: { Accept: ALL_MANIFEST_TYPES } });
        const body = Buffer.from(await response.arrayBuffer());
        assert.equal(response.status, 200, reference);
        assert.equal(response.headers.get('docker-content-digest'), manifest.digest, reference);
        assert.ok(body.equals(manifest.bytes), `${reference} must come back byte for byte`);
      }
    }
  });

  test('each subject lists exactly the manifests that declare it, as the layout describes them', { skip: noReferrersApi }, async () => {
    const bySubject = new Map<string, Descriptor[]>();
    for (const manifest of manifests.values()) {
      const subject = manifest.parsed.subject?.digest;
      if (subject !== undefined) bySubject.set(subject, [...(bySubject.get(subject) ?? []), expectedReferrer(manifest)]);
    }
    assert.ok(bySubject.size >= 2, 'the layout should hold several subjects');
    const byDigest = (a: Descriptor, b: Descriptor): number => a.digest.localeCompare(b.digest);
    for (const [subject, expected] of bySubject) {
      const response = await fetch(`${registry.url}/v2/${REPO}/referrers/${subject}`);
      assert.equal(response.status, 200);
      const index = (await response.json()) as { manifests: Descriptor[] };
      assert.deepEqual([...index.manifests].sort(byDigest), [...expected].sort(byDigest), `referrers of ${subject}`);

      const wantedType = expected.find((entry) => entry.artifactType !== undefined)?.artifactType;
      if (wantedType === undefined) continue;
      const filtered = await fetch(`${registry.url}/v2/${REPO}/referrers/${subject}?artifactType=${encodeURIComponent(wantedType)}`);
      const filteredIndex = (await filtered.json()) as { manifests: Descriptor[] };
      assert.deepEqual(
        filteredIndex.manifests.map((entry) => entry.digest).sort(),
        expected.filter((entry) => entry.artifactType === wantedType).map((entry) => entry.digest).sort(),
        `referrers of ${subject} filtered by ${wantedType}`,
      );
    }
  });
});
