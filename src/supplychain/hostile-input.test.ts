/**
 * Bad input pushed into a running Wharf: never "verified", never a crash or a 500, and a reason
 * that says what is wrong.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { pushBlob, pushManifest, pushReferrer, pushTestImage, startSupplyChainRegistry, trustDocument, type SupplyChainRegistry } from './testing/supplychain-registry.ts';
import { buildSimpleSigning } from './cosign/simple-signing.ts';
import { cosignTag } from './shared/digest.ts';

describe('hostile and broken attachments', () => {
  let registry: SupplyChainRegistry;
  let image: { digest: string; size: number };
  const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const otherKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const publicPem = keys.publicKey.export({ format: 'pem', type: 'spki' }).toString();

  before(async () => {
    registry = await startSupplyChainRegistry({ sbom: { maxBytes: 4096, maxComponents: 50 }, attachments: { maxBlobBytes: 1024 * 1024, maxLayers: 3 } });
    image = await pushTestImage(registry.url, 'bad/app', 'v1');
    const response = await fetch(`${registry.url}/api/v1/trust`, { method: 'PUT', body: JSON.stringify({
      cosign: { keys: [{ name: 'ci', publicKey: publicPem }] },
      notation: { trustStores: {}, trustPolicy: { version: '1.0', trustPolicies: [{ name: 'all', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:none'], trustedIdentities: ['*'] }] } },
    }) });
    assert.equal(response.status, 200);
  });
  after(async () => { await registry?.close(); });

  async function pushCosignLayers(layers: { payload: Buffer; signature: string }[]) {
    const config = await pushBlob(registry.url, 'bad/app', '{"rootfs":{"type":"layers","diff_ids":[]}}');
    const descriptors = [];
    for (const layer of layers) {
      const blob = await pushBlob(registry.url, 'bad/app', layer.payload);
      descriptors.push({ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', ...blob, annotations: { 'dev.cosignproject.cosign/signature': layer.signature } });
    }
    await pushManifest(registry.url, 'bad/app', cosignTag(image.digest, 'sig'), { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: descriptors });
  }

  it('cosign: tampered payload, wrong key, other subject, garbage signature — none verified, each with its reason; layers beyond the limit ignored', async () => {
    const payload = buildSimpleSigning(image.digest, 'localhost/bad/app');
    const good = sign('sha256', payload, keys.privateKey).toString('base64');
    const tampered = Buffer.from(payload.toString().replace('localhost', 'localhos7'));
    const otherSubject = buildSimpleSigning(`sha256:${'1'.repeat(64)}`, 'localhost/bad/app');
    await pushCosignLayers([
      { payload: tampered, signature: good },
      { payload, signature: sign('sha256', payload, otherKeys.privateKey).toString('base64') },
      { payload: otherSubject, signature: sign('sha256', otherSubject, keys.privateKey).toString('base64') },
      { payload, signature: good }, // fourth layer: beyond maxLayers = 3
    ]);
    await registry.supplyChain.idle();
    const doc = await trustDocument(registry.url, 'bad/app', image.digest);
    assert.equal(doc.signatures.length, 3);
    assert.ok(doc.signatures.every((s: any) => s.verified === false));
    assert.match(doc.signatures[0].reason, /does not verify/);
    assert.match(doc.signatures[1].reason, /does not verify/);
    assert.match(doc.signatures[2].reason, /payload signs sha256:1111/);
    assert.equal(doc.signed, false);
  });

  it('a valid signature pushed after the bad ones (cosign appends a layer) is verified', async () => {
    const payload = buildSimpleSigning(image.digest, 'localhost/bad/app');
    await pushCosignLayers([{ payload, signature: sign('sha256', payload, keys.privateKey).toString('base64') }]);
    await registry.supplyChain.idle();
    const doc = await trustDocument(registry.url, 'bad/app', image.digest);
    assert.equal(doc.signatures.length, 1, 'the superseded tag manifest no longer counts');
    assert.equal(doc.signed, true);
  });

  it('malformed envelopes: Notary garbage, truncated bundle, broken DSSE, non-JSON statement', async () => {
    const target = await pushTestImage(registry.url, 'bad/envelopes', 'v1');
    await pushReferrer(registry.url, 'bad/envelopes', target, 'application/vnd.cncf.notary.signature', 'application/jose+json', '{"payload":"x"');
    await pushReferrer(registry.url, 'bad/envelopes', target, 'application/vnd.cncf.notary.signature', 'application/cose', Buffer.from([0xd2, 0x84, 0x40]));
    await pushReferrer(registry.url, 'bad/envelopes', target, 'application/vnd.dev.sigstore.bundle.v0.3+json', 'application/vnd.dev.sigstore.bundle.v0.3+json', '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMat');
    await pushReferrer(registry.url, 'bad/envelopes', target, 'application/vnd.dsse.envelope.v1+json', 'application/vnd.dsse.envelope.v1+json', '{"payloadType":"application/vnd.in-toto+json","payload":"!!!","signatures":[]}');
    await pushReferrer(registry.url, 'bad/envelopes', target, 'application/vnd.in-toto+json', 'application/vnd.in-toto+json', 'not json at all');
    await registry.supplyChain.idle();
    const response = await fetch(`${registry.url}/api/v1/repositories/bad/envelopes/manifests/${target.digest}/trust`);
    assert.equal(response.status, 200);
    const doc = await response.json() as any;
    const reasons = [...doc.signatures, ...doc.attestations].map((entry: any) => `${entry.verified}:${entry.reason}`);
    assert.equal(reasons.length, 5, reasons.join('\n'));
    assert.ok(reasons.every((reason) => reason.startsWith('false:')), reasons.join('\n'));
    assert.ok(reasons.some((reason) => /integrity: JWS envelope is not valid JSON/.test(reason)), reasons.join('\n'));
    assert.ok(reasons.some((reason) => /integrity: COSE/.test(reason)), reasons.join('\n'));
    assert.ok(reasons.some((reason) => /bundle is not valid JSON/.test(reason)), reasons.join('\n'));
    assert.ok(reasons.some((reason) => /payload is missing or not base64/.test(reason)), reasons.join('\n'));
    assert.ok(reasons.some((reason) => /statement is not valid JSON/.test(reason)), reasons.join('\n'));
  });

  it('SBOMs: over the byte limit, over the component limit, truncated — recorded with the reason, no components', async () => {
    const target = await pushTestImage(registry.url, 'bad/sboms', 'v1');
    const many = JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', components: Array.from({ length: 60 }, (_, i) => ({ name: `c${i}` })) });
    await pushReferrer(registry.url, 'bad/sboms', target, 'application/vnd.cyclonedx+json', 'application/vnd.cyclonedx+json', JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', components: [{ name: 'x'.repeat(5000) }] }));
    await pushReferrer(registry.url, 'bad/sboms', target, 'application/vnd.cyclonedx+json', 'application/vnd.cyclonedx+json', many);
    await pushReferrer(registry.url, 'bad/sboms', target, 'application/spdx+json', 'application/spdx+json', '{"spdxVersion":"SPDX-2.3","packages":[{"name":');
    await registry.supplyChain.idle();
    const doc = await trustDocument(registry.url, 'bad/sboms', target.digest);
    const problems = doc.sbom.documents.map((entry: any) => entry.problem).sort();
    assert.equal(problems.length, 3);
    assert.match(problems.join('\n'), /over the limit of 4096/);
    assert.match(problems.join('\n'), /more than the limit of 50 components/);
    assert.match(problems.join('\n'), /not valid JSON/);
    assert.equal(doc.sbom.componentCount, 0);
  });

  it('API misuse is a 4xx with a reason, never a 500', async () => {
    const cases: [string, RequestInit, number][] = [
      ['/api/v1/trust', { method: 'PUT', body: 'not json' }, 400],
      ['/api/v1/trust', { method: 'PUT', body: JSON.stringify({ cosign: { keys: [{ name: 'k', publicKey: 'nope' }] } }) }, 400],
      ['/api/v1/trust', { method: 'PUT', body: JSON.stringify({ keyless: { identities: [{ subject: '/(/', issuer: 'x' }] } }) }, 400],
      ['/api/v1/trust', { method: 'PUT', body: JSON.stringify({ surprise: true }) }, 400],
      ['/api/v1/trust', { method: 'DELETE' }, 405],
      ['/api/v1/vulnerabilities', { method: 'POST', body: '[1,2' }, 400],
      [`/api/v1/repositories/bad/app/manifests/sha256:${'z'.repeat(64)}/trust`, {}, 400],
    ];
    for (const [path, init, status] of cases) {
      const response = await fetch(`${registry.url}${path}`, init);
      assert.equal(response.status, status, `${init.method ?? 'GET'} ${path}`);
      const body = await response.json() as any;
      assert.ok(body.errors?.[0]?.message, `${path}: ${JSON.stringify(body)}`);
    }
    const junkRecords = await (await fetch(`${registry.url}/api/v1/vulnerabilities`, { method: 'POST', body: '{"id":"X-1"}\nnot json\n{"id":"bad id!","modified":"x"}' })).json() as any;
    assert.equal(junkRecords.rejected, 3);
  });
});
