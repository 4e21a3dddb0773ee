/**
 * cosign's older keyless format keeps the pieces of a Sigstore bundle in layer annotations: the
 * Fulcio certificate, and a Rekor "bundle" `{SignedEntryTimestamp, Payload:{body, integratedTime,
 * logIndex, logID}}`. Re-assembled into a v0.1 bundle, the same full verification applies
 * (chain, SCT, signed entry timestamp, signature, identity).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { decodeBase64, isObject, objectField, parseJson, stringField } from '../shared/json.ts';

export type LegacyBundle = { ok: true; bundle: Buffer } | { ok: false; reason: string };

function certificateDer(pem: string): Buffer | undefined {
  try { return new X509Certificate(pem).raw; } catch { return undefined; }
}

function tlogEntry(rekorBundle: string): Record<string, unknown> | string {
  const parsed = parseJson(rekorBundle, 1024 * 1024);
  if (!parsed.ok || !isObject(parsed.value)) return 'Rekor bundle annotation is not JSON';
  const payload = objectField(parsed.value, 'Payload');
  const body = stringField(payload, 'body');
  const set = stringField(parsed.value, 'SignedEntryTimestamp');
  const logId = stringField(payload, 'logID');
  const integratedTime = payload?.['integratedTime'], logIndex = payload?.['logIndex'];
  if (!body || !set || !logId || typeof integratedTime !== 'number' || typeof logIndex !== 'number') return 'Rekor bundle annotation lacks body, SignedEntryTimestamp, logID, logIndex or integratedTime';
  const entry = parseJson(decodeBase64(body) ?? '');
  const kind = stringField(entry.ok ? entry.value : undefined, 'kind');
  const version = stringField(entry.ok ? entry.value : undefined, 'apiVersion');
  if (!kind || !version) return 'Rekor entry body has no kind/apiVersion';
  return {
    logIndex: String(logIndex), logId: { keyId: Buffer.from(logId, 'hex').toString('base64') }, kindVersion: { kind, version },
    integratedTime: String(integratedTime), inclusionPromise: { signedEntryTimestamp: set }, canonicalizedBody: body,
  };
}

function assemble(certificatePem: string, rekorBundle: string, content: Record<string, unknown>): LegacyBundle {
  const der = certificateDer(certificatePem);
  if (!der) return { ok: false, reason: 'certificate annotation is not a PEM certificate' };
  const entry = tlogEntry(rekorBundle);
  if (typeof entry === 'string') return { ok: false, reason: entry };
  return {
    ok: true,
    bundle: Buffer.from(JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
      verificationMaterial: { x509CertificateChain: { certificates: [{ rawBytes: der.toString('base64') }] }, tlogEntries: [entry], timestampVerificationData: { rfc3161Timestamps: [] } },
      ...content,
    })),
  };
}

/** A simple-signing signature (payload + base64 signature) as a message-signature bundle. */
export function legacySignatureBundle(payload: Buffer, signature: string, certificatePem: string, rekorBundle: string): LegacyBundle {
  const digest = createHash('sha256').update(payload).digest('base64');
  return assemble(certificatePem, rekorBundle, { messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest }, signature } });
}

/** A DSSE attestation layer as a DSSE bundle. */
export function legacyAttestationBundle(envelope: Record<string, unknown>, certificatePem: string, rekorBundle: string): LegacyBundle {
  return assemble(certificatePem, rekorBundle, { dsseEnvelope: envelope });
}
