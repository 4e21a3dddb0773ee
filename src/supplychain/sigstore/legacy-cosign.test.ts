import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readData, readDataJson, sharedDataOptions } from '../testing/shared-data.ts';
import { legacyAttestationBundle, legacySignatureBundle } from './legacy-cosign.ts';
import { verifyBundle } from './bundle-verifier.ts';
import { sha256Digest } from '../shared/digest.ts';

/**
 * cosign's older keyless layout (certificate + Rekor bundle annotations) rebuilt from the pieces of
 * a real v0.1 bundle: the same certificate, signature and log entry, in the annotation shapes.
 */
describe('legacy cosign keyless annotations', sharedDataOptions(), () => {
  const pieces = () => {
    const bundle = readDataJson('sigstore', 'conformance', 'happy-path-v0.1', 'bundle.sigstore.json');
    const der = Buffer.from(bundle.verificationMaterial.x509CertificateChain.certificates[0].rawBytes, 'base64');
    const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
    const entry = bundle.verificationMaterial.tlogEntries[0];
    const rekorBundle = JSON.stringify({
      SignedEntryTimestamp: entry.inclusionPromise.signedEntryTimestamp,
      Payload: { body: entry.canonicalizedBody, integratedTime: Number(entry.integratedTime), logIndex: Number(entry.logIndex), logID: Buffer.from(entry.logId.keyId, 'base64').toString('hex') },
    });
    return { pem, rekorBundle, signature: bundle.messageSignature.signature as string };
  };
  const trust = () => ({
    trustedRoot: readDataJson('sigstore', 'trusted_root.public-good.json'),
    identities: [{ subject: 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main', issuer: 'https://token.actions.githubusercontent.com' }],
    publicKeys: [],
  });

  it('re-assembled into a bundle, verifies through the signed entry timestamp', () => {
    const { pem, rekorBundle, signature } = pieces();
    const artifact = readData('sigstore', 'conformance', 'a.txt');
    const assembled = legacySignatureBundle(artifact, signature, pem, rekorBundle);
    assert.ok(assembled.ok);
    const verdict = verifyBundle(assembled.bundle, { digest: sha256Digest(artifact), artifact }, trust());
    assert.equal(verdict.verified, true, verdict.reason);
  });
  it('a different payload, or a damaged Rekor bundle, does not verify', () => {
    const { pem, rekorBundle, signature } = pieces();
    const other = Buffer.from('not a.txt');
    const assembled = legacySignatureBundle(other, signature, pem, rekorBundle);
    assert.ok(assembled.ok);
    assert.equal(verifyBundle(assembled.bundle, { digest: sha256Digest(other), artifact: other }, trust()).verified, false);
    const broken = legacySignatureBundle(readData('sigstore', 'conformance', 'a.txt'), signature, pem, '{"Payload":{}}');
    assert.equal(broken.ok, false);
  });

  it('a DSSE attestation with certificate + Rekor bundle annotations (npm provenance pieces, intoto 0.0.2) verifies', () => {
    const bundle = readDataJson('sigstore', 'npm-provenance', 'sigstore-2.0.0.provenance.sigstore.json');
    const der = Buffer.from(bundle.verificationMaterial.x509CertificateChain.certificates[0].rawBytes, 'base64');
    const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
    const entry = bundle.verificationMaterial.tlogEntries[0];
    const rekorBundle = JSON.stringify({ SignedEntryTimestamp: entry.inclusionPromise.signedEntryTimestamp, Payload: { body: entry.canonicalizedBody, integratedTime: Number(entry.integratedTime), logIndex: Number(entry.logIndex), logID: Buffer.from(entry.logId.keyId, 'base64').toString('hex') } });
    const assembled = legacyAttestationBundle(bundle.dsseEnvelope, pem, rekorBundle);
    assert.ok(assembled.ok);
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
    const verdict = verifyBundle(assembled.bundle, { digest: `sha512:${statement.subject[0].digest.sha512}` }, {
      trustedRoot: readDataJson('sigstore', 'trusted_root.public-good.json'), publicKeys: [],
      identities: [{ subject: 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main', issuer: 'https://token.actions.githubusercontent.com' }],
    });
    assert.equal(verdict.verified, true, verdict.reason);
  });
});
