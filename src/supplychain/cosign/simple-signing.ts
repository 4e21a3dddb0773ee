/**
 * cosign's "simple signing" payloads (media type application/vnd.dev.cosign.simplesigning.v1+json):
 * `{critical:{identity:{docker-reference}, image:{docker-manifest-digest}, type}, optional}`. The
 * signature annotation signs these exact bytes; what they sign is the manifest digest inside.
 */
import type { KeyObject } from 'node:crypto';
import { decodeBase64, isObject, objectField, parseJson, stringField } from '../shared/json.ts';
import { isDigest } from '../shared/digest.ts';
import { rejected, verified, type Verdict } from '../shared/verdict.ts';
import { keyFingerprint, verifyWithKey } from './signature-keys.ts';

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';
export const CHAIN_ANNOTATION = 'dev.sigstore.cosign/chain';
export const BUNDLE_ANNOTATION = 'dev.sigstore.cosign/bundle';

export interface SimpleSigningPayload {
  readonly manifestDigest: string;
  readonly dockerReference?: string;
  readonly type: string;
  readonly optional?: Record<string, unknown>;
}

export type PayloadParse = { ok: true; payload: SimpleSigningPayload } | { ok: false; reason: string };

export function parseSimpleSigning(bytes: Uint8Array): PayloadParse {
  const parsed = parseJson(bytes, 1024 * 1024);
  if (!parsed.ok) return { ok: false, reason: `simple-signing payload is ${parsed.reason}` };
  const critical = objectField(parsed.value, 'critical');
  const digest = stringField(objectField(critical, 'image'), 'docker-manifest-digest');
  const type = stringField(critical, 'type');
  if (!critical || !isDigest(digest)) return { ok: false, reason: 'simple-signing payload has no critical.image.docker-manifest-digest' };
  if (type === undefined || type.toLowerCase() !== COSIGN_SIGNATURE_TYPE) return { ok: false, reason: `simple-signing payload type is "${type}", not "${COSIGN_SIGNATURE_TYPE}"` };
  const optional = objectField(parsed.value, 'optional');
  return {
    ok: true,
    payload: { manifestDigest: digest, dockerReference: stringField(objectField(critical, 'identity'), 'docker-reference'), type, ...(optional ? { optional } : {}) },
  };
}

/** The payload bytes cosign signs for a manifest digest (same field order as cosign). */
export function buildSimpleSigning(manifestDigest: string, dockerReference: string, optional: Record<string, string> | null = null): Buffer {
  return Buffer.from(JSON.stringify({
    critical: { identity: { 'docker-reference': dockerReference }, image: { 'docker-manifest-digest': manifestDigest }, type: COSIGN_SIGNATURE_TYPE },
    optional,
  }));
}

/**
 * Checks a key-based cosign signature: the base64 signature over the payload bytes, with one of
 * the trusted keys, and the payload naming `subjectDigest`. Checked in this order so the reason
 * names the first thing that is wrong.
 */
export function verifySimpleSigning(payloadBytes: Uint8Array, signatureBase64: unknown, subjectDigest: string, keys: readonly { name: string; key: KeyObject }[]): Verdict {
  const signature = decodeBase64(signatureBase64);
  if (!signature || signature.length === 0) return rejected('signature annotation is missing or not base64');
  const payload = parseSimpleSigning(payloadBytes);
  if (!payload.ok) return rejected(payload.reason);
  if (payload.payload.manifestDigest !== subjectDigest) {
    return rejected(`payload signs ${payload.payload.manifestDigest}, not the subject ${subjectDigest}`);
  }
  if (keys.length === 0) return rejected('no cosign public key is trusted');
  for (const { name, key } of keys) {
    if (verifyWithKey(key, payloadBytes, signature)) {
      return verified(`signature over the simple-signing payload verifies with trusted key "${name}"`, { signer: `key:${name} (${keyFingerprint(key)})` });
    }
  }
  return rejected(`signature does not verify with any of the ${keys.length} trusted key(s)`);
}

export function isSimpleSigningObject(value: unknown): boolean {
  return isObject(value) && isObject(value['critical']);
}
