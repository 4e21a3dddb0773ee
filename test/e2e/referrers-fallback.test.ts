// `wharf sign --referrer`, `wharf attach sbom` and `wharf verify` / `wharf sbom` against Debian's
// docker-registry (Distribution 2.8), which has no referrers API and never answers a manifest PUT
// with OCI-Subject. OCI distribution-spec v1.1 then asks the client to keep the referrers tag
// schema: an image index under the tag `sha256-<hex>` listing one descriptor per referrer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachCommand, keygenCommand, sbomCommand, signCommand, verifyCommand } from '../../src/cli/supplychain.ts';
import { RegistryClient } from '../../src/client/registry-client.ts';
import { COSIGN_SIGNATURE_ARTIFACT_TYPE } from '../../src/client/signing.ts';
import { pushSmallImage } from './registry-http.ts';
import { referenceRegistryInstalled, startReferenceRegistry } from './reference-registry.ts';
import type { RunningRegistry } from './child-lifecycle.ts';
import { runCommand } from '../support/run-command.ts';

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const REPO = 'team/fallback';

interface FallbackIndex {
  schemaVersion: number;
  mediaType: string;
  manifests: { mediaType: string; digest: string; size: number; artifactType?: string; annotations?: Record<string, string> }[];
}

const run = runCommand;

const skip = referenceRegistryInstalled() ? false : 'docker-registry is not installed (scripts/install-test-deps.sh installs it)';

describe('referrers tag schema fallback against Distribution 2.8', { skip }, () => {
  let registry: RunningRegistry;
  let folder: string;
  let image: { digest: string; size: number };
  const savedPassword = process.env['COSIGN_PASSWORD'];
  const fallbackTag = () => image.digest.replace(':', '-');
  const fallbackIndex = async (): Promise<{ status: number; index?: FallbackIndex; contentType?: string | null }> => {
    const response = await fetch(`${registry.url}/v2/${REPO}/manifests/${fallbackTag()}`, { headers: { accept: OCI_INDEX } });
    if (response.status !== 200) { await response.arrayBuffer(); return { status: response.status }; }
    return { status: 200, contentType: response.headers.get('content-type'), index: await response.json() as FallbackIndex };
  };

  before(async () => {
    registry = await startReferenceRegistry();
    folder = await mkdtemp(join(tmpdir(), 'wharf-fallback-'));
    image = await pushSmallImage(registry.url, REPO, 'v1', 'fallback');
    process.env['COSIGN_PASSWORD'] = 'fallback pass';
    assert.equal((await run(keygenCommand, ['--output-key-prefix', join(folder, 'cosign')])).code, 0);
  });
  after(async () => {
    if (savedPassword === undefined) delete process.env['COSIGN_PASSWORD']; else process.env['COSIGN_PASSWORD'] = savedPassword;
    await registry?.stop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('the registry really has no referrers API (the premise of the fallback)', async () => {
    const response = await fetch(`${registry.url}/v2/${REPO}/referrers/${image.digest}`);
    await response.arrayBuffer();
    assert.equal(response.status, 404);
  });

  it('sign --referrer writes the fallback index, and verify finds the signature through it', async () => {
    const signed = await run(signCommand, [`${registry.host}/${REPO}:v1`, '--key', join(folder, 'cosign.key'), '--referrer', '--json']);
    assert.equal(signed.code, 0, signed.out);
    const signatureManifest = JSON.parse(signed.out).signatureManifest as string;
    const { status, index, contentType } = await fallbackIndex();
    assert.equal(status, 200, 'no sha256-<hex> fallback tag was written');
    assert.equal(contentType, OCI_INDEX);
    assert.equal(index!.schemaVersion, 2);
    assert.equal(index!.mediaType, OCI_INDEX);
    const entry = index!.manifests.find((descriptor) => descriptor.digest === signatureManifest);
    assert.ok(entry, JSON.stringify(index));
    assert.equal(entry.artifactType, COSIGN_SIGNATURE_ARTIFACT_TYPE);
    assert.equal(entry.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.ok(entry.annotations?.['org.opencontainers.image.created'], 'the referrer manifest annotations are copied into its descriptor');

    const verified = await run(verifyCommand, [`${registry.host}/${REPO}:v1`, '--key', join(folder, 'cosign.pub')]);
    assert.equal(verified.code, 0, verified.out);
    assert.match(verified.out, /VERIFIED cosign-simple-signing \(referrer\)/);
  });

  it('attach sbom adds to the same index (read-modify-write) and sbom lists it', async () => {
    const sbomPath = join(folder, 'bom.cdx.json');
    await writeFile(sbomPath, JSON.stringify({
      bomFormat: 'CycloneDX', specVersion: '1.5', version: 1,
      components: [{ type: 'library', name: 'left-pad', version: '1.3.0', purl: 'pkg:npm/left-pad@1.3.0' }],
    }));
    const before = (await fallbackIndex()).index!.manifests.map((descriptor) => descriptor.digest);
    const attached = await run(attachCommand, ['sbom', `${registry.host}/${REPO}:v1`, sbomPath, '--json']);
    assert.equal(attached.code, 0, attached.out);
    const sbomManifest = JSON.parse(attached.out).sbomManifest as string;
    const after = (await fallbackIndex()).index!;
    assert.deepEqual(after.manifests.map((descriptor) => descriptor.digest), [...before, sbomManifest]);
    assert.equal(after.manifests.at(-1)!.artifactType, 'application/vnd.cyclonedx+json');

    const listed = await run(sbomCommand, [`${registry.host}/${REPO}:v1`, '--json']);
    assert.equal(listed.code, 0, listed.out);
    assert.deepEqual(JSON.parse(listed.out).components.map((component: { name: string }) => component.name), ['left-pad']);
  });

  it('recording the same referrer again leaves one descriptor for it', async () => {
    const client = new RegistryClient(registry.host);
    const existing = (await fallbackIndex()).index!;
    const first = existing.manifests[0]!;
    const manifest = await client.getManifest(REPO, first.digest);
    assert.ok(manifest);
    await client.recordReferrer(REPO, { digest: image.digest }, manifest);
    assert.deepEqual((await fallbackIndex()).index!.manifests, existing.manifests);
    assert.deepEqual((await client.referrers(REPO, image.digest)).map((descriptor) => descriptor.digest), existing.manifests.map((descriptor) => descriptor.digest));
  });
});
