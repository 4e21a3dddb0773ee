/**
 * cosign's encrypted private key file: PEM (label `ENCRYPTED COSIGN PRIVATE KEY`, or the newer
 * `ENCRYPTED SIGSTORE PRIVATE KEY`) around base64 JSON
 * `{kdf:{name:"scrypt",params:{N,r,p},salt}, cipher:{name:"nacl/secretbox",nonce}, ciphertext}`.
 * The secretbox key is scrypt(password, salt, 32 bytes); the plaintext is a PKCS#8 DER key.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, scryptSync, type KeyObject } from 'node:crypto';
import { decodeBase64, isObject, objectField, parseJson, stringField } from '../shared/json.ts';
import { secretboxOpen, secretboxSeal } from './secretbox.ts';

export const COSIGN_KEY_LABEL = 'ENCRYPTED COSIGN PRIVATE KEY';
const ACCEPTED_LABELS = [COSIGN_KEY_LABEL, 'ENCRYPTED SIGSTORE PRIVATE KEY'];
/** cosign's own scrypt cost; files with other (bounded) costs are still read. */
export const COSIGN_SCRYPT = { N: 32768, r: 8, p: 1 } as const;
const MAX_SCRYPT_N = 1 << 20;

export type DecryptResult = { ok: true; privateKey: KeyObject; publicKey: KeyObject } | { ok: false; reason: string };

function pemBody(text: string): { label: string; der: Buffer } | undefined {
  const match = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
  if (!match) return undefined;
  const der = decodeBase64(match[2]!);
  return der ? { label: match[1]!, der } : undefined;
}

function scryptKey(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Buffer {
  return scryptSync(Buffer.from(password, 'utf8'), salt, 32, { ...params, maxmem: 256 * params.N * params.r + 16 * 1024 * 1024 });
}

export function decryptCosignKey(pem: string, password: string): DecryptResult {
  const block = pemBody(pem);
  if (!block) return { ok: false, reason: 'no PEM block found in the key file' };
  if (!ACCEPTED_LABELS.includes(block.label)) return { ok: false, reason: `PEM label "${block.label}" is not an encrypted cosign key` };
  const parsed = parseJson(block.der);
  if (!parsed.ok || !isObject(parsed.value)) return { ok: false, reason: `encrypted key body is ${parsed.ok ? 'not a JSON object' : parsed.reason}` };
  const kdf = objectField(parsed.value, 'kdf');
  const params = objectField(kdf, 'params');
  const cipher = objectField(parsed.value, 'cipher');
  if (stringField(kdf, 'name') !== 'scrypt') return { ok: false, reason: `unsupported key derivation "${stringField(kdf, 'name')}"` };
  if (stringField(cipher, 'name') !== 'nacl/secretbox') return { ok: false, reason: `unsupported cipher "${stringField(cipher, 'name')}"` };
  const N = params?.['N'], r = params?.['r'], p = params?.['p'];
  if (typeof N !== 'number' || typeof r !== 'number' || typeof p !== 'number' || N < 2 || N > MAX_SCRYPT_N || r < 1 || r > 32 || p < 1 || p > 16) {
    return { ok: false, reason: 'scrypt parameters missing or out of bounds' };
  }
  const salt = decodeBase64(stringField(kdf, 'salt'));
  const nonce = decodeBase64(stringField(cipher, 'nonce'));
  const ciphertext = decodeBase64(stringField(parsed.value, 'ciphertext'));
  if (!salt || !nonce || nonce.length !== 24 || !ciphertext) return { ok: false, reason: 'salt, nonce (24 bytes) or ciphertext missing or not base64' };
  const plaintext = secretboxOpen(ciphertext, nonce, scryptKey(password, salt, { N, r, p }));
  if (!plaintext) return { ok: false, reason: 'wrong password (the key does not decrypt)' };
  try {
    const privateKey = createPrivateKey({ key: Buffer.from(plaintext), format: 'der', type: 'pkcs8' });
    return { ok: true, privateKey, publicKey: createPublicKey(privateKey) };
  } catch (error) {
    return { ok: false, reason: `decrypted key is not PKCS#8: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function wrapPem(label: string, der: Uint8Array): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Encrypts a private key exactly as `cosign generate-key-pair` does. */
export function encryptCosignKey(privateKey: KeyObject, password: string): string {
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const ciphertext = secretboxSeal(der, nonce, scryptKey(password, salt, COSIGN_SCRYPT));
  const body = {
    kdf: { name: 'scrypt', params: { N: COSIGN_SCRYPT.N, r: COSIGN_SCRYPT.r, p: COSIGN_SCRYPT.p }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(ciphertext).toString('base64'),
  };
  return wrapPem(COSIGN_KEY_LABEL, Buffer.from(JSON.stringify(body)));
}

export function publicKeyPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'spki' }).toString();
}

/** A new ECDSA P-256 pair (cosign's default) as the two files cosign writes. */
export function generateCosignKeyPair(password: string): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privatePem: encryptCosignKey(privateKey, password), publicPem: publicKeyPem(publicKey) };
}
