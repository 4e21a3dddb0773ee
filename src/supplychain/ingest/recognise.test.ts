import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { recogniseManifest, type RecogniseOptions } from './recognise.ts';
import { sha256Digest, cosignTag } from '../shared/digest.ts';
import { DEFAULT_SBOM_LIMITS } from '../sbom/sbom-model.ts';

const subject = sha256Digest('image');

function options(blobs: Record<string, Buffer>): RecogniseOptions {
  return { sbomLimits: DEFAULT_SBOM_LIMITS, maxLayers: 8, readBlob: async (digest) => blobs[digest] ?? `blob ${digest} is not in the repository` };
}

function manifestWith(layers: { mediaType: string; bytes: Buffer; annotations?: Record<string, string> }[], extra: Record<string, unknown> = {}) {
  const blobs: Record<string, Buffer> = {};
  const descriptors = layers.map((layer) => {
    const digest = sha256Digest(layer.bytes);
    blobs[digest] = layer.bytes;
    return { mediaType: layer.mediaType, digest, size: layer.bytes.length, ...(layer.annotations ? { annotations: layer.annotations } : {}) };
  });
  const content = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256Digest('{}'), size: 2 }, layers: descriptors, ...extra }));
  return { content, digest: sha256Digest(content), blobs };
}

const statement = (predicateType: string, predicate: unknown) => Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'x', digest: { sha256: subject.slice(7) } }], predicateType, predicate }));
const referrerTo = { subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: subject, size: 10 } };

describe('recognising attachments', () => {
  it('ignores manifests that attach to nothing (plain images, ordinary tags)', async () => {
    const manifest = manifestWith([{ mediaType: 'application/vnd.oci.image.layer.v1.tar', bytes: Buffer.from('x') }]);
    const result = await recogniseManifest({ repository: 'r', digest: manifest.digest, content: manifest.content, tag: 'latest' }, options(manifest.blobs));
    assert.deepEqual(result.attachments, []);
  });
  it('cosign tag scheme: .sig simple-signing layers are signatures tied to the digest in the tag', async () => {
    const manifest = manifestWith([{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', bytes: Buffer.from('{}'), annotations: { 'dev.cosignproject.cosign/signature': 'c2ln' } }]);
    const result = await recogniseManifest({ repository: 'r', digest: manifest.digest, content: manifest.content, tag: cosignTag(subject, 'sig') }, options(manifest.blobs));
    assert.equal(result.attachments[0]?.kind, 'signature');
    assert.equal(result.attachments[0]?.subject, subject);
    assert.equal(result.attachments[0]?.via, 'tag');
  });
  it('a cosign 3 bundle whose statement is the sign/v1 predicate is a signature; other predicates are attestations', async () => {
    const bundle = (payload: Buffer) => Buffer.from(JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', verificationMaterial: { publicKey: { hint: 'k' } }, dsseEnvelope: { payloadType: 'application/vnd.in-toto+json', payload: payload.toString('base64'), signatures: [{ sig: 'c2ln' }] } }));
    const type = 'application/vnd.dev.sigstore.bundle.v0.3+json';
    const sign = manifestWith([{ mediaType: type, bytes: bundle(statement('https://sigstore.dev/cosign/sign/v1', {})) }], { artifactType: type, ...referrerTo });
    const slsa = manifestWith([{ mediaType: type, bytes: bundle(statement('https://slsa.dev/provenance/v1', { buildDefinition: { buildType: 'b' }, runDetails: { builder: { id: 'https://builder' } } })) }], { artifactType: type, ...referrerTo });
    const signResult = await recogniseManifest({ repository: 'r', digest: sign.digest, content: sign.content }, options(sign.blobs));
    const slsaResult = await recogniseManifest({ repository: 'r', digest: slsa.digest, content: slsa.content }, options(slsa.blobs));
    assert.equal(signResult.attachments[0]?.kind, 'signature');
    assert.equal(slsaResult.attachments[0]?.kind, 'attestation');
    assert.equal(slsaResult.attachments[0]?.detail.provenance?.builderId, 'https://builder');
  });
  it('an attestation whose predicate is an SBOM yields its components', async () => {
    const envelope = Buffer.from(JSON.stringify({ payloadType: 'application/vnd.in-toto+json', payload: statement('https://cyclonedx.org/bom', { bomFormat: 'CycloneDX', specVersion: '1.5', components: [{ name: 'a', purl: 'pkg:npm/a@1.0.0' }] }).toString('base64'), signatures: [{ sig: 'c2ln' }] }));
    const manifest = manifestWith([{ mediaType: 'application/vnd.dsse.envelope.v1+json', bytes: envelope }]);
    const result = await recogniseManifest({ repository: 'r', digest: manifest.digest, content: manifest.content, tag: cosignTag(subject, 'att') }, options(manifest.blobs));
    assert.equal(result.attachments[0]?.kind, 'attestation');
    assert.equal(result.attachments[0]?.detail.sbom?.componentCount, 1);
    assert.equal(result.components.get(0)?.[0]?.purl, 'pkg:npm/a@1.0.0');
  });
  it('a layer that cannot be read becomes a record with the reason', async () => {
    const manifest = manifestWith([{ mediaType: 'application/spdx+json', bytes: Buffer.from('{}') }], { artifactType: 'application/spdx+json', ...referrerTo });
    const result = await recogniseManifest({ repository: 'r', digest: manifest.digest, content: manifest.content }, options({}));
    assert.equal(result.attachments[0]?.kind, 'sbom');
    assert.match(result.attachments[0]?.detail.problem ?? '', /not in the repository/);
  });
});
