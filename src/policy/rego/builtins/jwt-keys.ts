/**
 * Keys for JWT verification and signing: a PEM certificate or public key, a JWK, or a JWK set,
 * read the way OPA reads them (its getKeysFromCertOrJWK and the jwx JWK parser).
 */
import {
  X509Certificate, createPrivateKey, createPublicKey, createSecretKey, type JsonWebKey, type KeyObject,
} from 'node:crypto';
import { pemDecodeFirst } from './crypto-pem.ts';

export class KeyError extends Error {}

/** A verification key: the key, and the algorithm and key ID a JWK set may attach to it. */
export interface VerificationKey {
  key: KeyObject;
  alg: string;
  kid: string;
}

/** The JWS algorithms OPA knows. */
export const JWS_ALGORITHMS = new Set([
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512', 'EdDSA',
]);

/** One JWK as a node key: public when `asPrivate` is false (a private JWK yields its public half). */
function jwkToKey(jwk: Record<string, unknown>, asPrivate: boolean): KeyObject {
  const kty = jwk.kty;
  if (typeof kty !== 'string') throw new KeyError('invalid JWK: missing "kty"');
  if (kty === 'oct') {
    if (typeof jwk.k !== 'string') throw new KeyError('invalid JWK: oct key without "k"');
    return createSecretKey(Buffer.from(jwk.k, 'base64url'));
  }
  if (kty !== 'RSA' && kty !== 'EC' && kty !== 'OKP') throw new KeyError(`invalid key type from JSON (${kty})`);
  const key = jwk as JsonWebKey;
  return asPrivate ? createPrivateKey({ key, format: 'jwk' }) : createPublicKey({ key, format: 'jwk' });
}

/** The members of a JWK or of each key in a JWK set. */
function jwkMembers(text: string): Record<string, unknown>[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new KeyError(`failed to unmarshal JSON into key set: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new KeyError('failed to unmarshal JSON into key set: not an object');
  }
  const obj = parsed as Record<string, unknown>;
  if (Array.isArray(obj.keys)) return obj.keys as Record<string, unknown>[];
  return [obj];
}

/** Keys from a JWK or JWK set; keys naming an unknown algorithm are skipped. */
export function keysFromJWK(text: string): VerificationKey[] {
  const keys: VerificationKey[] = [];
  for (const jwk of jwkMembers(text)) {
    const alg = typeof jwk.alg === 'string' ? jwk.alg : '';
    if (alg !== '' && !JWS_ALGORITHMS.has(alg)) continue;
    keys.push({ key: jwkToKey(jwk, false), alg, kid: typeof jwk.kid === 'string' ? jwk.kid : '' });
  }
  return keys;
}

/** Parsed keys by their text: policies verify many tokens against the same few keys. */
const keyCache = new Map<string, VerificationKey[]>();
const KEY_CACHE_SIZE = 64;

/** The verification keys in a `cert` argument: PEM certificate/public key, or JWK (set). */
export function verificationKeys(text: string): VerificationKey[] {
  const cached = keyCache.get(text);
  if (cached !== undefined) return cached;
  const keys = parseVerificationKeys(text);
  if (keyCache.size >= KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value!);
  keyCache.set(text, keys);
  return keys;
}

function parseVerificationKeys(text: string): VerificationKey[] {
  const pem = pemDecodeFirst(text);
  if (pem !== undefined) {
    if (pem.rest.length > 0) throw new KeyError('extra data after a PEM certificate block');
    if (pem.block.type === 'CERTIFICATE') {
      try {
        return [{ key: new X509Certificate(pem.block.bytes).publicKey, alg: '', kid: '' }];
      } catch (e) {
        throw new KeyError(`failed to parse a PEM certificate: ${(e as Error).message}`);
      }
    }
    if (pem.block.type === 'PUBLIC KEY') {
      try {
        return [{ key: createPublicKey({ key: pem.block.bytes, format: 'der', type: 'spki' }), alg: '', kid: '' }];
      } catch (e) {
        throw new KeyError(`failed to parse a PEM public key: ${(e as Error).message}`);
      }
    }
    throw new KeyError('failed to extract a Key from the PEM certificate');
  }
  try {
    return keysFromJWK(text);
  } catch (e) {
    throw new KeyError(`failed to parse a JWK key (set): ${(e as Error).message}`);
  }
}

/** The first key of a JWK (set) for signing: private keys, or the secret of an oct key. */
export function signingKey(text: string): KeyObject {
  const members = jwkMembers(text);
  if (members.length === 0) throw new KeyError('no keys found in JWK set');
  const jwk = members[0]!;
  return jwkToKey(jwk, jwk.d !== undefined);
}
