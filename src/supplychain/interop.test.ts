/**
 * Real artifacts of ../shared/testdata pushed into a running Wharf the way their tools store them
 * (Notary OCI layouts with referrers, cosign's tag scheme, Sigstore bundles and DSSE attestations
 * as OCI 1.1 referrers, SBOMs as referrers), then judged through GET …/trust.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readData, readDataJson, readDataText, sharedDataOptions } from './testing/shared-data.ts';
import { pushBlob, pushManifest, pushReferrer, startSupplyChainRegistry, trustDocument, type SupplyChainRegistry } from './testing/supplychain-registry.ts';
import { sha256Digest, cosignTag } from './shared/digest.ts';

const options = sharedDataOptions();
const GITHUB = 'https://token.actions.githubusercontent.com';

async function putTrust(url: string, trust: object): Promise<Response> {
  return fetch(`${url}/api/v1/trust`, { method: 'PUT', body: JSON.stringify(trust), headers: { 'content-type': 'application/json' } });
}

/** Pushes a notation e2e OCI layout: every blob, the image as tag v1, the signature manifest(s) and the tag-schema index. */
async function pushNotationLayout(url: string, repository: string, layout: string): Promise<string> {
  const index = readDataJson('notation', 'oci-layouts', layout, 'index.json');
  const blob = (digest: string) => readData('notation', 'oci-layouts', layout, 'blobs', 'sha256', digest.slice(7));
  const manifests = index.manifests.map((entry: any) => ({ entry, json: JSON.parse(blob(entry.digest).toString()), bytes: blob(entry.digest) }));
  for (const { json } of manifests) for (const descriptor of [json.config, ...(json.layers ?? [])].filter(Boolean)) await pushBlob(url, repository, blob(descriptor.digest));
  const image = manifests.find((m: any) => m.entry.annotations?.['org.opencontainers.image.ref.name'] === 'v1');
  await pushManifest(url, repository, 'v1', image.bytes);
  for (const m of manifests.filter((m: any) => m.json.subject)) await pushManifest(url, repository, m.entry.digest, m.bytes);
  for (const m of manifests.filter((m: any) => m.entry.mediaType.includes('index'))) await pushManifest(url, repository, m.entry.annotations['org.opencontainers.image.ref.name'], m.bytes, m.entry.mediaType);
  return image.entry.digest;
}

describe('interop: real artifacts pushed into Wharf', options, () => {
  let registry: SupplyChainRegistry;
  const notationTrust = (store: string, policy = 'trustpolicy.json') => ({
    // alpine.crt anchors the standalone JWS/COSE envelopes; it does not anchor the e2e layouts.
    notation: { trustStores: { 'ca:e2e': [readDataText('notation', 'truststore', 'x509', 'ca', ...store.split('/')), readDataText('notation', 'envelopes', 'alpine.crt')] }, trustPolicy: readDataJson('notation', 'trustpolicy', policy) },
    cosign: { keys: [{ name: 'containers-image', publicKey: readDataText('sigstore', 'cosign-keyed', 'cosign.pub') }] },
    keyless: {
      trustedRoot: readDataJson('sigstore', 'trusted_root.public-good.json'),
      identities: [
        { subject: '/https://github\\.com/bazel-contrib/publish-to-bcr/\\.github/workflows/publish\\.yaml@.*/', issuer: GITHUB },
        { subject: 'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0', issuer: GITHUB },
        { subject: 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main', issuer: GITHUB },
      ],
    },
  });
  const digests: Record<string, string> = {};

  before(async () => {
    registry = await startSupplyChainRegistry();
    assert.equal((await putTrust(registry.url, notationTrust('e2e/e2e.crt'))).status, 200);
    for (const layout of ['e2e-valid-signature', 'e2e-invalid-signature', 'e2e-expired-signature']) digests[layout] = await pushNotationLayout(registry.url, `notation/${layout}`, layout);
    await registry.supplyChain.idle();
  });
  after(async () => { await registry?.close(); });

  it('Notary JWS signature (OCI layout + referrers tag schema): verified with the e2e store, signer CN=e2e', async () => {
    const doc = await trustDocument(registry.url, 'notation/e2e-valid-signature', digests['e2e-valid-signature']!);
    assert.equal(doc.present, true);
    assert.equal(doc.signatures.length, 1);
    assert.equal(doc.signatures[0].type, 'notary-jws');
    assert.equal(doc.signatures[0].verified, true, doc.signatures[0].reason);
    assert.match(doc.signatures[0].signer, /CN=e2e/);
    assert.equal(doc.signed, true);
  });
  it('Notary invalid signature fails integrity; expired signature fails expiry under strict', async () => {
    const invalid = await trustDocument(registry.url, 'notation/e2e-invalid-signature', digests['e2e-invalid-signature']!);
    assert.equal(invalid.signatures[0].verified, false);
    assert.match(invalid.signatures[0].reason, /^integrity:/);
    const expired = await trustDocument(registry.url, 'notation/e2e-expired-signature', digests['e2e-expired-signature']!);
    assert.equal(expired.signatures[0].verified, false);
    assert.match(expired.signatures[0].reason, /^expiry:/);
  });

  it('Notary JWS and COSE envelopes of notation-go as referrers: both verified, signer CN=alpine', async () => {
    const subject = { digest: sha256Digest(readData('notation', 'envelopes', 'subject-manifest.json')), size: 481 };
    await pushReferrer(registry.url, 'notation/envelopes', subject, 'application/vnd.cncf.notary.signature', 'application/jose+json', readData('notation', 'envelopes', 'jws_signature.sig'));
    await pushReferrer(registry.url, 'notation/envelopes', subject, 'application/vnd.cncf.notary.signature', 'application/cose', readData('notation', 'envelopes', 'cose_signature.sig'));
    await registry.supplyChain.idle();
    const doc = await trustDocument(registry.url, 'notation/envelopes', subject.digest);
    assert.deepEqual(doc.signatures.map((s: any) => [s.type, s.verified]).sort(), [['notary-cose', true], ['notary-jws', true]], JSON.stringify(doc.signatures));
    assert.ok(doc.signatures.every((s: any) => /CN=alpine/.test(s.signer)));
  });

  it('a Notary signature pushed before its image is re-checked when the image arrives', async () => {
    const layout = 'e2e-valid-signature';
    const index = readDataJson('notation', 'oci-layouts', layout, 'index.json');
    const blob = (digest: string) => readData('notation', 'oci-layouts', layout, 'blobs', 'sha256', digest.slice(7));
    const entries = index.manifests.map((entry: any) => ({ entry, json: JSON.parse(blob(entry.digest).toString()), bytes: blob(entry.digest) }));
    for (const { json } of entries) for (const descriptor of [json.config, ...(json.layers ?? [])].filter(Boolean)) await pushBlob(registry.url, 'notation/reversed', blob(descriptor.digest));
    const signature = entries.find((m: any) => m.json.subject);
    const image = entries.find((m: any) => m.entry.annotations?.['org.opencontainers.image.ref.name'] === 'v1');
    await pushManifest(registry.url, 'notation/reversed', signature.entry.digest, signature.bytes);
    await registry.supplyChain.idle();
    const early = await trustDocument(registry.url, 'notation/reversed', image.entry.digest);
    assert.equal(early.present, false);
    await pushManifest(registry.url, 'notation/reversed', 'v1', image.bytes);
    await registry.supplyChain.idle();
    const late = await trustDocument(registry.url, 'notation/reversed', image.entry.digest);
    assert.equal(late.present, true);
    assert.equal(late.signatures[0].verified, true, late.signatures[0].reason);
  });

  it('cosign key-based signature in the tag scheme (sha256-<hex>.sig) verifies with cosign.pub, not with another key', async () => {
    const payload = readData('sigstore', 'cosign-keyed', 'valid', 'simplesigning.payload.json');
    const signature = readDataText('sigstore', 'cosign-keyed', 'valid', 'signature.b64').trim();
    const subject = sha256Digest(readData('sigstore', 'cosign-keyed', 'valid', 'manifest.json'));
    const config = await pushBlob(registry.url, 'cosign/keyed', JSON.stringify({ architecture: '', config: {}, os: '', rootfs: { type: 'layers', diff_ids: [] } }));
    const layer = await pushBlob(registry.url, 'cosign/keyed', payload);
    await pushManifest(registry.url, 'cosign/keyed', cosignTag(subject, 'sig'), {
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', ...layer, annotations: { 'dev.cosignproject.cosign/signature': signature } }],
    });
    await registry.supplyChain.idle();
    const doc = await trustDocument(registry.url, 'cosign/keyed', subject);
    assert.equal(doc.present, false, 'the signed image itself is not in the test data; the signature is still reported');
    assert.deepEqual(doc.signatures.map((s: any) => [s.type, s.via, s.verified]), [['cosign', 'tag', true]]);
    assert.match(doc.signatures[0].signer, /containers-image/);
  });

  it('Sigstore bundles with SLSA provenance as OCI 1.1 referrers: verified, builder and source reported; the wrong signer is rejected', async () => {
    const bundleType = 'application/vnd.dev.sigstore.bundle.v0.3+json';
    const module = { digest: 'sha256:06ce330900a7d6403bc8d88e5dfad6aeeb8ae40179f66bb89e69c8bf6f6b1a0b', size: 100 };
    await pushReferrer(registry.url, 'bcr/rules-lint', module, bundleType, bundleType, readData('intoto', 'slsa-v1', 'bcr', 'MODULE.bazel.intoto.jsonl'));
    await pushReferrer(registry.url, 'bcr/rules-lint', module, bundleType, bundleType, readData('intoto', 'slsa-v1', 'bcr', 'MODULE-wrong-signer.bazel.intoto.jsonl'));
    const generic = { digest: 'sha256:376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa', size: 100 };
    await pushReferrer(registry.url, 'slsa/generic', generic, bundleType, bundleType, readData('intoto', 'slsa-v0.2', 'sigstore-bundle', 'gha_generic-binary-linux-amd64-workflow_dispatch.intoto.jsonl'));
    await registry.supplyChain.idle();
    const bcr = await trustDocument(registry.url, 'bcr/rules-lint', module.digest);
    assert.equal(bcr.attestations.length, 2);
    const good = bcr.attestations.find((a: any) => a.verified);
    const bad = bcr.attestations.find((a: any) => !a.verified);
    assert.ok(good && bad, JSON.stringify(bcr.attestations.map((a: any) => a.reason)));
    assert.equal(good.predicateType, 'https://slsa.dev/provenance/v1');
    assert.match(good.builder, /github/);
    assert.match(good.sourceRepository ?? '', /aspect-build\/rules_lint/);
    assert.match(bad.reason, /not a trusted keyless identity/);
    const slsa = await trustDocument(registry.url, 'slsa/generic', generic.digest);
    assert.equal(slsa.attestations[0].verified, true, slsa.attestations[0].reason);
    assert.equal(slsa.attestations[0].slsaVersion, '0.2');
  });

  it('slsa-github-generator v1.2.1 DSSE (.att tag, certificate inside the envelope): signature checks out but is not trusted without a log entry', async () => {
    const subject = 'sha256:ec8ff1bb40da2a36e3e9113dd7a5dd452c5125f7013e849519c0754b3c9fda89';
    const config = await pushBlob(registry.url, 'slsa/v1', '{}');
    const layer = await pushBlob(registry.url, 'slsa/v1', readData('intoto', 'slsa-v0.2', 'dsse-with-cert', 'binary-linux-amd64-workflow_dispatch.intoto.jsonl'));
    await pushManifest(registry.url, 'slsa/v1', cosignTag(subject, 'att'), {
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.dsse.envelope.v1+json', ...layer, annotations: { predicateType: 'https://slsa.dev/provenance/v0.2' } }],
    });
    await registry.supplyChain.idle();
    const doc = await trustDocument(registry.url, 'slsa/v1', subject);
    assert.equal(doc.attestations.length, 1);
    assert.equal(doc.attestations[0].verified, false);
    assert.match(doc.attestations[0].reason, /matches its embedded certificate .*transparency-log/);
    assert.equal(doc.attestations[0].predicateType, 'https://slsa.dev/provenance/v0.2');
    assert.match(doc.attestations[0].builder, /slsa-github-generator/);
  });

  it('conformance DSSE bundles as referrers of their statement subject: happy path verifies, invalid signature does not', async () => {
    const bundleType = 'application/vnd.dev.sigstore.bundle.v0.3+json';
    const subject = { digest: sha256Digest(readData('sigstore', 'conformance', 'a.txt')), size: 10 };
    await pushReferrer(registry.url, 'conformance/a', subject, bundleType, bundleType, readData('sigstore', 'conformance', 'happy-path-intoto-in-dsse-v3', 'bundle.sigstore.json'));
    await pushReferrer(registry.url, 'conformance/a', subject, bundleType, bundleType, readData('sigstore', 'conformance', 'dsse-invalid-sig_fail', 'bundle.sigstore.json'));
    await registry.supplyChain.idle();
    const doc = await trustDocument(registry.url, 'conformance/a', subject.digest);
    assert.deepEqual(doc.attestations.map((a: any) => a.verified).sort(), [false, true]);
  });

  it('conformance message-signature bundles about a file stored as a blob: happy paths verify, mismatches do not', async () => {
    const bundleType = 'application/vnd.dev.sigstore.bundle.v0.3+json';
    const artifact = readData('sigstore', 'conformance', 'a.txt');
    const subject = await pushBlob(registry.url, 'conformance/blob', artifact);
    const cases: Record<string, boolean> = { 'happy-path-v0.3': true, 'happy-path-v0.1': true, 'signature-mismatch_fail': false, 'wrong-hashedrekord-artifact_fail': false, 'invalid-inclusion-proof_fail': false };
    const pushed: Record<string, string> = {};
    for (const name of Object.keys(cases)) {
      pushed[(await pushReferrer(registry.url, 'conformance/blob', subject, bundleType, bundleType, readData('sigstore', 'conformance', name, 'bundle.sigstore.json'))).digest] = name;
    }
    await registry.supplyChain.idle();
    const doc = await trustDocument(registry.url, 'conformance/blob', subject.digest);
    assert.equal(doc.signatures.length, 5);
    for (const signature of doc.signatures) {
      const name = pushed[signature.attachment]!;
      assert.equal(signature.verified, cases[name], `${name}: ${signature.reason}`);
    }
  });

  it('cosign\'s older keyless attestation layout (.att tag, certificate + Rekor bundle annotations) verifies', async () => {
    const bundle = readDataJson('sigstore', 'conformance', 'happy-path-intoto-in-dsse-v3', 'bundle.sigstore.json');
    const der = Buffer.from(bundle.verificationMaterial.certificate.rawBytes, 'base64');
    const entry = bundle.verificationMaterial.tlogEntries[0];
    const annotations = {
      'dev.sigstore.cosign/certificate': `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`,
      'dev.sigstore.cosign/bundle': JSON.stringify({ SignedEntryTimestamp: entry.inclusionPromise.signedEntryTimestamp, Payload: { body: entry.canonicalizedBody, integratedTime: Number(entry.integratedTime), logIndex: Number(entry.logIndex), logID: Buffer.from(entry.logId.keyId, 'base64').toString('hex') } }),
      predicateType: 'https://slsa.dev/provenance/v1',
    };
    const subject = sha256Digest(readData('sigstore', 'conformance', 'a.txt'));
    const config = await pushBlob(registry.url, 'cosign/keyless', '{}');
    const layer = await pushBlob(registry.url, 'cosign/keyless', JSON.stringify(bundle.dsseEnvelope));
    await pushManifest(registry.url, 'cosign/keyless', cosignTag(subject, 'att'), {
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.dsse.envelope.v1+json', ...layer, annotations }],
    });
    await registry.supplyChain.idle();
    const doc = await trustDocument(registry.url, 'cosign/keyless', subject);
    assert.equal(doc.attestations.length, 1);
    assert.equal(doc.attestations[0].verified, true, doc.attestations[0].reason);
    assert.equal(doc.attestations[0].via, 'tag');
  });

  it('an SBOM referrer is summarised and matched against imported OSV records', async () => {
    const image = { digest: sha256Digest('juice-shop image'), size: 10 };
    await pushReferrer(registry.url, 'apps/juice-shop', image, 'application/vnd.cyclonedx+json', 'application/vnd.cyclonedx+json', readData('sbom', 'cyclonedx', '1.6', 'juice-shop-14.1.1.nested.cdx.json'));
    await registry.supplyChain.idle();
    const before = await trustDocument(registry.url, 'apps/juice-shop', image.digest);
    assert.equal(before.sbom.count, 1);
    assert.equal(before.sbom.documents[0].components, 1101);
    assert.equal(before.sbom.componentCount, 1101);
    assert.ok(before.sbom.uniqueComponents < 1101, 'the nested tree repeats packages');
    assert.equal(before.sbom.licenses[0].license, 'MIT');
    assert.equal(before.vulnerabilities.total, 0);
    const records = ['GHSA-qw6h-vgh9-j6wx', 'GHSA-6g6m-m6h5-w9gf', 'GHSA-29mw-wpgm-hmr9'].map((id) => JSON.stringify(readDataJson('osv', 'ghsa', `${id}.json`))).join('\n');
    const imported = await (await fetch(`${registry.url}/api/v1/vulnerabilities`, { method: 'POST', body: records })).json() as any;
    assert.equal(imported.changed, 3);
    assert.equal(imported.rematchedSboms, 1);
    const after = await trustDocument(registry.url, 'apps/juice-shop', image.digest);
    assert.ok(after.vulnerabilities.worst.some((f: any) => f.id === 'GHSA-qw6h-vgh9-j6wx' && f.purl === 'pkg:npm/express@4.19.2'));
    assert.ok(after.vulnerabilities.total >= 3);
    const again = await (await fetch(`${registry.url}/api/v1/vulnerabilities`, { method: 'POST', body: records })).json() as any;
    assert.equal(again.changed, 0, 're-import of unchanged records changes nothing');
  });

  it('a trust change re-verifies stored signatures: the wrong Notary store makes the valid signature fail authenticity', async () => {
    assert.equal((await putTrust(registry.url, notationTrust('wrong/new_e2e.crt'))).status, 200);
    await registry.supplyChain.idle();
    const doc = await trustDocument(registry.url, 'notation/e2e-valid-signature', digests['e2e-valid-signature']!);
    assert.equal(doc.signatures[0].verified, false);
    assert.match(doc.signatures[0].reason, /^authenticity:/);
    assert.equal((await putTrust(registry.url, notationTrust('e2e/e2e.crt'))).status, 200);
    await registry.supplyChain.idle();
    assert.equal((await trustDocument(registry.url, 'notation/e2e-valid-signature', digests['e2e-valid-signature']!)).signatures[0].verified, true);
  });

  it('a malformed trust configuration is refused with the reason and changes nothing', async () => {
    const before = await (await fetch(`${registry.url}/api/v1/trust`)).json() as any;
    const response = await putTrust(registry.url, { notation: { trustPolicy: readDataJson('notation', 'trustpolicy', 'wildcard_plus_other_trusted_identity_trustpolicy.json') } });
    assert.equal(response.status, 400);
    assert.match(JSON.stringify(await response.json()), /wildcard identity/);
    const after = await (await fetch(`${registry.url}/api/v1/trust`)).json() as any;
    assert.equal(after.version, before.version);
  });

  it('deleting the signature manifest removes it from the subject\'s document', async () => {
    const doc = await trustDocument(registry.url, 'notation/e2e-valid-signature', digests['e2e-valid-signature']!);
    const response = await fetch(`${registry.url}/v2/notation/e2e-valid-signature/manifests/${doc.signatures[0].attachment}`, { method: 'DELETE' });
    assert.equal(response.status, 202);
    await registry.supplyChain.idle();
    const after = await trustDocument(registry.url, 'notation/e2e-valid-signature', digests['e2e-valid-signature']!);
    assert.deepEqual(after.signatures, []);
    assert.equal(after.signed, false);
  });
  it('unknown digests are 404, malformed ones 400', async () => {
    assert.equal((await fetch(`${registry.url}/api/v1/repositories/notation/e2e-valid-signature/manifests/${sha256Digest('nothing')}/trust`)).status, 404);
    assert.equal((await fetch(`${registry.url}/api/v1/repositories/notation/e2e-valid-signature/manifests/latest/trust`)).status, 400);
  });
});
