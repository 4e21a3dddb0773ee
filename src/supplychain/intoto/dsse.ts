/**
 * DSSE envelopes (`{payloadType, payload, signatures:[{keyid, sig, cert?}]}`): parsing and the
 * pre-authentication encoding that is what a DSSE signature actually signs.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { arrayField, decodeBase64, isObject, parseJson, stringField } from '../shared/json.ts';
import { rejected, verified, type Verdict } from '../shared/verdict.ts';
import { keyFingerprint, verifyWithKey } from '../cosign/signature-keys.ts';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface DsseEnvelope {
  readonly payloadType: string;
  readonly payload: Buffer;
  readonly signatures: readonly { readonly keyid?: string; readonly sig: Buffer; readonly cert?: string }[];
}

export type EnvelopeParse = { ok: true; envelope: DsseEnvelope } | { ok: false; reason: string };

/** PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body. */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

export function parseEnvelope(value: unknown): EnvelopeParse {
  if (!isObject(value)) return { ok: false, reason: 'DSSE envelope is not a JSON object' };
  const payloadType = stringField(value, 'payloadType');
  const payload = decodeBase64(stringField(value, 'payload'));
  if (payloadType === undefined) return { ok: false, reason: 'DSSE envelope has no payloadType' };
  if (!payload) return { ok: false, reason: 'DSSE payload is missing or not base64' };
  const signatures = [];
  for (const entry of arrayField(value, 'signatures')) {
    const sig = decodeBase64(stringField(entry, 'sig'));
    if (!sig || sig.length === 0) return { ok: false, reason: 'a DSSE signature is missing or not base64' };
    signatures.push({ keyid: stringField(entry, 'keyid'), sig, cert: stringField(entry, 'cert') });
  }
  if (signatures.length === 0) return { ok: false, reason: 'DSSE envelope has no signatures' };
  return { ok: true, envelope: { payloadType, payload, signatures } };
}

export function parseEnvelopeBytes(bytes: Uint8Array, maxBytes = 16 * 1024 * 1024): EnvelopeParse {
  const parsed = parseJson(bytes, maxBytes);
  return parsed.ok ? parseEnvelope(parsed.value) : { ok: false, reason: `DSSE envelope is ${parsed.reason}` };
}

/** Verifies any signature of the envelope with any of the trusted keys. */
export function verifyEnvelopeWithKeys(envelope: DsseEnvelope, keys: readonly { name: string; key: KeyObject }[]): Verdict {
  if (keys.length === 0) return rejected('no public key is trusted for DSSE envelopes');
  const signed = preAuthEncoding(envelope.payloadType, envelope.payload);
  for (const signature of envelope.signatures) {
    for (const { name, key } of keys) {
      if (verifyWithKey(key, signed, signature.sig)) {
        return verified(`DSSE signature verifies with trusted key "${name}"`, { signer: `key:${name} (${keyFingerprint(key)})` });
      }
    }
  }
  return rejected(`no DSSE signature verifies with any of the ${keys.length} trusted key(s)`);
}

/**
 * Checks the signature with the certificate embedded in the envelope only. This proves integrity,
 * not trust: without a transparency-log entry and a chain to a trusted CA the signer is unproven,
 * so callers report it as such.
 */
export function verifyWithEmbeddedCertificate(envelope: DsseEnvelope): { signatureValid: boolean; identity?: string; reason: string } {
  const signature = envelope.signatures.find((entry) => entry.cert !== undefined);
  if (!signature?.cert) return { signatureValid: false, reason: 'no certificate embedded in the DSSE envelope' };
  try {
    const certificate = new X509Certificate(signature.cert);
    const valid = verifyWithKey(certificate.publicKey, preAuthEncoding(envelope.payloadType, envelope.payload), signature.sig);
    const identity = /(?:URI|email):([^,]+)/.exec(certificate.subjectAltName ?? '')?.[1]?.trim();
    return { signatureValid: valid, identity, reason: valid ? 'DSSE signature matches the embedded certificate' : 'DSSE signature does not match the embedded certificate' };
  } catch (error) {
    return { signatureValid: false, reason: `embedded certificate is unreadable: ${error instanceof Error ? error.message : String(error)}` };
  }
}
