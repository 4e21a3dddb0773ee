/** crypto.* hashes, HMACs and crypto.parse_private_keys, on node:crypto. */
import { createHash, createHmac, createPrivateKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { RNumber, RObject, fromJS, type Value } from '../value.ts';
import { str } from './operands.ts';
import { BuiltinError, type BuiltinDecl, type BuiltinFn } from './types.ts';
import { EncodingError, goBase64Decode, pemDecodeAll } from './crypto-pem.ts';

function hash(algorithm: string): BuiltinFn {
  return (args) => createHash(algorithm).update(str(args, 0), 'utf8').digest('hex');
}

function hmac(algorithm: string): BuiltinFn {
  return (args) => createHmac(algorithm, Buffer.from(str(args, 1), 'utf8')).update(str(args, 0), 'utf8').digest('hex');
}

/** Constant-time comparison (Go's hmac.Equal): different lengths are simply unequal. */
const hmacEqual: BuiltinFn = (args) => {
  const a = Buffer.from(str(args, 0), 'utf8');
  const b = Buffer.from(str(args, 1), 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
};

/** A big-endian unsigned integer from base64url (a JWK member) as an exact number. */
function jwkInt(b64: string | undefined): Value {
  if (b64 === undefined) return null;
  const hex = Buffer.from(b64, 'base64url').toString('hex');
  return RNumber.of(hex === '' ? 0n : BigInt(`0x${hex}`));
}

/** The JSON form Go's encoding/json gives a parsed private key (rsa/ecdsa/ed25519 structs). */
export function goPrivateKeyJSON(key: KeyObject): Value {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty === 'RSA') {
    return RObject.from([
      ['N', jwkInt(jwk.n)], ['E', jwkInt(jwk.e)], ['D', jwkInt(jwk.d)],
      ['Primes', [jwkInt(jwk.p), jwkInt(jwk.q)]],
      ['Precomputed', RObject.from([
        ['Dp', jwkInt(jwk.dp)], ['Dq', jwkInt(jwk.dq)], ['Qinv', jwkInt(jwk.qi)], ['CRTValues', []],
      ])],
    ]);
  }
  if (jwk.kty === 'EC') {
    return RObject.from([['Curve', RObject.from([])], ['X', jwkInt(jwk.x)], ['Y', jwkInt(jwk.y)], ['D', jwkInt(jwk.d)]]);
  }
  if (jwk.kty === 'OKP' && jwk.d !== undefined && jwk.x !== undefined) {
    // ed25519.PrivateKey is the seed followed by the public key, marshalled as base64.
    return Buffer.concat([Buffer.from(jwk.d, 'base64url'), Buffer.from(jwk.x, 'base64url')]).toString('base64');
  }
  return fromJS(jwk);
}

const PRIVATE_KEY_TYPES: Readonly<Record<string, 'pkcs1' | 'pkcs8' | 'sec1'>> = {
  'RSA PRIVATE KEY': 'pkcs1',
  'PRIVATE KEY': 'pkcs8',
  'EC PRIVATE KEY': 'sec1',
};

/** Private keys in PEM text (or base64 of it), as OPA's getPrivateKeysFromPEMData finds them. */
export function privateKeysFromPEM(input: string): KeyObject[] {
  let text = input;
  try {
    text = goBase64Decode(input).toString('utf8');
  } catch (e) {
    if (!(e instanceof EncodingError)) throw e;
  }
  const keys: KeyObject[] = [];
  for (const block of pemDecodeAll(text)) {
    const type = PRIVATE_KEY_TYPES[block.type];
    if (type === undefined) continue;
    try {
      keys.push(createPrivateKey({ key: block.bytes, format: 'der', type }));
    } catch (e) {
      throw new BuiltinError(`x509: failed to parse private key: ${(e as Error).message}`);
    }
  }
  return keys;
}

const parsePrivateKeys: BuiltinFn = (args) => {
  const input = str(args, 0);
  if (input === '') return null;
  return privateKeysFromPEM(input).map(goPrivateKeyJSON);
};

export const builtins: BuiltinDecl[] = [
  { name: 'crypto.md5', args: ['string'], result: 'string', fn: hash('md5') },
  { name: 'crypto.sha1', args: ['string'], result: 'string', fn: hash('sha1') },
  { name: 'crypto.sha256', args: ['string'], result: 'string', fn: hash('sha256') },
  { name: 'crypto.hmac.md5', args: ['string', 'string'], result: 'string', fn: hmac('md5') },
  { name: 'crypto.hmac.sha1', args: ['string', 'string'], result: 'string', fn: hmac('sha1') },
  { name: 'crypto.hmac.sha256', args: ['string', 'string'], result: 'string', fn: hmac('sha256') },
  { name: 'crypto.hmac.sha512', args: ['string', 'string'], result: 'string', fn: hmac('sha512') },
  { name: 'crypto.hmac.equal', args: ['string', 'string'], result: 'boolean', fn: hmacEqual },
  {
    name: 'crypto.parse_private_keys', args: ['string'], result: 'array[object[string: any]]', fn: parsePrivateKeys,
  },
];
