/**
 * Verifying and making raw signatures with the key kinds cosign supports: ECDSA P-256/P-384/P-521
 * (DER signatures), Ed25519 and RSA (PKCS#1 v1.5, or PSS). The hash follows the curve the way
 * Sigstore's default verifiers do; SHA-256 is also accepted for every ECDSA curve because older
 * cosign releases always used it.
 */
import { createHash, createPublicKey, sign as cryptoSign, verify as cryptoVerify, constants, type KeyObject } from 'node:crypto';

export type KeyParse = { ok: true; key: KeyObject; description: string } | { ok: false; reason: string };

export function parsePublicKey(pem: string): KeyParse {
  try {
    const key = createPublicKey(pem);
    return { ok: true, key, description: describeKey(key) };
  } catch (error) {
    return { ok: false, reason: `not a PEM public key: ${error instanceof Error ? error.message : String(error)}` };
  }
}

export function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') return `ECDSA ${details.namedCurve ?? 'unknown curve'}`;
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') return `RSA ${details.modulusLength ?? '?'} bits`;
  return String(key.asymmetricKeyType);
}

/** "sha256:<hex>" of the SubjectPublicKeyInfo: a stable name for a key-based signer. */
export function keyFingerprint(key: KeyObject): string {
  const der = key.export({ format: 'der', type: 'spki' });
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

function ecdsaHashes(key: KeyObject): string[] {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve === 'secp384r1') return ['sha384', 'sha256'];
  if (curve === 'secp521r1') return ['sha512', 'sha256'];
  return ['sha256'];
}

/** True when `signature` is a valid signature of `data` by `key`; never throws on bad input. */
export function verifyWithKey(key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    switch (key.asymmetricKeyType) {
      case 'ed25519':
        return cryptoVerify(null, data, key, signature);
      case 'ec':
        return ecdsaHashes(key).some((hash) => cryptoVerify(hash, data, key, signature));
      case 'rsa':
        return cryptoVerify('sha256', data, key, signature)
          || cryptoVerify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, signature);
      case 'rsa-pss':
        return cryptoVerify('sha256', data, key, signature);
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/** A signature as cosign would make it with this private key. */
export function signWithKey(privateKey: KeyObject, data: Uint8Array): Buffer {
  if (privateKey.asymmetricKeyType === 'ed25519') return cryptoSign(null, data, privateKey);
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  const hash = curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256';
  return cryptoSign(hash, data, privateKey);
}
