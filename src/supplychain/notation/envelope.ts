/**
 * What both Notary Project envelope formats (JWS and COSE_Sign1) boil down to once parsed: the
 * signed payload (a target-artifact descriptor), the certificate chain, the signing scheme and
 * times, and a way to check the signature with the leaf key.
 */
import { X509Certificate, constants, verify, type KeyObject } from 'node:crypto';
import { isDigest } from '../shared/digest.ts';
import { isObject, objectField, parseJson, stringField } from '../shared/json.ts';

export const NOTARY_SIGNATURE_ARTIFACT_TYPE = 'application/vnd.cncf.notary.signature';
export const NOTARY_PAYLOAD_TYPE = 'application/vnd.cncf.notary.payload.v1+json';
export const JWS_MEDIA_TYPE = 'application/jose+json';
export const COSE_MEDIA_TYPE = 'application/cose';

export interface TargetArtifact {
  readonly mediaType?: string;
  readonly digest: string;
  readonly size: number;
}

export interface NotaryEnvelope {
  readonly format: 'jws' | 'cose';
  readonly target: TargetArtifact;
  /** Leaf first, as in x5c / x5chain. */
  readonly certificates: readonly X509Certificate[];
  readonly signingScheme: string;
  readonly signingTime?: Date;
  readonly expiry?: Date;
  /** True when the signature verifies with the leaf certificate's public key. */
  readonly signatureValid: boolean;
}

export type EnvelopeResult = { ok: true; envelope: NotaryEnvelope } | { ok: false; reason: string };

export function parseTargetArtifact(payload: Uint8Array): TargetArtifact | string {
  const parsed = parseJson(payload, 1024 * 1024);
  if (!parsed.ok) return `payload is ${parsed.reason}`;
  const target = objectField(parsed.value, 'targetArtifact');
  const digest = stringField(target, 'digest');
  const size = isObject(target) ? target['size'] : undefined;
  if (!isDigest(digest) || typeof size !== 'number') return 'payload has no targetArtifact with a digest and size';
  return { mediaType: stringField(target, 'mediaType'), digest, size };
}

export function parseCertificates(ders: readonly Uint8Array[]): X509Certificate[] | string {
  if (ders.length === 0) return 'the envelope carries no certificate chain';
  try {
    return ders.map((der) => new X509Certificate(Buffer.from(der)));
  } catch (error) {
    return `a certificate of the chain is unreadable: ${error instanceof Error ? error.message : String(error)}`;
  }
}

export interface SignatureAlgorithm {
  readonly hash: string;
  readonly kind: 'rsa-pss' | 'ecdsa';
}

/** Checks a signature made with one of the Notary Project's algorithms; false for any failure. */
export function signatureValid(algorithm: SignatureAlgorithm, key: KeyObject, signed: Uint8Array, signature: Uint8Array): boolean {
  try {
    return algorithm.kind === 'rsa-pss'
      ? verify(algorithm.hash, signed, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature)
      : verify(algorithm.hash, signed, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

/** Hash and padding of the signature algorithms the Notary Project allows. */
export function algorithmParameters(alg: string): SignatureAlgorithm | undefined {
  const table: Record<string, SignatureAlgorithm> = {
    PS256: { hash: 'sha256', kind: 'rsa-pss' }, PS384: { hash: 'sha384', kind: 'rsa-pss' }, PS512: { hash: 'sha512', kind: 'rsa-pss' },
    ES256: { hash: 'sha256', kind: 'ecdsa' }, ES384: { hash: 'sha384', kind: 'ecdsa' }, ES512: { hash: 'sha512', kind: 'ecdsa' },
  };
  return table[alg];
}
