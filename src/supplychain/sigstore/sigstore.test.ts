import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { dataPath, readData, readDataJson, readDataText, sharedDataOptions } from '../testing/shared-data.ts';
import { verifyBundle, type BundleTrust } from './bundle-verifier.ts';
import { parseBundle, bundleVersion } from './bundle.ts';
import { sha256Digest } from '../shared/digest.ts';
import { parseTrustDocument } from '../trust/trust-config.ts';

const options = sharedDataOptions();
const DEFAULT_IDENTITY = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

function publicGood(): any {
  return readDataJson('sigstore', 'trusted_root.public-good.json');
}

describe('Sigstore conformance bundles', options, () => {
  const cases = existsSync(dataPath('sigstore', 'conformance')) ? readdirSync(dataPath('sigstore', 'conformance')).filter((name) => existsSync(dataPath('sigstore', 'conformance', name, 'bundle.sigstore.json'))) : [];
  const local = (name: string, file: string) => existsSync(dataPath('sigstore', 'conformance', name, file));
  /** A case's own identity/issuer files override the defaults, as the test data README says. */
  const expectedIdentity = (name: string) => local(name, 'identity') ? readDataText('sigstore', 'conformance', name, 'identity').trim() : DEFAULT_IDENTITY;
  const expectedIssuer = (name: string) => local(name, 'issuer') ? readDataText('sigstore', 'conformance', name, 'issuer').trim() : GITHUB_ISSUER;
  const trustFor = (name: string, identity = expectedIdentity(name), issuer = expectedIssuer(name)): BundleTrust => {
    const local = (file: string) => existsSync(dataPath('sigstore', 'conformance', name, file));
    return {
      trustedRoot: local('trusted_root.json') ? readDataJson('sigstore', 'conformance', name, 'trusted_root.json') : publicGood(),
      identities: local('key.pub') ? [] : [{ subject: identity, issuer }],
      publicKeys: local('key.pub') ? [{ name: 'key.pub', pem: readDataText('sigstore', 'conformance', name, 'key.pub') }] : [],
    };
  };
  const artifactFor = (name: string) => existsSync(dataPath('sigstore', 'conformance', name, 'artifact'))
    ? readData('sigstore', 'conformance', name, 'artifact') : readData('sigstore', 'conformance', 'a.txt');

  it('finds the conformance cases', () => assert.ok(cases.length >= 19, `${cases.length} cases`));
  for (const name of cases) {
    const mustPass = !name.endsWith('_fail');
    it(`${name}: ${mustPass ? 'MUST VERIFY' : 'MUST FAIL'}`, () => {
      const artifact = artifactFor(name);
      const verdict = verifyBundle(readData('sigstore', 'conformance', name, 'bundle.sigstore.json'), { artifact, digest: sha256Digest(artifact) }, trustFor(name));
      assert.equal(verdict.verified, mustPass, verdict.reason);
      assert.ok(verdict.reason.length > 10);
      if (name === 'bundle-with-root-cert_fail') assert.match(verdict.reason, /contains a root certificate/);
      if (name === 'bundle-malformed-json_fail') assert.match(verdict.reason, /not valid JSON/);
      if (name === 'intoto-expired-certificate_fail') assert.match(verdict.reason, /CERTIFICATE_ERROR/);
      if (mustPass && !local(name, 'key.pub')) assert.equal(verdict.signer, expectedIdentity(name));
    });
  }
  it('passing keyless cases fail with another expected identity or issuer', () => {
    const artifact = readData('sigstore', 'conformance', 'a.txt');
    for (const name of ['happy-path-v0.3', 'happy-path-intoto-in-dsse-v3', 'happy-path-v0.1']) {
      const bundle = readData('sigstore', 'conformance', name, 'bundle.sigstore.json');
      const otherIdentity = verifyBundle(bundle, { artifact, digest: sha256Digest(artifact) }, trustFor(name, 'https://github.com/example/other/.github/workflows/x.yml@refs/heads/main'));
      assert.equal(otherIdentity.verified, false);
      assert.match(otherIdentity.reason, /not a trusted keyless identity/);
      const otherIssuer = verifyBundle(bundle, { artifact, digest: sha256Digest(artifact) }, trustFor(name, DEFAULT_IDENTITY, 'https://accounts.google.com'));
      assert.equal(otherIssuer.verified, false);
    }
  });
  it('a regex identity matches the whole SAN only', () => {
    const artifact = readData('sigstore', 'conformance', 'a.txt');
    const bundle = readData('sigstore', 'conformance', 'happy-path-v0.3', 'bundle.sigstore.json');
    assert.equal(verifyBundle(bundle, { artifact, digest: sha256Digest(artifact) }, trustFor('happy-path-v0.3', '/https://github\\.com/sigstore-conformance/.*/')).verified, true);
    assert.equal(verifyBundle(bundle, { artifact, digest: sha256Digest(artifact) }, trustFor('happy-path-v0.3', '/sigstore-conformance/')).verified, false);
  });
});

describe('Sigstore bundles carrying SLSA provenance', options, () => {
  const trust = (subject: string): BundleTrust => ({ trustedRoot: publicGood(), identities: [{ subject, issuer: GITHUB_ISSUER }], publicKeys: [] });
  it('npm provenance of sigstore@2.0.0 (v0.1) verifies for its sha512 subject', () => {
    const bytes = readData('sigstore', 'npm-provenance', 'sigstore-2.0.0.provenance.sigstore.json');
    const parsed = parseBundle(bytes);
    assert.ok(parsed.ok && parsed.summary.version === '0.1' && parsed.summary.content === 'dsse');
    const statement = JSON.parse(parsed.summary.dssePayload!.toString());
    const digest = `sha512:${statement.subject[0].digest.sha512}`;
    const verdict = verifyBundle(bytes, { digest }, trust('https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main'));
    assert.equal(verdict.verified, true, verdict.reason);
    assert.equal(verdict.issuer, GITHUB_ISSUER);
  });
  it('slsa-github-generator v2.1.0 bundle (SLSA v0.2) verifies for its subject', () => {
    const bytes = readData('intoto', 'slsa-v0.2', 'sigstore-bundle', 'gha_generic-binary-linux-amd64-workflow_dispatch.intoto.jsonl');
    const verdict = verifyBundle(bytes, { digest: 'sha256:376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa' },
      trust('https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0'));
    assert.equal(verdict.verified, true, verdict.reason);
  });
  const bcrIdentity = '/https://github\\.com/bazel-contrib/publish-to-bcr/\\.github/workflows/publish\\.yaml@.*/';
  const moduleDigest = 'sha256:06ce330900a7d6403bc8d88e5dfad6aeeb8ae40179f66bb89e69c8bf6f6b1a0b';
  it('BCR MODULE.bazel attestation (SLSA v1) verifies with the publish-to-bcr identity', () => {
    const verdict = verifyBundle(readData('intoto', 'slsa-v1', 'bcr', 'MODULE.bazel.intoto.jsonl'), { digest: moduleDigest }, trust(bcrIdentity));
    assert.equal(verdict.verified, true, verdict.reason);
    assert.match(verdict.signer ?? '', /publish-to-bcr.*@refs\/tags\/v0\.0\.1$/);
  });
  it('the wrong-signer BCR attestation is cryptographically valid but fails the identity policy', () => {
    const bytes = readData('intoto', 'slsa-v1', 'bcr', 'MODULE-wrong-signer.bazel.intoto.jsonl');
    const verdict = verifyBundle(bytes, { digest: moduleDigest }, trust(bcrIdentity));
    assert.equal(verdict.verified, false);
    assert.match(verdict.reason, /not a trusted keyless identity/);
    assert.equal(verifyBundle(bytes, { digest: moduleDigest }, trust('/.*/')).verified, true);
  });
  it('a bundle checked against another subject digest fails before any cryptography', () => {
    const verdict = verifyBundle(readData('intoto', 'slsa-v1', 'bcr', 'MODULE.bazel.intoto.jsonl'), { digest: sha256Digest('other') }, trust(bcrIdentity));
    assert.match(verdict.reason, /do not include/);
  });
});

/**
 * Bundles whose x509CertificateChain carries more than the leaf (v0.1/v0.2 allow it, as
 * sigstore-js's bundleV01-full-cert-chain fixture does): the chain is rebuilt from the trusted
 * root's own CA certificates, so the root in it is the genuine one.
 */
describe('Sigstore bundles carrying their full certificate chain', options, () => {
  const pemToDer = (pem: string) => new X509Certificate(pem).raw;
  /** The bundle with the leaf followed by the chain of the trusted-root CA that issued it (or by `extra`). */
  const withChain = (bundle: any, extra?: Buffer[]) => {
    const leaf = new X509Certificate(Buffer.from(bundle.verificationMaterial.x509CertificateChain.certificates[0].rawBytes, 'base64'));
    let chain = extra;
    if (!chain) {
      const authority = publicGood().certificateAuthorities.find((ca: any) => {
        const issuer = new X509Certificate(Buffer.from(ca.certChain.certificates[0].rawBytes, 'base64'));
        return leaf.checkIssued(issuer) && leaf.verify(issuer.publicKey);
      });
      assert.ok(authority, 'no CA of the public-good root issued the leaf');
      chain = authority.certChain.certificates.map((certificate: any) => Buffer.from(certificate.rawBytes, 'base64'));
    }
    const copy = structuredClone(bundle);
    copy.verificationMaterial.x509CertificateChain.certificates = [{ rawBytes: leaf.raw.toString('base64') }, ...chain!.map((der) => ({ rawBytes: der.toString('base64') }))];
    return Buffer.from(JSON.stringify(copy));
  };
  const conformanceTrust = (): BundleTrust => ({ trustedRoot: publicGood(), identities: [{ subject: DEFAULT_IDENTITY, issuer: GITHUB_ISSUER }], publicKeys: [] });
  const artifact = () => readData('sigstore', 'conformance', 'a.txt');

  it('a v0.1 message-signature bundle with the genuine intermediate and root verifies', () => {
    const bytes = withChain(readDataJson('sigstore', 'conformance', 'happy-path-v0.1', 'bundle.sigstore.json'));
    assert.equal(parseBundle(bytes).ok && (parseBundle(bytes) as any).summary.chainPems.length, 3);
    const verdict = verifyBundle(bytes, { artifact: artifact(), digest: sha256Digest(artifact()) }, conformanceTrust());
    assert.equal(verdict.verified, true, verdict.reason);
  });
  it('the npm provenance bundle of sigstore@2.0.0 with its full chain verifies', () => {
    const bundle = readDataJson('sigstore', 'npm-provenance', 'sigstore-2.0.0.provenance.sigstore.json');
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
    const verdict = verifyBundle(withChain(bundle), { digest: `sha512:${statement.subject[0].digest.sha512}` },
      { trustedRoot: publicGood(), identities: [{ subject: 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main', issuer: GITHUB_ISSUER }], publicKeys: [] });
    assert.equal(verdict.verified, true, verdict.reason);
  });
  it('a self-signed certificate that is not in the trusted root is refused, even beside the genuine chain', () => {
    const bundle = readDataJson('sigstore', 'conformance', 'happy-path-v0.1', 'bundle.sigstore.json');
    // The forged "O=sigstore.dev, CN=sigstore" root of the conformance case, and an unrelated self-signed certificate.
    const forged = readDataJson('sigstore', 'conformance', 'bundle-with-root-cert_fail', 'bundle.sigstore.json').verificationMaterial.x509CertificateChain.certificates
      .map((certificate: any) => Buffer.from(certificate.rawBytes, 'base64'))
      .filter((der: Buffer) => { const certificate = new X509Certificate(der); return certificate.subject === certificate.issuer; });
    assert.equal(forged.length, 1);
    const unrelated = pemToDer(readDataText('notation', 'truststore', 'x509', 'ca', 'e2e', 'e2e.crt'));
    const genuine = publicGood().certificateAuthorities.flatMap((ca: any) => ca.certChain.certificates.map((certificate: any) => Buffer.from(certificate.rawBytes, 'base64')));
    for (const chain of [[forged[0]], [unrelated], [...genuine, forged[0]]]) {
      const verdict = verifyBundle(withChain(bundle, chain), { artifact: artifact(), digest: sha256Digest(artifact()) }, conformanceTrust());
      assert.equal(verdict.verified, false);
      assert.match(verdict.reason, /contains a root certificate .*not in the trusted root/);
    }
  });
});

/**
 * sigstore-conformance's trust-root-tlog-missing-validity-start_fail, derived from the
 * trust-root-tlog-validity-end-inclusive case the same way upstream builds it: its trusted root
 * with the `start` of the bundle's transparency-log key removed. TimeRange.start is required;
 * a verifier must refuse the root rather than treat the key as valid since the beginning of time.
 */
describe('trusted roots with a transparency-log key missing its validity start', options, () => {
  const base = 'trust-root-tlog-validity-end-inclusive';
  const artifact = () => readData('sigstore', 'conformance', 'a.txt');
  const bundle = () => readData('sigstore', 'conformance', base, 'bundle.sigstore.json');
  const trust = (trustedRoot: unknown): BundleTrust => ({ trustedRoot, identities: [{ subject: DEFAULT_IDENTITY, issuer: GITHUB_ISSUER }], publicKeys: [] });
  const withoutStart = (section: 'tlogs' | 'ctlogs') => {
    const root = readDataJson('sigstore', 'conformance', base, 'trusted_root.json');
    for (const log of root[section]) delete log.publicKey.validFor.start;
    return root;
  };

  it('the case it is derived from verifies with its own root', () => {
    const verdict = verifyBundle(bundle(), { artifact: artifact(), digest: sha256Digest(artifact()) }, trust(readDataJson('sigstore', 'conformance', base, 'trusted_root.json')));
    assert.equal(verdict.verified, true, verdict.reason);
  });
  it('trust-root-tlog-missing-validity-start_fail: MUST FAIL', () => {
    const verdict = verifyBundle(bundle(), { artifact: artifact(), digest: sha256Digest(artifact()) }, trust(withoutStart('tlogs')));
    assert.equal(verdict.verified, false);
    assert.match(verdict.reason, /transparency log .* has no validFor\.start/);
  });
  it('a CT log key without a validity start is refused the same way', () => {
    const verdict = verifyBundle(bundle(), { artifact: artifact(), digest: sha256Digest(artifact()) }, trust(withoutStart('ctlogs')));
    assert.equal(verdict.verified, false);
    assert.match(verdict.reason, /CT log .* has no validFor\.start/);
  });
  it('the trust configuration refuses such a root when it is loaded', () => {
    const parsed = parseTrustDocument({ keyless: { trustedRoot: withoutStart('tlogs'), identities: [{ subject: DEFAULT_IDENTITY, issuer: GITHUB_ISSUER }] } });
    assert.equal(parsed.ok, false);
    assert.match(parsed.ok ? '' : parsed.reason, /keyless\.trustedRoot: transparency log .* has no validFor\.start/);
    assert.equal(parseTrustDocument({ keyless: { trustedRoot: publicGood(), identities: [] } }).ok, true);
  });
});

describe('Sigstore bundle parsing', () => {
  it('knows every bundle media type spelling', () => {
    assert.equal(bundleVersion('application/vnd.dev.sigstore.bundle+json;version=0.1'), '0.1');
    assert.equal(bundleVersion('application/vnd.dev.sigstore.bundle+json;version=0.2'), '0.2');
    assert.equal(bundleVersion('application/vnd.dev.sigstore.bundle.v0.3+json'), '0.3');
    assert.equal(bundleVersion('application/json'), undefined);
  });
  it('malformed bundles are rejected with a reason', () => {
    for (const text of ['', '[]', '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}', '{"mediaType":"x"}',
      '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{},"dsseEnvelope":{"payload":"!!"}}']) {
      const verdict = verifyBundle(Buffer.from(text), { digest: sha256Digest('a') }, { identities: [], publicKeys: [] });
      assert.equal(verdict.verified, false);
      assert.ok(verdict.reason.length > 0);
    }
  });
});
