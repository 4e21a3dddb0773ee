import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { parseTrustDocument } from '../trust/trust-config.ts';
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
  it('encodes the Sig_structure in preferred serialisation, Buffers as byte strings', () => {
    const encoded = encodeCbor(['Signature1', Buffer.from([1, 2]), new Uint8Array(), new Uint8Array(300)]);
    assert.equal(encoded.subarray(0, 19).toString('hex'), '846a5369676e6174757265314201024059012c');
    assert.equal(encoded.length, 19 + 300);
    assert.equal(encodeCbor('a').toString('hex'), '6161');
  });
  it('keeps tags, maps with integer and text keys, and 64-bit integers', () => {
    // 18([h'a10126', {33: h'01'}, h'', h'']) — a COSE_Sign1 skeleton
    const decoded = decodeCbor(Buffer.from('d28443a10126a1182141014040', 'hex')) as { tag: number; value: unknown[] };
    assert.equal(decoded.tag, 18);
    assert.deepEqual(decodeCbor(decoded.value[0] as Uint8Array), new Map([[1, -7]]));
    const unprotected = decoded.value[1] as Map<unknown, Uint8Array>;
    assert.deepEqual([...unprotected.keys()], [33]);
    assert.equal(Buffer.from(unprotected.get(33)!).toString('hex'), '01');
    assert.deepEqual(decodeCbor(Buffer.from('c11a5f000000', 'hex')), { tag: 1, value: 0x5f000000 });
    assert.equal(decodeCbor(Buffer.from('1bffffffffffffffff', 'hex')), 0xffffffffffffffffn);
  });
  it('refuses hostile and malformed data with a reason, before building huge values', () => {
    const million = Buffer.alloc(5 + 1_000_000);
    million.writeUInt8(0x9a, 0);
    million.writeUInt32BE(1_000_000, 1);
    assert.throws(() => decodeCbor(million), /too many items/);
    assert.throws(() => decodeCbor(Buffer.alloc(40, 0x81)), /nesting is too deep/);
    assert.throws(() => decodeCbor(Uint8Array.of(0x9f, 0x01, 0xff)), /indefinite-length/);
    assert.throws(() => decodeCbor(Uint8Array.of(0xa2, 0x01, 0x01, 0x01, 0x02)), /duplicate key/);
    assert.throws(() => decodeCbor(Uint8Array.of(0x01, 0x02)), /trailing bytes/);
    assert.throws(() => decodeCbor(Uint8Array.of(0xd2, 0x84, 0x40)), /truncated/);
    assert.throws(() => decodeCbor(new Uint8Array(0)), /truncated/);
    assert.throws(() => decodeCbor(Uint8Array.of(0x61, 0xff)), /CBOR/);
    assert.throws(() => decodeCbor(Uint8Array.of(0xf8, 99)), /CBOR/);
    assert.throws(() => decodeCbor(Uint8Array.of(0x1c)), /CBOR/);
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

/**
 * The rules notation-go's trust policy validation applies (verifier/trustpolicy: Validate,
 * GetVerificationLevel, validateTrustStore, validateTrustedIdentities, validateRegistryScopes,
 * pkix.ParseDistinguishedName): each policy here is one notation refuses, beside one it accepts.
 */
describe('trust policy validation as notation applies it', () => {
  const statement = (overrides: Record<string, unknown> = {}) => ({
    name: 'p', registryScopes: ['localhost:5000/test-repo'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'], ...overrides,
  });
  const parse = (...trustPolicies: unknown[]) => parseTrustPolicyBytes(JSON.stringify({ version: '1.0', trustPolicies }));
  const refused: [string, unknown[], RegExp][] = [
    ['a registry scope with a backslash', [statement({ registryScopes: ['localhost:5000\\test-repo'] })], /registry scope "localhost:5000\\test-repo" is not valid/],
    ['a registry scope without a repository', [statement({ registryScopes: ['localhost:5000'] })], /is not valid/],
    ['a registry scope with a scheme', [statement({ registryScopes: ['https://localhost:5000/test-repo'] })], /is not valid/],
    ['a registry scope with a tag', [statement({ registryScopes: ['localhost:5000/test-repo:v1'] })], /is not valid/],
    ['a registry scope with upper-case repository', [statement({ registryScopes: ['localhost:5000/Test'] })], /is not valid/],
    ['a partial wildcard scope', [statement({ registryScopes: ['localhost:5000/*'] })], /wildcard/],
    ['the wildcard scope mixed with others', [statement({ registryScopes: ['*', 'localhost:5000/test-repo'] })], /wildcard scope "\*" cannot be combined/],
    ['two statements with the same scope', [statement(), statement({ name: 'q' })], /appears in more than one trust policy/],
    ['one scope twice in a statement', [statement({ registryScopes: ['localhost:5000/test-repo', 'localhost:5000/test-repo'] })], /appears in more than one trust policy|twice/],
    ['duplicate statement names', [statement(), statement({ registryScopes: ['*'] })], /name "p" is used twice/],
    ['a statement without a name', [statement({ name: '' })], /has no name/],
    ['a missing verification level', [statement({ signatureVerification: {} })], /signatureVerification level is missing/],
    ['an invalid verification level', [statement({ signatureVerification: { level: 'paranoid' } })], /invalid signatureVerification level "paranoid"/],
    ['skipping expiry in an override', [statement({ signatureVerification: { level: 'strict', override: { expiry: 'skip' } } })], /expiry cannot be skipped/],
    ['skipping authenticTimestamp in an override', [statement({ signatureVerification: { level: 'strict', override: { authenticTimestamp: 'skip' } } })], /authenticTimestamp cannot be skipped/],
    ['an unknown check in an override', [statement({ signatureVerification: { level: 'strict', override: { speed: 'log' } } })], /"speed" cannot be overridden/],
    ['overrides on the skip level', [statement({ signatureVerification: { level: 'skip', override: { revocation: 'log' } }, trustStores: [], trustedIdentities: [] })], /skip level cannot have overrides/],
    ['skip level with trust stores', [statement({ signatureVerification: { level: 'skip' } })], /skip level must not name trust stores/],
    ['a trust store without a name', [statement({ trustStores: ['ca:'] })], /trust store "ca:"/],
    ['a trust store without a type', [statement({ trustStores: ['e2e'] })], /trust store "e2e"/],
    ['a trust store of an unknown type', [statement({ trustStores: ['root:e2e'] })], /trust store "root:e2e"/],
    ['a trust store name with a slash', [statement({ trustStores: ['signingAuthority:a/b'] })], /trust store "signingAuthority:a\/b"/],
    ['an empty trusted identity', [statement({ trustedIdentities: [''] })], /empty trusted identity/],
    ['a trusted identity without a separator', [statement({ trustedIdentities: ['C=US, ST=WA, O=Notary'] })], /missing the ":" separator/],
    ['an x509.subject identity without a value', [statement({ trustedIdentities: ['x509.subject:'] })], /x509\.subject:" has no value/],
    ['an x509.subject that is not a DN', [statement({ trustedIdentities: ['x509.subject: not a dn'] })], /is not a valid distinguished name/],
    ['a DN with a multi-valued RDN', [statement({ trustedIdentities: ['x509.subject: C=US+ST=WA, O=Notary'] })], /multi-valued/],
    ['a DN with a repeated attribute', [statement({ trustedIdentities: ['x509.subject: C=US, ST=WA, O=Notary, O=Other'] })], /is not a valid distinguished name|repeated/],
    ['a DN without ST', [statement({ trustedIdentities: ['x509.subject: C=US, O=Notary'] })], /lacks ST/],
    ['the wildcard identity mixed with others', [statement({ trustedIdentities: ['*', 'x509.subject: C=US, ST=WA, O=Notary'] })], /wildcard identity/],
    ['overlapping trusted identities', [statement({ trustedIdentities: ['x509.subject: C=US, ST=WA, O=Notary', 'x509.subject: C=US, ST=WA, O=Notary, CN=e2e'] })], /overlapping trusted identities/],
    ['the same identity twice', [statement({ trustedIdentities: ['x509.subject: C=US, ST=WA, O=Notary', 'x509.subject: O=Notary, ST=WA, C=US'] })], /overlapping trusted identities/],
  ];
  for (const [what, statements, reason] of refused) {
    it(`refuses ${what}`, () => {
      const parsed = parse(...statements);
      assert.equal(parsed.ok, false, `${what} was accepted`);
      assert.match(parsed.ok ? '' : parsed.reason, reason);
    });
  }
  it('accepts what notation accepts: distinct identities, revocation skipped, a non-x509 identity, local scopes', () => {
    const accepted = [
      parse(statement({ trustedIdentities: ['x509.subject: C=US, ST=WA, O=Notary, CN=a', 'x509.subject: C=US, ST=WA, O=Notary, CN=b'] })),
      parse(statement({ signatureVerification: { level: 'strict', override: { revocation: 'skip', expiry: 'log' } } })),
      parse(statement({ trustedIdentities: ['x509.subject: C=US, ST=WA, O=Notary', 'plugin.identity:abc'] })),
      parse(statement({ registryScopes: ['local/my-layout', 'registry.example.com/team/app_1', 'a.b-c.d:443/x/y.z'] })),
      parse(statement({ signatureVerification: { level: 'skip' }, trustStores: [], trustedIdentities: [] })),
      parse(statement({ trustStores: ['ca:e2e', 'signingAuthority:sa.1', 'tsa:tsa_x'] })),
    ];
    assert.deepEqual(accepted.map((result) => (result.ok ? 'ok' : result.reason)), accepted.map(() => 'ok'));
  });
});

describe('trust stores as notation accepts them', () => {
  const e2e = () => readDataText('notation', 'truststore', 'x509', 'ca', 'e2e', 'e2e.crt');
  it('a self-signed certificate is accepted in ca, signingAuthority and tsa stores', sharedDataOptions(), () => {
    for (const store of ['ca:e2e', 'signingAuthority:e2e', 'tsa:e2e']) assert.equal(parseTrustDocument({ notation: { trustStores: { [store]: [e2e()] } } }).ok, true, store);
  });
  it('refuses an empty store, a non-CA leaf that is not self-signed, and a non-root certificate in a tsa store', sharedDataOptions(), () => {
    const bundle = readDataJson('sigstore', 'conformance', 'happy-path-v0.1', 'bundle.sigstore.json');
    const der = Buffer.from(bundle.verificationMaterial.x509CertificateChain.certificates[0].rawBytes, 'base64');
    const leaf = new X509Certificate(der).toString();
    const intermediate = new X509Certificate(Buffer.from(readDataJson('sigstore', 'trusted_root.public-good.json').certificateAuthorities[1].certChain.certificates[0].rawBytes, 'base64'));
    assert.equal(intermediate.ca && intermediate.subject !== intermediate.issuer, true, 'the fixture is an intermediate CA');
    const cases: [Record<string, string[]>, RegExp][] = [
      [{ 'ca:empty': [] }, /trust store "ca:empty" holds no certificate/],
      [{ 'ca:leaf': [leaf] }, /is neither a CA certificate nor self-signed/],
      [{ 'tsa:intermediate': [intermediate.toString()] }, /tsa trust store .* root CA/],
    ];
    for (const [trustStores, reason] of cases) {
      const parsed = parseTrustDocument({ notation: { trustStores } });
      assert.equal(parsed.ok, false, Object.keys(trustStores)[0]);
      assert.match(parsed.ok ? '' : parsed.reason, reason);
    }
    assert.equal(parseTrustDocument({ notation: { trustStores: { 'ca:intermediate': [intermediate.toString()] } } }).ok, true);
  });
});
