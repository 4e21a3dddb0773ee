/** io.jwt.* built-ins: decoding, signature verification, constraint checking and signing. */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { toJSONText, type Value } from '../value.ts';
import { obj, str } from './operands.ts';
import { BuiltinError, type BuiltinContext, type BuiltinDecl, type BuiltinFn } from './types.ts';
import { JWS_ALGORITHMS, KeyError, signingKey, verificationKeys, type VerificationKey } from './jwt-keys.ts';
import { jwsSign, jwsVerify } from './jwt-jws.ts';
import { decodeVerify } from './jwt-verify.ts';
import {
  decodeHeader, decodePayloadText, decodeSignature, jsonObject, splitToken,
} from './jwt-token.ts';

const decode: BuiltinFn = (args) => {
  let token = splitToken(args[0]!);
  for (;;) {
    const header = decodeHeader(token);
    const payloadText = decodePayloadText(token);
    if (header.get('cty') === 'JWT') {
      // A nested token is the payload, possibly quoted (as jwt.io produces it).
      token = splitToken(payloadText.replace(/^["']+|["']+$/g, ''));
      continue;
    }
    const payload = jsonObject(payloadText);
    const signature = decodeSignature(token);
    return [header, payload, signature.toString('hex')];
  }
};

function keysOperand(args: Value[]): VerificationKey[] {
  try {
    return verificationKeys(str(args, 1));
  } catch (e) {
    if (e instanceof KeyError) throw new BuiltinError(e.message);
    throw e;
  }
}

/** io.jwt.verify_<alg>: the token's signature under any of the given keys (a matching kid first). */
function verifyWith(alg: string): BuiltinFn {
  return (args) => {
    const token = splitToken(args[0]!);
    const keys = keysOperand(args);
    const signature = decodeSignature(token);
    const header = decodeHeader(token);
    const data = Buffer.from(`${token.header}.${token.payload}`, 'latin1');
    const kid = header.get('kid');
    const headerAlg = header.get('alg');
    if (typeof kid === 'string' && kid !== '') {
      const byKid = keys.find((k) => k.kid === kid);
      if (byKid !== undefined) return jwsVerify(byKid.key, alg, data, signature);
    }
    return keys.some((k) => (k.alg === '' || k.alg === headerAlg) && jwsVerify(k.key, alg, data, signature));
  };
}

/** io.jwt.verify_hs<bits>: HMAC with the secret. */
function verifyHmac(alg: string): BuiltinFn {
  return (args) => {
    const jwt = str(args, 0);
    const secret = str(args, 1);
    const token = splitToken(jwt);
    const signature = decodeSignature(token);
    const data = Buffer.from(`${token.header}.${token.payload}`, 'latin1');
    return jwsVerify(secretKey(secret), alg, data, signature);
  };
}

function secretKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
}

/** Go's json.Marshal escapes HTML-significant characters and line/paragraph separators. */
function goJSON(v: Value): string {
  return toJSONText(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The "alg" of raw header text, with the messages OPA's JWS library gives. */
function headerAlgorithm(headers: string): string {
  const fail = (why: string): never => {
    throw new BuiltinError(`missing or invalid 'alg' header: ${why}`);
  };
  if (headers === '') fail('cannot parse JSON: cannot parse empty string');
  let parsed: unknown;
  if (headers.trimStart().startsWith('{')) {
    try {
      parsed = JSON.parse(headers);
    } catch (e) {
      fail(`cannot parse JSON: ${(e as Error).message}`);
    }
  }
  const alg = (parsed as Record<string, unknown> | undefined)?.alg;
  if (typeof alg !== 'string') fail('jwsbb: header "alg" not found');
  return alg as string;
}

function isJSON(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function encodeSign(headers: string, payload: string, jwk: string): string {
  let key;
  try {
    key = signingKey(jwk);
  } catch (e) {
    throw new BuiltinError((e as Error).message);
  }
  const alg = headerAlgorithm(headers);
  if (!JWS_ALGORITHMS.has(alg)) throw new BuiltinError(`unknown JWS algorithm: ${alg}`);
  let typ: unknown;
  try {
    typ = (JSON.parse(headers) as Record<string, unknown>).typ;
  } catch {
    typ = undefined;
  }
  if ((typeof typ !== 'string' || typ === 'JWT') && !isJSON(payload)) {
    throw new BuiltinError('type is JWT but payload is not JSON');
  }
  const signingInput = `${Buffer.from(headers, 'utf8').toString('base64url')}.${Buffer.from(payload, 'utf8').toString('base64url')}`;
  try {
    return `${signingInput}.${jwsSign(key, alg, Buffer.from(signingInput, 'latin1')).toString('base64url')}`;
  } catch (e) {
    throw new BuiltinError((e as Error).message);
  }
}

const encodeSignRaw: BuiltinFn = (args) => {
  const jwk = str(args, 2);
  return encodeSign(str(args, 0), str(args, 1), jwk);
};

const encodeSignValues: BuiltinFn = (args) => encodeSign(goJSON(args[0]!), goJSON(args[1]!), goJSON(args[2]!));

const decodeVerifyFn: BuiltinFn = (args, ctx: BuiltinContext) => decodeVerify(args[0]!, obj(args, 1), ctx.nowNs);

const verifiers: BuiltinDecl[] = ['RS', 'PS', 'ES'].flatMap((family) =>
  ['256', '384', '512'].map((bits) => ({
    name: `io.jwt.verify_${family.toLowerCase()}${bits}`, args: ['string', 'string'], result: 'boolean',
    fn: verifyWith(family + bits),
  })),
);

export const builtins: BuiltinDecl[] = [
  {
    name: 'io.jwt.decode', args: ['string'], result: 'array<object[string: any], object[string: any], string>', fn: decode,
  },
  {
    name: 'io.jwt.decode_verify', args: ['string', 'object[string: any]'],
    result: 'array<boolean, object[string: any], object[string: any]>', fn: decodeVerifyFn,
  },
  ...verifiers,
  { name: 'io.jwt.verify_eddsa', args: ['string', 'string'], result: 'boolean', fn: verifyWith('EdDSA') },
  ...['256', '384', '512'].map((bits) => ({
    name: `io.jwt.verify_hs${bits}`, args: ['string', 'string'], result: 'boolean', fn: verifyHmac(`HS${bits}`),
  })),
  {
    name: 'io.jwt.encode_sign', args: ['object[string: any]', 'object[string: any]', 'object[string: any]'],
    result: 'string', fn: encodeSignValues, nondeterministic: true,
  },
  {
    name: 'io.jwt.encode_sign_raw', args: ['string', 'string', 'string'], result: 'string', fn: encodeSignRaw,
    nondeterministic: true,
  },
];
