import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { dataPath, readData, readDataJson, readDataText, sharedDataOptions } from '../testing/shared-data.ts';
import { parseTrustPolicyBytes, selectStatement, type TrustPolicyDocument } from './trust-policy.ts';
import { verifyNotarySignature, parseNotaryEnvelope } from './verify.ts';
import { sha256Digest } from '../shared/digest.ts';
import { decodeCbor, encodeCbor } from './cbor.ts';

const options = sharedDataOptions();

function policy(name: string): TrustPolicyDocument {
  const parsed = parseTrustPolicyBytes(readData('notation', 'trustpolicy', name));
  assert.ok(parsed.ok, `policy ${name} should parse: ${parsed.ok ? '' : parsed.reason}`);
  return parsed.policy;
}

/** The signature manifest of an e2e layout and its envelope blob, as a registry would hold them. */
function layout(name: string) {
  const index = readDataJson('notation', 'oci-layouts', name, 'index.json');
  const blob = (digest: string) => readData('notation', 'oci-layouts', name, 'blobs', 'sha256', digest.slice('sha256:'.length));
  const subject = index.manifests.find((entry: any) => entry.annotations?.['org.opencontainers.image.ref.name'] === 'v1');
  const signatureManifest = index.manifests
    .map((entry: any) => JSON.parse(blob(entry.digest).toString()))
    .find((manifest: any) => manifest.subject?.digest === subject.digest && manifest.config?.mediaType === 'application/vnd.cncf.notary.signature');
  const layer = signatureManifest.layers[0];
  return { subjectDigest: subject.digest as string, subjectSize: subject.size as number, envelope: blob(layer.digest), mediaType: layer.mediaType as string };
}

const e2eStore = () => ({ 'ca:e2e': [readDataText('notation', 'truststore', 'x509', 'ca', 'e2e', 'e2e.crt')] });
const wrongStore = () => ({ 'ca:e2e': [readDataText('notation', 'truststore', 'x509', 'ca', 'wrong', 'new_e2e.crt')] });

function verifyLayout(name: string, policyName: string, stores = e2eStore(), repository = 'e2e') {
  const item = layout(name);
  return verifyNotarySignature({ envelope: item.envelope, envelopeMediaType: item.mediaType, subjectDigest: item.subjectDigest, subjectSize: item.subjectSize, repository }, policy(policyName), stores);
}

describe('Notary Project trust policies (notation e2e data)', options, () => {
  for (const name of ['trustpolicy.json', 'audit_trustpolicy.json', 'permissive_trustpolicy.json', 'skip_trustpolicy.json', 'override_strict_trustpolicy.json',
    'multi_statements_with_wildcard_registry_scope_trustpolicy.json', 'valid_trusted_identity_trustpolicy.json', 'invalid_trusted_identity_trustpolicy.json']) {
    it(`accepts ${name}`, () => assert.ok(parseTrustPolicyBytes(readData('notation', 'trustpolicy', name)).ok));
  }
  const rejectedPolicies: Record<string, RegExp> = {
    'empty_registry_scope_trustpolicy.json': /registryScopes/,
    'invalid_format_trustpolicy.json': /not valid JSON/,
    'malformed_trust_store_trustpolicy.json': /trust store "ca:"/,
    'unset_trusted_identity_trustpolicy.json': /trustedIdentities is required/,
    'wildcard_plus_other_trusted_identity_trustpolicy.json': /wildcard identity/,
  };
  for (const [name, reason] of Object.entries(rejectedPolicies)) {
    it(`rejects ${name} with a precise reason`, () => {
      const parsed = parseTrustPolicyBytes(readData('notation', 'trustpolicy', name));
      assert.equal(parsed.ok, false);
      assert.match(parsed.ok ? '' : parsed.reason, reason);
    });
  }
  it('every policy file of the test data is covered', () => {
    assert.equal(readdirSync(dataPath('notation', 'trustpolicy')).length, 13);
  });
});

describe('Notary Project signatures (notation e2e layouts)', options, () => {
  it('valid signature + strict policy + e2e store: verified, signer CN=e2e', () => {
    const verdict = verifyLayout('e2e-valid-signature', 'trustpolicy.json');
    assert.equal(verdict.verified, true, verdict.reason);
    assert.match(verdict.signer ?? '', /CN=e2e/);
  });
  it('valid signature + wrong trust store: fails authenticity', () => {
    const verdict = verifyLayout('e2e-valid-signature', 'trustpolicy.json', wrongStore());
    assert.equal(verdict.verified, false);
    assert.match(verdict.reason, /^authenticity:/);
  });
  it('audit level + wrong store: verified with the authenticity failure logged', () => {
    const verdict = verifyLayout('e2e-valid-signature', 'audit_trustpolicy.json', wrongStore());
    assert.equal(verdict.verified, true, verdict.reason);
    assert.match(verdict.warnings?.join() ?? '', /authenticity/);
  });
  it('trusted identity x509.subject matching CN=e2e verifies; C=USB does not', () => {
    assert.equal(verifyLayout('e2e-valid-signature', 'valid_trusted_identity_trustpolicy.json').verified, true);
    const verdict = verifyLayout('e2e-valid-signature', 'invalid_trusted_identity_trustpolicy.json');
    assert.equal(verdict.verified, false);
    assert.match(verdict.reason, /authenticity: .*not a trusted identity/);
  });
  it('specific scope wins over the wildcard statement', () => {
    assert.equal(verifyLayout('e2e-valid-signature', 'multi_statements_with_wildcard_registry_scope_trustpolicy.json', e2eStore(), 'test-repo9').verified, true);
  });
  for (const level of ['trustpolicy.json', 'permissive_trustpolicy.json', 'audit_trustpolicy.json']) {
    it(`invalid signature fails integrity under ${level}`, () => {
      const verdict = verifyLayout('e2e-invalid-signature', level);
      assert.equal(verdict.verified, false);
      assert.match(verdict.reason, /^integrity:/);
    });
  }
  it('invalid signature under skip: skipped, never verified', () => {
    const verdict = verifyLayout('e2e-invalid-signature', 'skip_trustpolicy.json');
    assert.equal(verdict.verified, false);
    assert.equal(verdict.skipped, true);
  });
  it('expired signature: strict fails expiry; permissive, audit and override_strict verify with expiry logged', () => {
    const strict = verifyLayout('e2e-expired-signature', 'trustpolicy.json');
    assert.equal(strict.verified, false);
    assert.match(strict.reason, /^expiry:/);
    for (const name of ['permissive_trustpolicy.json', 'audit_trustpolicy.json', 'override_strict_trustpolicy.json']) {
      const verdict = verifyLayout('e2e-expired-signature', name);
      assert.equal(verdict.verified, true, `${name}: ${verdict.reason}`);
      assert.match(verdict.warnings?.join() ?? '', /expiry/);
    }
  });
  it('a signature shown for another subject fails integrity', () => {
    const item = layout('e2e-valid-signature');
    const verdict = verifyNotarySignature({ envelope: item.envelope, envelopeMediaType: item.mediaType, subjectDigest: sha256Digest('other'), repository: 'e2e' }, policy('trustpolicy.json'), e2eStore());
    assert.match(verdict.reason, /^integrity: signature is for/);
  });
});

describe('Notary Project standalone envelopes (JWS and COSE)', options, () => {
  const subject = options.skip ? Buffer.alloc(0) : readData('notation', 'envelopes', 'subject-manifest.json');
  const alpine: Record<string, string[]> = options.skip ? {} : { 'ca:alpine': [readDataText('notation', 'envelopes', 'alpine.crt')] };
  const anyPolicy = parseTrustPolicyBytes(JSON.stringify({ version: '1.0', trustPolicies: [{ name: 'a', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:alpine'], trustedIdentities: ['*'] }] }));
  assert.ok(anyPolicy.ok);
  for (const [file, mediaType] of [['jws_signature.sig', 'application/jose+json'], ['cose_signature.sig', 'application/cose']] as const) {
    it(`${file}: signature valid over the subject manifest, verified with alpine.crt`, () => {
      const envelope = readData('notation', 'envelopes', file);
      const parsed = parseNotaryEnvelope(envelope, mediaType);
      assert.ok(parsed.ok && parsed.envelope.signatureValid);
      assert.equal(parsed.envelope.target.digest, sha256Digest(subject));
      const verdict = verifyNotarySignature({ envelope, envelopeMediaType: mediaType, subjectDigest: sha256Digest(subject), subjectSize: subject.length, repository: 'x' }, anyPolicy.policy, alpine);
      assert.equal(verdict.verified, true, verdict.reason);
      assert.match(verdict.signer ?? '', /CN=alpine/);
    });
    it(`${file}: one flipped signature byte fails integrity; truncation is a parse failure`, () => {
      const envelope = Buffer.from(readData('notation', 'envelopes', file));
      const tampered = Buffer.from(envelope);
      tampered[tampered.length - 20] ^= 0x01;
      for (const bytes of [tampered, envelope.subarray(0, envelope.length / 2)]) {
        const verdict = verifyNotarySignature({ envelope: bytes, envelopeMediaType: mediaType, subjectDigest: sha256Digest(subject), repository: 'x' }, anyPolicy.policy, alpine);
        assert.equal(verdict.verified, false);
        assert.match(verdict.reason, /^integrity:/);
      }
    });
  }
});

describe('CBOR', () => {
  it('round-trips the Sig_structure shapes and refuses hostile lengths', () => {
    const encoded = encodeCbor(['Signature1', new Uint8Array([1, 2]), new Uint8Array(), new Uint8Array(300)]);
    const decoded = decodeCbor(encoded) as unknown[];
    assert.equal(decoded[0], 'Signature1');
    assert.equal((decoded[3] as Uint8Array).length, 300);
    assert.throws(() => decodeCbor(Uint8Array.of(0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)), /too large|exceeds|truncated/);
    assert.throws(() => decodeCbor(Uint8Array.of(0x5a, 0xff, 0xff, 0xff, 0xff)), /truncated/);
  });
});

describe('trust policy scopes', () => {
  const parsed = parseTrustPolicyBytes(JSON.stringify({ version: '1.0', trustPolicies: [
    { name: 'team', registryScopes: ['registry.example:5000/team/app'], signatureVerification: { level: 'strict' }, trustStores: ['ca:team'], trustedIdentities: ['x509.subject: C=US, ST=WA, O=Team'] },
    { name: 'rest', registryScopes: ['*'], signatureVerification: { level: 'audit' }, trustStores: ['ca:all'], trustedIdentities: ['*'] },
  ] }));
  it('an exact scope wins; the host is compared when the registry knows its own', () => {
    assert.ok(parsed.ok);
    assert.equal(selectStatement(parsed.policy, 'team/app')?.name, 'team');
    assert.equal(selectStatement(parsed.policy, 'team/app', 'registry.example:5000')?.name, 'team');
    assert.equal(selectStatement(parsed.policy, 'team/app', 'other.example')?.name, 'rest');
    assert.equal(selectStatement(parsed.policy, 'team/other')?.name, 'rest');
  });
  it('rejects a scope used twice, a second wildcard, overrides of integrity and a DN without C/ST/O', () => {
    const base = { signatureVerification: { level: 'strict' }, trustStores: ['ca:x'], trustedIdentities: ['*'] };
    const reasons = [
      [{ name: 'a', registryScopes: ['r/x'], ...base }, { name: 'b', registryScopes: ['r/x'], ...base }],
      [{ name: 'a', registryScopes: ['*'], ...base }, { name: 'b', registryScopes: ['*'], ...base }],
      [{ name: 'a', registryScopes: ['*'], ...base, signatureVerification: { level: 'strict', override: { integrity: 'log' } } }],
      [{ name: 'a', registryScopes: ['*'], ...base, trustedIdentities: ['x509.subject: CN=only'] }],
      [{ name: 'a', registryScopes: ['*'], ...base, signatureVerification: { level: 'audit', override: { authenticity: 'skip' } } }],
    ].map((trustPolicies) => parseTrustPolicyBytes(JSON.stringify({ version: '1.0', trustPolicies })));
    assert.deepEqual(reasons.map((result) => result.ok), [false, false, false, false, false]);
    assert.match(reasons.map((result) => (result.ok ? '' : result.reason)).join('\n'), /more than one trust policy[\s\S]*more than one trust policy[\s\S]*cannot be overridden[\s\S]*lacks C, ST[\s\S]*cannot be skipped/);
  });
});
