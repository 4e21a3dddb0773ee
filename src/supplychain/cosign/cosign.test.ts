import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync, verify as cryptoVerify, scryptSync } from 'node:crypto';
import { readData, readDataText, sharedDataOptions } from '../testing/shared-data.ts';
import { decryptCosignKey, encryptCosignKey, generateCosignKeyPair, COSIGN_KEY_LABEL } from './encrypted-key.ts';
import { secretboxOpen, secretboxSeal } from './secretbox.ts';
import { buildSimpleSigning, verifySimpleSigning } from './simple-signing.ts';
import { signWithKey, verifyWithKey } from './signature-keys.ts';
import { sha256Digest, parseCosignTag, cosignTag } from '../shared/digest.ts';

const options = sharedDataOptions();
const keyFromPem = (pem: string) => ({ name: 'test', key: createPublicKey(pem) });

describe('cosign key-based signatures (containers/image fixtures)', options, () => {
  const payload = readData('sigstore', 'cosign-keyed', 'valid', 'simplesigning.payload.json');
  const signature = readDataText('sigstore', 'cosign-keyed', 'valid', 'signature.b64').trim();
  const manifest = readData('sigstore', 'cosign-keyed', 'valid', 'manifest.json');
  const goodKey = keyFromPem(readDataText('sigstore', 'cosign-keyed', 'cosign.pub'));
  const wrongKey = keyFromPem(readDataText('sigstore', 'cosign-keyed', 'wrong-key.pub'));

  it('the valid signature verifies with cosign.pub for the manifest it names', () => {
    const verdict = verifySimpleSigning(payload, signature, sha256Digest(manifest), [goodKey]);
    assert.equal(verdict.verified, true, verdict.reason);
    assert.equal(sha256Digest(manifest), 'sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00');
  });
  it('MUST FAIL with wrong-key.pub', () => {
    const verdict = verifySimpleSigning(payload, signature, sha256Digest(manifest), [wrongKey]);
    assert.equal(verdict.verified, false);
    assert.match(verdict.reason, /does not verify with any/);
  });
  it('MUST FAIL for the modified manifest: the payload names another digest', () => {
    const modified = readData('sigstore', 'cosign-keyed', 'modified-manifest', 'manifest.json');
    const verdict = verifySimpleSigning(payload, signature, sha256Digest(modified), [goodKey]);
    assert.equal(verdict.verified, false);
    assert.match(verdict.reason, /payload signs sha256:634a8f35/);
  });
  it('a tampered payload or a truncated signature never verifies', () => {
    const tampered = Buffer.from(payload.toString().replace('cosign-signed-single-sample', 'cosign-signed-single-sampl3'));
    assert.equal(verifySimpleSigning(tampered, signature, sha256Digest(manifest), [goodKey]).verified, false);
    assert.equal(verifySimpleSigning(payload, signature.slice(0, 20), sha256Digest(manifest), [goodKey]).verified, false);
    assert.match(verifySimpleSigning(payload, '%%%', sha256Digest(manifest), [goodKey]).reason, /not base64/);
    assert.match(verifySimpleSigning(Buffer.from('{"critical":'), signature, sha256Digest(manifest), [goodKey]).reason, /not valid JSON/);
  });
  it('the containers/image dir: signature file holds the same payload and signature', () => {
    const file = readData('sigstore', 'cosign-keyed', 'valid', 'signature-1.containers-image');
    assert.equal(file.subarray(0, 15).toString('latin1'), '\0sigstore-json\n');
    const body = JSON.parse(file.subarray(15).toString());
    assert.deepEqual(Buffer.from(body.payload, 'base64'), payload);
    assert.equal(body.annotations['dev.cosignproject.cosign/signature'], signature);
  });
});

describe('cosign encrypted private keys', options, () => {
  it('decrypts the kubewarden key with "kubewarden" to the key of kubewarden-cosign1.pub', () => {
    const result = decryptCosignKey(readDataText('sigstore', 'cosign-keys', 'kubewarden-cosign1.key'), 'kubewarden');
    assert.ok(result.ok);
    assert.equal(result.publicKey.export({ format: 'pem', type: 'spki' }), readDataText('sigstore', 'cosign-keys', 'kubewarden-cosign1.pub'));
  });
  it('decrypts the empty-password key with ""', () => {
    assert.equal(decryptCosignKey(readDataText('sigstore', 'cosign-keys', 'empty-password.cosign.key'), '').ok, true);
  });
  it('a wrong password or a damaged file gives a reason, never a key', () => {
    const pem = readDataText('sigstore', 'cosign-keys', 'kubewarden-cosign1.key');
    const wrong = decryptCosignKey(pem, 'not-it');
    assert.equal(wrong.ok, false);
    assert.match(wrong.ok ? '' : wrong.reason, /wrong password/);
    assert.equal(decryptCosignKey(pem.replace('ENCRYPTED COSIGN', 'RSA'), 'kubewarden').ok, false);
    assert.equal(decryptCosignKey('garbage', 'x').ok, false);
  });
  it('a key signed with the decrypted kubewarden key verifies against the published .pub (independent node:crypto check)', () => {
    const result = decryptCosignKey(readDataText('sigstore', 'cosign-keys', 'kubewarden-cosign1.key'), 'kubewarden');
    assert.ok(result.ok);
    const payload = buildSimpleSigning(sha256Digest('m'), 'localhost/x');
    const signature = signWithKey(result.privateKey, payload);
    assert.ok(cryptoVerify('sha256', payload, createPublicKey(readDataText('sigstore', 'cosign-keys', 'kubewarden-cosign1.pub')), signature));
  });
});

describe('wharf keygen output (cosign format)', () => {
  it('is an ENCRYPTED COSIGN PRIVATE KEY with scrypt N=32768 r=8 p=1 and nacl/secretbox, decryptable independently', () => {
    const pair = generateCosignKeyPair('hunter2');
    const body = /-----BEGIN (.+)-----\n([\s\S]+)\n-----END/.exec(pair.privatePem)!;
    assert.equal(body[1], COSIGN_KEY_LABEL);
    const json = JSON.parse(Buffer.from(body[2]!.replace(/\n/g, ''), 'base64').toString());
    assert.deepEqual(json.kdf.params, { N: 32768, r: 8, p: 1 });
    assert.equal(json.kdf.name, 'scrypt');
    assert.equal(json.cipher.name, 'nacl/secretbox');
    assert.equal(Buffer.from(json.kdf.salt, 'base64').length, 32);
    // Independent path: scrypt from node:crypto, secretbox opened, PKCS#8 matches the .pub.
    const key = scryptSync('hunter2', Buffer.from(json.kdf.salt, 'base64'), 32, { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    const plaintext = secretboxOpen(Buffer.from(json.ciphertext, 'base64'), Buffer.from(json.cipher.nonce, 'base64'), key);
    assert.ok(plaintext);
    const publicPem = createPublicKey(createPrivateKey({ key: Buffer.from(plaintext), format: 'der', type: 'pkcs8' })).export({ format: 'pem', type: 'spki' });
    assert.equal(publicPem, pair.publicPem);
  });
  it('round-trips Ed25519 and P-384 keys', () => {
    for (const pair of [generateKeyPairSync('ed25519'), generateKeyPairSync('ec', { namedCurve: 'secp384r1' }), generateKeyPairSync('rsa', { modulusLength: 2048 })]) {
      const decrypted = decryptCosignKey(encryptCosignKey(pair.privateKey, 'pw'), 'pw');
      assert.ok(decrypted.ok);
      const signature = signWithKey(decrypted.privateKey, Buffer.from('data'));
      assert.ok(verifyWithKey(pair.publicKey, Buffer.from('data'), signature));
      assert.equal(verifyWithKey(pair.publicKey, Buffer.from('datA'), signature), false);
    }
  });
});

describe('NaCl secretbox (@noble/ciphers)', () => {
  const key = Buffer.from('1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389', 'hex');
  const nonce = Buffer.from('69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37', 'hex');
  const message = Buffer.from('be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a1ac728d45e6c61296cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f937763848645e0705', 'hex');
  it('matches the NaCl reference box (crypto_secretbox test vector, whole box: tag first, then ciphertext)', () => {
    const sealed = secretboxSeal(message, nonce, key);
    assert.equal(Buffer.from(sealed).toString('hex'), 'f3ffc7703f9400e52a7dfb4b3d3305d98e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186ac0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74e355a5');
    assert.deepEqual(Buffer.from(secretboxOpen(sealed, nonce, key)!), message);
    assert.equal(secretboxSeal(new Uint8Array(0), nonce, key).length, 16);
  });
  it('an altered box, a wrong key or a box shorter than its tag opens to undefined, never throws', () => {
    const sealed = secretboxSeal(message, nonce, key);
    for (const index of [0, 15, 16, sealed.length - 1]) {
      const altered = Uint8Array.from(sealed);
      altered[index]! ^= 1;
      assert.equal(secretboxOpen(altered, nonce, key), undefined, `bit flipped at ${index}`);
    }
    assert.equal(secretboxOpen(sealed, nonce, Buffer.alloc(32, 7)), undefined);
    assert.equal(secretboxOpen(sealed.subarray(0, 15), nonce, key), undefined);
    assert.equal(secretboxOpen(new Uint8Array(0), nonce, key), undefined);
  });
  it('refuses a key or nonce of the wrong size with a reason', () => {
    assert.throws(() => secretboxSeal(message, nonce.subarray(0, 23), key), /nonce must be 24 bytes/);
    assert.throws(() => secretboxOpen(message, nonce, key.subarray(0, 16)), /key must be 32 bytes/);
  });
});

describe('cosign tag scheme', () => {
  it('maps digests to .sig/.att/.sbom tags and back', () => {
    const digest = sha256Digest('x');
    assert.deepEqual(parseCosignTag(cosignTag(digest, 'att')), { subject: digest, kind: 'att' });
    assert.equal(parseCosignTag('sha256-abc.sig'), undefined);
    assert.equal(parseCosignTag('latest'), undefined);
  });
});
