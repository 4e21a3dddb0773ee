import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { RNumber, RObject, toJSONText, type Value } from '../value.ts';
import type { BuiltinContext } from './types.ts';
import { builtins as cryptoBuiltins } from './crypto.ts';
import { builtins as uuidBuiltins } from './uuid.ts';
import { builtins as randBuiltins } from './rand.ts';
import { goBase64Decode, pemDecodeAll } from './crypto-pem.ts';

const table = new Map([...cryptoBuiltins, ...uuidBuiltins, ...randBuiltins].map((b) => [b.name, b]));
const newCtx = (): BuiltinContext => ({ nowNs: 0n, cache: new Map(), strict: true });
const call = (name: string, ctx: BuiltinContext, ...args: Value[]): Value => table.get(name)!.fn(args, ctx)!;

test('hashes and HMACs are hex digests of the UTF-8 text', () => {
  const ctx = newCtx();
  assert.equal(call('crypto.md5', ctx, 'x'), '9dd4e461268c8034f5c8564e155c67a6');
  assert.equal(call('crypto.hmac.sha256', ctx, 'foo', 'bar'), '147933218aaabc0b8b10a2b3a5c34684c8d94341bcf10a4736dc7270f7741851');
  assert.equal(call('crypto.hmac.md5', ctx, 'åäöçß\u{1F972}♙Ω', '秘密の'), '20a8743c2157ac60b7e8b79c83651b8d');
  assert.equal(call('crypto.hmac.equal', ctx, 'abc', 'abc'), true);
  assert.equal(call('crypto.hmac.equal', ctx, 'abc', 'ab'), false);
});

test('base64 and PEM decoding report errors at the byte Go reports', () => {
  assert.equal(goBase64Decode('aGVs\nbA==').toString(), 'hell');
  assert.throws(() => goBase64Decode('aGVsbG8'), /illegal base64 data at input byte 4/);
  assert.throws(() => goBase64Decode('aG$sbA=='), /illegal base64 data at input byte 2/);
  assert.throws(() => goBase64Decode('aGVsbA==x'), /illegal base64 data at input byte 8/);
  const blocks = pemDecodeAll('junk\n-----BEGIN A-----\naGk=\n-----END A-----\n-----BEGIN B-----\nbad!\n-----END B-----\n');
  assert.deepEqual(blocks.map((b) => [b.type, b.bytes.toString()]), [['A', 'hi']]);
});

test('parse_private_keys returns Go key structures; empty input is null', () => {
  const ctx = newCtx();
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs1' }).toString();
  const keys = call('crypto.parse_private_keys', ctx, pem + pem) as RObject[];
  assert.equal(keys.length, 2);
  assert.equal(toJSONText(keys[0]!.get('E')!), '65537');
  assert.equal((keys[0]!.get('Primes') as Value[]).length, 2);
  assert.equal(call('crypto.parse_private_keys', ctx, ''), null);
  assert.deepEqual(call('crypto.parse_private_keys', ctx, 'nope'), []);
});

test('uuid.parse and the per-query caches of uuid.rfc4122 and rand.intn', () => {
  const ctx = newCtx();
  const v2 = call('uuid.parse', ctx, 'urn:uuid:000003e8-48b9-21ee-b200-325096b39f47') as RObject;
  assert.equal(toJSONText(v2), '{"clocksequence":12800,"domain":"Person","id":1000,"macvariables":"local:unicast","nodeid":"32-50-96-b3-9f-47","time":1693566990121469600,"variant":"RFC4122","version":2}');
  assert.equal(table.get('uuid.parse')!.fn(['not-a-uuid'], ctx), undefined);
  const id = call('uuid.rfc4122', ctx, 'k') as string;
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(call('uuid.rfc4122', ctx, 'k'), id);
  const r = call('rand.intn', ctx, 'k', RNumber.of(1000)) as RNumber;
  assert.ok(r.toNumber() >= 0 && r.toNumber() < 1000);
  assert.equal(call('rand.intn', ctx, 'k', RNumber.of(1000)), r);
  assert.equal(toJSONText(call('rand.intn', ctx, 'k', RNumber.of(0))), '0');
});
