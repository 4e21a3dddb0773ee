/**
 * One verifier for every kind of attachment, dispatching on its evidence: cosign simple signing
 * (key, or keyless with the Rekor bundle annotation), Sigstore bundles, Notary Project envelopes,
 * DSSE attestations. Always answers with a Verdict; "verified" requires both a trusted signature
 * and that what is signed is the subject.
 */
import { sha256Digest } from '../shared/digest.ts';
import { decodeBase64, parseJson } from '../shared/json.ts';
import { errorMessage, rejected, type Verdict } from '../shared/verdict.ts';
import { parseSimpleSigning, verifySimpleSigning } from '../cosign/simple-signing.ts';
import { verifyBundle } from '../sigstore/bundle-verifier.ts';
import { legacyAttestationBundle, legacySignatureBundle } from '../sigstore/legacy-cosign.ts';
import { verifyNotarySignature } from '../notation/verify.ts';
import { parseEnvelopeBytes, verifyEnvelopeWithKeys, verifyWithEmbeddedCertificate } from '../intoto/dsse.ts';
import { statementSubjectDigests } from '../intoto/statement.ts';
import type { Attachment } from '../index/records.ts';
import type { TrustConfig } from '../trust/trust-config.ts';

export interface SubjectInfo {
  /** The subject manifest bytes, when the registry has them (message-signature bundles sign these). */
  readonly manifest?: Uint8Array;
  readonly registryHost?: string;
}

export function verifyAttachment(attachment: Attachment, trust: TrustConfig, subject: SubjectInfo): Verdict & { skipped?: boolean } {
  if (attachment.detail.problem) return rejected(`unreadable ${attachment.kind}: ${attachment.detail.problem}`);
  try {
    return dispatch(attachment, trust, subject);
  } catch (error) {
    return rejected(`verification failed unexpectedly: ${errorMessage(error)}`);
  }
}

function dispatch(attachment: Attachment, trust: TrustConfig, subject: SubjectInfo): Verdict & { skipped?: boolean } {
  const evidence = attachment.evidence;
  switch (evidence.type) {
    case 'cosign': return verifyCosign(attachment.subject, evidence, trust);
    case 'sigstore-bundle':
      return verifyBundle(decodeBase64(evidence.bundle)!, { digest: attachment.subject, ...(subject.manifest ? { artifact: Buffer.from(subject.manifest) } : {}) }, trust.bundleTrust);
    case 'notation':
      return verifyNotarySignature({
        envelope: decodeBase64(evidence.envelope)!, envelopeMediaType: evidence.mediaType, subjectDigest: attachment.subject,
        ...(subject.manifest ? { subjectSize: subject.manifest.byteLength } : {}), repository: attachment.repository,
        ...(subject.registryHost ? { registryHost: subject.registryHost } : {}),
      }, trust.notaryPolicy, trust.notaryStores);
    case 'dsse': return verifyDsse(attachment.subject, evidence, trust);
    case 'none': return rejected('unsigned: nothing to verify');
  }
}

function verifyCosign(subjectDigest: string, evidence: Extract<Attachment['evidence'], { type: 'cosign' }>, trust: TrustConfig): Verdict {
  const payload = decodeBase64(evidence.payload)!;
  if (!evidence.certificate) return verifySimpleSigning(payload, evidence.signature, subjectDigest, trust.cosignKeys);
  // Keyless: the payload must name the subject, then the whole Sigstore chain must hold.
  const parsed = parseSimpleSigning(payload);
  if (!parsed.ok) return rejected(parsed.reason);
  if (parsed.payload.manifestDigest !== subjectDigest) return rejected(`payload signs ${parsed.payload.manifestDigest}, not the subject ${subjectDigest}`);
  if (!evidence.rekorBundle) return rejected('keyless cosign signature without a Rekor bundle annotation cannot be verified offline');
  const bundle = legacySignatureBundle(payload, evidence.signature, evidence.certificate, evidence.rekorBundle);
  if (!bundle.ok) return rejected(bundle.reason);
  return verifyBundle(bundle.bundle, { digest: sha256Digest(payload), artifact: payload }, trust.bundleTrust);
}

function verifyDsse(subjectDigest: string, evidence: Extract<Attachment['evidence'], { type: 'dsse' }>, trust: TrustConfig): Verdict {
  const bytes = decodeBase64(evidence.envelope)!;
  const envelope = parseEnvelopeBytes(bytes);
  if (!envelope.ok) return rejected(envelope.reason);
  const statement = parseJson(envelope.envelope.payload);
  const digests = statement.ok ? statementSubjectDigests(statement.value) : [];
  if (!digests.includes(subjectDigest)) return rejected(`attestation subjects (${digests.slice(0, 3).join(', ') || 'none'}) do not include ${subjectDigest}`);
  if (evidence.certificate && evidence.rekorBundle) {
    const json = parseJson(bytes);
    const bundle = legacyAttestationBundle(json.ok ? json.value as Record<string, unknown> : {}, evidence.certificate, evidence.rekorBundle);
    if (!bundle.ok) return rejected(bundle.reason);
    return verifyBundle(bundle.bundle, { digest: subjectDigest }, trust.bundleTrust);
  }
  if (evidence.certificate) return rejected('keyless DSSE attestation without a Rekor bundle annotation cannot be verified offline');
  const keyed = verifyEnvelopeWithKeys(envelope.envelope, trust.cosignKeys);
  if (keyed.verified || !envelope.envelope.signatures.some((signature) => signature.cert)) return keyed;
  // slsa-github-generator v1 style: the Fulcio certificate rides inside the envelope, the log entry does not.
  const embedded = verifyWithEmbeddedCertificate(envelope.envelope);
  return rejected(embedded.signatureValid
    ? `DSSE signature matches its embedded certificate (${embedded.identity ?? 'no identity'}), but without a transparency-log entry the certificate cannot be trusted offline`
    : `embedded certificate: ${embedded.reason}`, embedded.identity ? { signer: embedded.identity } : {});
}
