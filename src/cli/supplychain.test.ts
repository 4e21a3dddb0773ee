import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachCommand, attestCommand, keygenCommand, sbomCommand, signCommand, trustFromFlags, verifyCommand, vulnsCommand } from './supplychain.ts';
import { pushTestImage, startSupplyChainRegistry, trustDocument, type SupplyChainRegistry } from '../supplychain/testing/supplychain-registry.ts';
import { dataPath, sharedDataOptions } from '../supplychain/testing/shared-data.ts';
import { cosignTag } from '../supplychain/shared/digest.ts';
import { runCommand } from '../../test/support/run-command.ts';

const run = runCommand;

describe('wharf keygen / sign / verify / attest / attach / sbom / vulns against a live registry', () => {
  let registry: SupplyChainRegistry;
  let folder: string;
  let host: string;
  let image: { digest: string };
  const savedPassword = process.env['COSIGN_PASSWORD'];

  before(async () => {
    registry = await startSupplyChainRegistry();
    folder = await mkdtemp(join(tmpdir(), 'wharf-cli-sc-'));
    host = new URL(registry.url).host;
    image = await pushTestImage(registry.url, 'team/app', 'v1');
    process.env['COSIGN_PASSWORD'] = 'correct horse';
  });
  after(async () => {
    if (savedPassword === undefined) delete process.env['COSIGN_PASSWORD']; else process.env['COSIGN_PASSWORD'] = savedPassword;
    await registry?.close();
    await rm(folder, { recursive: true, force: true });
  });

  it('keygen writes cosign.key/cosign.pub under --output-key-prefix and refuses to overwrite', async () => {
    assert.equal((await run(keygenCommand, ['--output-key-prefix', join(folder, 'cosign')])).code, 0);
    assert.match(await readFile(join(folder, 'cosign.key'), 'utf8'), /^-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----/);
    assert.match(await readFile(join(folder, 'cosign.pub'), 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
    await assert.rejects(run(keygenCommand, ['--output-key-prefix', join(folder, 'cosign')]), /exists/);
  });

  it('sign (tag scheme) stores a signature that node:crypto verifies independently over the stored payload', async () => {
    const { code } = await run(signCommand, [`${host}/team/app:v1`, '--key', join(folder, 'cosign.key')]);
    assert.equal(code, 0);
    const manifest = await (await fetch(`${registry.url}/v2/team/app/manifests/${cosignTag(image.digest, 'sig')}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json() as any;
    const layer = manifest.layers[0];
    assert.equal(layer.mediaType, 'application/vnd.dev.cosign.simplesigning.v1+json');
    const payload = Buffer.from(await (await fetch(`${registry.url}/v2/team/app/blobs/${layer.digest}`)).arrayBuffer());
    assert.equal(JSON.parse(payload.toString()).critical.image['docker-manifest-digest'], image.digest);
    const publicKey = createPublicKey(await readFile(join(folder, 'cosign.pub'), 'utf8'));
    assert.ok(cryptoVerify('sha256', payload, publicKey, Buffer.from(layer.annotations['dev.cosignproject.cosign/signature'], 'base64')));
  });

  it('verify exits 0 and prints the signer with the right key, 1 with another key', async () => {
    const good = await run(verifyCommand, [`${host}/team/app:v1`, '--key', join(folder, 'cosign.pub')]);
    assert.equal(good.code, 0, good.out);
    assert.match(good.out, /VERIFIED cosign-simple-signing \(tag\) signer=key:/);
    assert.equal((await run(keygenCommand, ['--output-key-prefix', join(folder, 'other')])).code, 0);
    const bad = await run(verifyCommand, [`${host}/team/app:v1`, '--key', join(folder, 'other.pub'), '--json']);
    assert.equal(bad.code, 1);
    assert.equal(JSON.parse(bad.out).verified, false);
  });

  it('verify --trust FILE uses a full trust configuration', async () => {
    const trustPath = join(folder, 'trust.json');
    await writeFile(trustPath, JSON.stringify({ cosign: { keys: [{ name: 'ci', publicKey: await readFile(join(folder, 'cosign.pub'), 'utf8') }] } }));
    const result = await run(verifyCommand, [`${host}/team/app:v1`, '--trust', trustPath, '--json']);
    assert.equal(result.code, 0);
    assert.match(JSON.parse(result.out).results[0].signer, /^key:ci/);
    await writeFile(trustPath, '{"cosign":{"keys":[{"name":"x","publicKey":"garbage"}]}}');
    await assert.rejects(run(verifyCommand, [`${host}/team/app:v1`, '--trust', trustPath]), /not a PEM public key/);
  });

  it('the registry indexed the signature: /trust reports it verified once the key is trusted', async () => {
    const response = await fetch(`${registry.url}/api/v1/trust`, { method: 'PUT', body: JSON.stringify({ cosign: { keys: [{ name: 'ci', publicKey: await readFile(join(folder, 'cosign.pub'), 'utf8') }] } }) });
    assert.equal(response.status, 200);
    await registry.supplyChain.idle();
    const doc = await trustDocument(registry.url, 'team/app', image.digest);
    assert.deepEqual(doc.signatures.map((s: any) => [s.type, s.via, s.verified]), [['cosign', 'tag', true]]);
  });

  it('sign --referrer stores an OCI 1.1 referrer that verifies too', async () => {
    assert.equal((await run(signCommand, [`${host}/team/app@${image.digest}`, '--key', join(folder, 'cosign.key'), '--referrer'])).code, 0);
    await registry.supplyChain.idle();
    const doc = await trustDocument(registry.url, 'team/app', image.digest);
    assert.deepEqual(doc.signatures.map((s: any) => s.via).sort(), ['referrer', 'tag']);
    assert.ok(doc.signatures.every((s: any) => s.verified));
    // Wharf answers the PUT with OCI-Subject, so no referrers tag schema index is written.
    assert.equal((await fetch(`${registry.url}/v2/team/app/manifests/${image.digest.replace(':', '-')}`)).status, 404);
  });

  it('signs with a cosign-made key from the test data (kubewarden, password "kubewarden")', sharedDataOptions(), async () => {
    process.env['COSIGN_PASSWORD'] = 'kubewarden';
    try {
      const other = await pushTestImage(registry.url, 'team/kw', 'v1');
      assert.equal((await run(signCommand, [`${host}/team/kw:v1`, '--key', dataPath('sigstore', 'cosign-keys', 'kubewarden-cosign1.key')])).code, 0);
      assert.equal((await run(verifyCommand, [`${host}/team/kw:v1`, '--key', dataPath('sigstore', 'cosign-keys', 'kubewarden-cosign1.pub')])).code, 0);
      assert.ok(other.digest.startsWith('sha256:'));
    } finally {
      process.env['COSIGN_PASSWORD'] = 'correct horse';
    }
  });

  it('attest with an SLSA v1 predicate: verify --attestations passes and /trust reports the builder', sharedDataOptions(), async () => {
    const attested = await run(attestCommand, [`${host}/team/app:v1`, '--key', join(folder, 'cosign.key'), '--type', 'slsaprovenance1', '--predicate', dataPath('intoto', 'predicates', 'slsa_predicate_v1_0.json')]);
    assert.equal(attested.code, 0);
    assert.equal((await run(verifyCommand, [`${host}/team/app:v1`, '--key', join(folder, 'cosign.pub'), '--attestations'])).code, 0);
    await registry.supplyChain.idle();
    const doc = await trustDocument(registry.url, 'team/app', image.digest);
    const attestation = doc.attestations.find((a: any) => a.predicateType === 'https://slsa.dev/provenance/v1');
    assert.ok(attestation?.verified, JSON.stringify(doc.attestations));
    assert.ok(attestation.builder);
  });

  it('attach sbom + sbom lists the components; vulns import then vulns REF reports the findings', sharedDataOptions(), async () => {
    assert.equal((await run(attachCommand, ['sbom', `${host}/team/app:v1`, dataPath('sbom', 'cyclonedx', '1.6', 'juice-shop-14.1.1.nested.cdx.json')])).code, 0);
    const listed = await run(sbomCommand, [`${host}/team/app:v1`, '--json']);
    assert.equal(JSON.parse(listed.out).components.length, 1101);
    const imported = await run(vulnsCommand, ['import', dataPath('osv', 'ghsa'), '--registry', registry.url, '--json']);
    assert.equal(JSON.parse(imported.out).changed, 7);
    await registry.supplyChain.idle();
    const report = await run(vulnsCommand, [`${host}/team/app:v1`, '--json']);
    assert.ok(JSON.parse(report.out).worst.some((finding: any) => finding.id === 'GHSA-qw6h-vgh9-j6wx'));
    const local = await run(vulnsCommand, [`${host}/team/app:v1`, '--db', dataPath('osv', 'ghsa'), '--json']);
    assert.ok(JSON.parse(local.out).findings.some((finding: any) => finding.vulnerabilityId === 'GHSA-6g6m-m6h5-w9gf'));
  });

  it('verify of an unsigned image exits 1 with a clear message', async () => {
    await pushTestImage(registry.url, 'team/unsigned', 'v1');
    const result = await run(verifyCommand, [`${host}/team/unsigned:v1`, '--key', join(folder, 'cosign.pub')]);
    assert.equal(result.code, 1);
    assert.match(result.out, /no signatures found/);
  });
});

describe('verify flags as cosign spells them', () => {
  it('--certificate-identity-regexp / --certificate-oidc-issuer / --trusted-root build a keyless trust', sharedDataOptions(), async () => {
    const trust = await trustFromFlags({ 'certificate-identity-regexp': 'https://github\\.com/org/.*', 'certificate-oidc-issuer': 'https://token.actions.githubusercontent.com', 'trusted-root': dataPath('sigstore', 'trusted_root.public-good.json') });
    assert.deepEqual(trust.bundleTrust.identities, [{ subject: '/https://github\\.com/org/.*/', issuer: 'https://token.actions.githubusercontent.com' }]);
    assert.ok(trust.bundleTrust.trustedRoot);
  });
  it('keyless flags without a trusted root or issuer are a usage error', async () => {
    await assert.rejects(trustFromFlags({ 'certificate-identity': 'x' }), /--certificate-oidc-issuer and --trusted-root/);
    await assert.rejects(trustFromFlags({}), /give --key FILE/);
  });
});
