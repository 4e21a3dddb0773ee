import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { RNumber, RObject, toJSONText, type Value } from '../value.ts';
import type { BuiltinContext } from './types.ts';
import { builtins } from './jwt.ts';

const table = new Map(builtins.map((b) => [b.name, b]));
const NOW_SECONDS = 1_700_000_000;
const ctx: BuiltinContext = { nowNs: BigInt(NOW_SECONDS) * 1_000_000_000n, cache: new Map(), strict: true };
const call = (name: string, ...args: Value[]): Value => table.get(name)!.fn(args, ctx)!;
const obj = (o: Record<string, Value>): RObject => RObject.from(Object.entries(o));

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const jwk = (k: KeyObject, extra: Record<string, string> = {}): string => JSON.stringify({ ...k.export({ format: 'jwk' }), ...extra });
const pem = (k: KeyObject): string => k.export({ format: 'pem', type: 'spki' }).toString();

function sign(alg: string, key: KeyObject, claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  return call('io.jwt.encode_sign_raw', JSON.stringify({ alg, typ: 'JWT', ...header }), JSON.stringify(claims), jwk(key)) as string;
}

test('tokens signed with every asymmetric algorithm verify with the matching PEM key only', () => {
  const cases: [string, KeyObject, KeyObject, KeyObject][] = [
    ['RS256', rsa.privateKey, rsa.publicKey, ec.publicKey],
    ['PS384', rsa.privateKey, rsa.publicKey, ec.publicKey],
    ['ES256', ec.privateKey, ec.publicKey, rsa.publicKey],
    ['EdDSA', ed.privateKey, ed.publicKey, rsa.publicKey],
  ];
  for (const [alg, priv, pub, other] of cases) {
    const token = sign(alg, priv, { iss: 'wharf' });
    const verify = `io.jwt.verify_${alg.toLowerCase()}`;
    assert.equal(call(verify, token, pem(pub)), true, alg);
    assert.equal(call(verify, token, pem(other)), false, alg);
    assert.equal(call(verify, token.slice(0, -4) + 'AAAA', pem(pub)), false, alg);
  }
});

test('HMAC tokens verify with the secret and match RFC 7515 appendix A.1', () => {
  const key = obj({ kty: 'oct', k: 'AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow' });
  const token = call('io.jwt.encode_sign', obj({ alg: 'HS256', typ: 'JWT' }), obj({}), key) as string;
  assert.equal(token, 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.6cvao8lnOu6FAdK68jQFcDMXOmaWNwWiYhCgijd-AD8');
  const secret = JSON.stringify({ kty: 'oct', k: Buffer.from('s3cret').toString('base64url') });
  const secretToken = call('io.jwt.encode_sign_raw', '{"alg":"HS512"}', '{}', secret) as string;
  assert.equal(call('io.jwt.verify_hs512', secretToken, 's3cret'), true);
  assert.equal(call('io.jwt.verify_hs512', secretToken, 'wrong'), false);
  assert.throws(() => call('io.jwt.verify_hs256', 'a.b', 's'), /encoded JWT must have 3 sections, found 2/);
});

test('decode_verify applies alg, iss, aud, exp and nbf constraints', () => {
  const cert = pem(rsa.publicKey);
  const claims = { iss: 'wharf', aud: ['registry', 'ci'], exp: NOW_SECONDS + 60, nbf: NOW_SECONDS - 60 };
  const token = sign('RS256', rsa.privateKey, claims);
  const dv = (c: Record<string, Value>): string => toJSONText(call('io.jwt.decode_verify', token, obj(c)));
  assert.match(dv({ cert, iss: 'wharf', aud: 'ci' }), /^\[true,\{"alg":"RS256","typ":"JWT"\},/);
  const unverified = '[false,{},{}]';
  assert.equal(dv({ cert, iss: 'other' }), unverified);
  assert.equal(dv({ cert, aud: 'nobody' }), unverified);
  assert.equal(dv({ cert }), unverified); // an aud claim demands an aud constraint
  assert.equal(dv({ cert, aud: 'ci', alg: 'ES256' }), unverified);
  assert.equal(dv({ cert, aud: 'ci', time: RNumber.of(BigInt(NOW_SECONDS + 61) * 1_000_000_000n) }), unverified);
  assert.equal(dv({ cert, aud: 'ci', time: RNumber.of(BigInt(NOW_SECONDS - 61) * 1_000_000_000n) }), unverified);
  assert.throws(() => dv({ aud: 'ci' }), /no key constraint/);
  assert.throws(() => dv({ cert, secret: 'x' }), /duplicate key constraints/);
  assert.throws(() => dv({ cert, bogus: 'x' }), /unknown token validation constraint: bogus/);
});

test('JWK sets pick the key by kid, and decode returns header, payload and hex signature', () => {
  const set = JSON.stringify({ keys: [JSON.parse(jwk(ec.publicKey, { kid: 'a' })), JSON.parse(jwk(rsa.publicKey, { kid: 'b' }))] });
  const token = sign('RS256', rsa.privateKey, { sub: 'x' }, { kid: 'b' });
  assert.equal(call('io.jwt.verify_rs256', token, set), true);
  const [header, payload, signature] = call('io.jwt.decode', token) as Value[];
  assert.equal(toJSONText(header!), '{"alg":"RS256","kid":"b","typ":"JWT"}');
  assert.equal(toJSONText(payload!), '{"sub":"x"}');
  assert.match(signature as string, /^[0-9a-f]{512}$/);
  assert.throws(() => call('io.jwt.verify_rs256', token, '{"kty": "nope"}'), /failed to parse a JWK key \(set\)/);
  assert.throws(() => call('io.jwt.decode', 'abc'), /encoded JWT had no period separators/);
});
