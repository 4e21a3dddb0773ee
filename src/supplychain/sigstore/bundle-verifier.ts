/**
 * Full Sigstore bundle verification against an offline trusted root, with @sigstore/verify:
 * certificate chain to a Fulcio CA valid at signing time, SCTs, transparency-log inclusion
 * (proof or promise), timestamps, then the signature and the required identity/issuer. What the
 * library does not check, and this module does: that what is signed is the expected subject —
 * the DSSE statement's subject digests, or the message digest — see `subjectCheck`.
 */
import { createPublicKey } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier, type TrustMaterial } from '@sigstore/verify';
import { errorMessage, rejected, verified, type Verdict } from '../shared/verdict.ts';
import { parseBundle, trustedRootCertificates, untrustedRootCertificate, type BundleSummary } from './bundle.ts';
import { statementSubjectDigests } from '../intoto/statement.ts';
import { arrayField, isObject, objectField, parseJson, stringField } from '../shared/json.ts';

export interface KeylessIdentity {
  /** Exact certificate SAN, or a /regex/ when it starts and ends with a slash. */
  readonly subject: string;
  readonly issuer: string;
}

export interface BundleTrust {
  /** Parsed trusted root (trusted_root.json); undefined = keyless bundles cannot verify. */
  readonly trustedRoot?: unknown;
  readonly identities: readonly KeylessIdentity[];
  /** Named PEM public keys for key-based ("managed key") bundles. */
  readonly publicKeys: readonly { readonly name: string; readonly pem: string }[];
}

export interface ExpectedSubject {
  /** The artifact bytes (required to check a message signature over a non-digest artifact). */
  readonly artifact?: Buffer;
  /** "sha256:<hex>" the bundle must be about. */
  readonly digest: string;
}

/**
 * Why a trusted_root.json cannot be used, or undefined. TimeRange.start is required by the
 * trusted-root schema; a transparency-log or CT-log key without it must make the root unusable
 * (sigstore-go and sigstore-conformance's trust-root-tlog-missing-validity-start_fail), not be
 * read as "valid since forever".
 */
export function trustedRootProblem(trustedRoot: unknown): string | undefined {
  if (!isObject(trustedRoot)) return 'trusted root is not a JSON object';
  for (const [section, label] of [['tlogs', 'transparency log'], ['ctlogs', 'CT log']] as const) {
    for (const [index, log] of arrayField(trustedRoot, section).entries()) {
      const publicKey = objectField(log, 'publicKey');
      const name = stringField(log, 'baseUrl') ?? `#${index + 1}`;
      if (!publicKey) return `${label} ${name} has no publicKey`;
      const start = stringField(objectField(publicKey, 'validFor'), 'start');
      if (start === undefined) return `${label} ${name} has no validFor.start for its key`;
      if (Number.isNaN(Date.parse(start))) return `${label} ${name} has an unreadable validFor.start "${start}"`;
    }
  }
  return undefined;
}

const materialCache = new WeakMap<object, Map<string, TrustMaterial>>();

function trustMaterial(trust: BundleTrust, keyName?: string): TrustMaterial {
  const root = TrustedRoot.fromJSON(trust.trustedRoot ?? { mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1' });
  const keys = trust.publicKeys.filter((key) => keyName === undefined || key.name === keyName);
  return toTrustMaterial(root, (hint) => {
    const key = keys.find((candidate) => candidate.name === hint) ?? keys[0];
    if (!key) throw new Error(`no trusted public key for hint "${hint}"`);
    return { publicKey: createPublicKey(key.pem), validFor: () => true };
  });
}

function cachedMaterial(trust: BundleTrust, keyName?: string): TrustMaterial {
  let perKey = materialCache.get(trust);
  if (!perKey) { perKey = new Map(); materialCache.set(trust, perKey); }
  const cacheKey = keyName ?? '*';
  let material = perKey.get(cacheKey);
  if (!material) { material = trustMaterial(trust, keyName); perKey.set(cacheKey, material); }
  return material;
}

/** Does the bundle sign the expected subject? undefined when it does, else the reason. */
export function subjectCheck(summary: BundleSummary, expected: ExpectedSubject): string | undefined {
  if (summary.content === 'message-signature') {
    if (summary.messageDigest !== expected.digest) return `bundle signs ${summary.messageDigest ?? 'an unknown digest'}, not the subject ${expected.digest}`;
    return undefined;
  }
  const statement = parseJson(summary.dssePayload ?? new Uint8Array());
  if (!statement.ok) return `DSSE payload is ${statement.reason}`;
  const digests = statementSubjectDigests(statement.value);
  if (digests.length === 0) return 'DSSE statement has no subject digests';
  if (!digests.includes(expected.digest)) return `statement subjects (${digests.slice(0, 3).join(', ')}) do not include ${expected.digest}`;
  return undefined;
}

function identityMatches(policy: string, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  if (policy.length > 2 && policy.startsWith('/') && policy.endsWith('/')) {
    try { return new RegExp(`^(?:${policy.slice(1, -1)})$`).test(actual); } catch { return false; }
  }
  return policy === actual;
}

export function verifyBundle(bytes: Uint8Array, expected: ExpectedSubject, trust: BundleTrust): Verdict {
  const parsed = parseBundle(bytes);
  if (!parsed.ok) return rejected(parsed.reason);
  // A root of the bundle's own would let it vouch for itself: roots come only from the trusted root.
  const foreignRoot = untrustedRootCertificate(parsed.summary.chainPems, trustedRootCertificates(trust.trustedRoot));
  if (foreignRoot) return rejected(`the bundle's certificate chain contains a root certificate (${foreignRoot}) that is not in the trusted root`);
  if (trust.trustedRoot !== undefined) {
    const rootProblem = trustedRootProblem(trust.trustedRoot);
    if (rootProblem) return rejected(`the trusted root is unusable: ${rootProblem}`);
  }
  const subjectProblem = subjectCheck(parsed.summary, expected);
  if (subjectProblem) return rejected(subjectProblem);
  const keyed = parsed.summary.certificatePem === undefined;
  if (keyed && trust.publicKeys.length === 0) return rejected('bundle is signed with a key and no public key is trusted');
  if (!keyed && (trust.trustedRoot === undefined || trust.identities.length === 0)) {
    return rejected('keyless bundle but no trusted root or no keyless identity is configured');
  }
  let signer;
  try {
    const bundle = bundleFromJSON(parsed.json);
    const entity = toSignedEntity(bundle, parsed.summary.content === 'message-signature' ? expected.artifact ?? Buffer.alloc(0) : undefined);
    const attempts = keyed ? trust.publicKeys.map((key) => key.name) : [undefined];
    let lastError: unknown;
    for (const keyName of attempts) {
      try {
        signer = new Verifier(cachedMaterial(trust, keyName), { tlogThreshold: 1, ctlogThreshold: keyed ? 0 : 1 }).verify(entity);
        break;
      } catch (error) {
        lastError = error;
      }
    }
    if (!signer) return rejected(`Sigstore verification failed: ${describeError(lastError)}`);
  } catch (error) {
    return rejected(`Sigstore verification failed: ${describeError(error)}`);
  }
  if (keyed) return verified('Sigstore bundle verifies with a trusted public key and the transparency log', { signer: 'key' });
  const san = signer.identity?.subjectAlternativeName;
  const issuer = signer.identity?.extensions?.issuer;
  const match = trust.identities.find((identity) => identityMatches(identity.subject, san) && identityMatches(identity.issuer, issuer));
  if (!match) return rejected(`certificate identity ${san ?? '(none)'} from issuer ${issuer ?? '(none)'} is not a trusted keyless identity`, { signer: san, issuer });
  return verified('Sigstore bundle verifies against the trusted root and a trusted identity', { signer: san, issuer });
}

function describeError(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? `${String((error as { code: unknown }).code)}: ` : '';
  return `${code}${errorMessage(error)}`;
}
