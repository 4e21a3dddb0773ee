/** JWS signing and verification for every algorithm OPA supports, on node:crypto. */
import { constants, createHmac, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';

export class JWSError extends Error {}

const HASHES: Readonly<Record<string, string>> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

/** The node signing options of an algorithm: digest, and padding or signature encoding. */
function scheme(alg: string, key: KeyObject): { digest: string | null; options: Record<string, unknown> } {
  if (alg === 'EdDSA') {
    if (key.asymmetricKeyType !== 'ed25519' && key.asymmetricKeyType !== 'ed448') throw new JWSError('incorrect key type');
    return { digest: null, options: {} };
  }
  const family = alg.slice(0, 2);
  const digest = HASHES[alg.slice(2)];
  if (digest === undefined) throw new JWSError(`unsupported signature algorithm: ${alg}`);
  switch (family) {
    case 'RS':
      // PKCS #1 v1.5 is node's default for RSA keys; no options keeps the prepared key fast.
      if (key.asymmetricKeyType !== 'rsa') throw new JWSError('incorrect key type');
      return { digest, options: {} };
    case 'PS':
      if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') throw new JWSError('incorrect key type');
      return { digest, options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } };
    case 'ES':
      if (key.asymmetricKeyType !== 'ec') throw new JWSError('incorrect key type');
      return { digest, options: { dsaEncoding: 'ieee-p1363' } };
    default:
      throw new JWSError(`unsupported signature algorithm: ${alg}`);
  }
}

function hmac(alg: string, key: KeyObject, data: Buffer): Buffer {
  const digest = HASHES[alg.slice(2)];
  if (digest === undefined || key.type !== 'secret') throw new JWSError('incorrect key type');
  return createHmac(digest, key).update(data).digest();
}

/** Whether the signature over data verifies with the key under the algorithm (errors count as no). */
export function jwsVerify(key: KeyObject, alg: string, data: Buffer, signature: Buffer): boolean {
  try {
    if (alg.startsWith('HS')) {
      const expected = hmac(alg, key, data);
      return expected.length === signature.length && timingSafeEqual(expected, signature);
    }
    if (key.type === 'secret') return false;
    const { digest, options } = scheme(alg, key);
    if (alg.startsWith('PS')) {
      // Go's rsa.VerifyPSS with nil options accepts any salt length.
      options.saltLength = constants.RSA_PSS_SALTLEN_AUTO;
    }
    return verify(digest, data, Object.keys(options).length === 0 ? key : ({ key, ...options } as never), signature);
  } catch {
    return false;
  }
}

/** Signs data with the key under the algorithm. */
export function jwsSign(key: KeyObject, alg: string, data: Buffer): Buffer {
  if (alg.startsWith('HS')) return hmac(alg, key, data);
  if (key.type !== 'private') throw new JWSError(`invalid key for ${alg} signing: a private key is required`);
  const { digest, options } = scheme(alg, key);
  return sign(digest, data, Object.keys(options).length === 0 ? key : ({ key, ...options } as never));
}
