/**
 * NaCl `crypto_secretbox` (XSalsa20 + Poly1305), the cipher of cosign's encrypted key files.
 * node:crypto has neither Salsa20 nor a standalone Poly1305, and the key files are tiny, so a
 * direct implementation of the two primitives is simplest. Layout of a box: 16-byte tag, then the
 * ciphertext; the first 32 bytes of the key stream are the one-time Poly1305 key.
 */
import { timingSafeEqual } from 'node:crypto';

const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]); // "expand 32-byte k"

function rotl(value: number, shift: number): number {
  return ((value << shift) | (value >>> (32 - shift))) >>> 0;
}

/** The 20 Salsa20 rounds over a 16-word state, in place. */
function salsaRounds(x: Uint32Array): void {
  for (let i = 0; i < 20; i += 2) {
    x[4]! ^= rotl((x[0]! + x[12]!) >>> 0, 7); x[8]! ^= rotl((x[4]! + x[0]!) >>> 0, 9);
    x[12]! ^= rotl((x[8]! + x[4]!) >>> 0, 13); x[0]! ^= rotl((x[12]! + x[8]!) >>> 0, 18);
    x[9]! ^= rotl((x[5]! + x[1]!) >>> 0, 7); x[13]! ^= rotl((x[9]! + x[5]!) >>> 0, 9);
    x[1]! ^= rotl((x[13]! + x[9]!) >>> 0, 13); x[5]! ^= rotl((x[1]! + x[13]!) >>> 0, 18);
    x[14]! ^= rotl((x[10]! + x[6]!) >>> 0, 7); x[2]! ^= rotl((x[14]! + x[10]!) >>> 0, 9);
    x[6]! ^= rotl((x[2]! + x[14]!) >>> 0, 13); x[10]! ^= rotl((x[6]! + x[2]!) >>> 0, 18);
    x[3]! ^= rotl((x[15]! + x[11]!) >>> 0, 7); x[7]! ^= rotl((x[3]! + x[15]!) >>> 0, 9);
    x[11]! ^= rotl((x[7]! + x[3]!) >>> 0, 13); x[15]! ^= rotl((x[11]! + x[7]!) >>> 0, 18);
    x[1]! ^= rotl((x[0]! + x[3]!) >>> 0, 7); x[2]! ^= rotl((x[1]! + x[0]!) >>> 0, 9);
    x[3]! ^= rotl((x[2]! + x[1]!) >>> 0, 13); x[0]! ^= rotl((x[3]! + x[2]!) >>> 0, 18);
    x[6]! ^= rotl((x[5]! + x[4]!) >>> 0, 7); x[7]! ^= rotl((x[6]! + x[5]!) >>> 0, 9);
    x[4]! ^= rotl((x[7]! + x[6]!) >>> 0, 13); x[5]! ^= rotl((x[4]! + x[7]!) >>> 0, 18);
    x[11]! ^= rotl((x[10]! + x[9]!) >>> 0, 7); x[8]! ^= rotl((x[11]! + x[10]!) >>> 0, 9);
    x[9]! ^= rotl((x[8]! + x[11]!) >>> 0, 13); x[10]! ^= rotl((x[9]! + x[8]!) >>> 0, 18);
    x[12]! ^= rotl((x[15]! + x[14]!) >>> 0, 7); x[13]! ^= rotl((x[12]! + x[15]!) >>> 0, 9);
    x[14]! ^= rotl((x[13]! + x[12]!) >>> 0, 13); x[15]! ^= rotl((x[14]! + x[13]!) >>> 0, 18);
  }
}

function words(bytes: Uint8Array, offset: number, count: number): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * 4);
  return Array.from({ length: count }, (_, i) => view.getUint32(i * 4, true));
}

/** State layout shared by Salsa20 and HSalsa20: constants on the diagonal, key, then 16 input bytes. */
function initialState(key: Uint8Array, input: Uint8Array): Uint32Array {
  const k = words(key, 0, 8);
  const n = words(input, 0, 4);
  return new Uint32Array([SIGMA[0]!, k[0]!, k[1]!, k[2]!, k[3]!, SIGMA[1]!, n[0]!, n[1]!, n[2]!, n[3]!, SIGMA[2]!, k[4]!, k[5]!, k[6]!, k[7]!, SIGMA[3]!]);
}

/** HSalsa20: derives the XSalsa20 subkey from the key and the first 16 nonce bytes. */
function hsalsa20(key: Uint8Array, nonce16: Uint8Array): Uint8Array {
  const x = initialState(key, nonce16);
  salsaRounds(x);
  const out = new Uint8Array(32);
  const view = new DataView(out.buffer);
  [0, 5, 10, 15, 6, 7, 8, 9].forEach((index, i) => view.setUint32(i * 4, x[index]!, true));
  return out;
}

/** `length` bytes of the Salsa20 key stream for an 8-byte nonce, starting at block 0. */
function salsa20Stream(key: Uint8Array, nonce8: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const input = new Uint8Array(16);
  input.set(nonce8, 0);
  for (let block = 0; block * 64 < length; block++) {
    new DataView(input.buffer).setUint32(8, block, true); // 64-bit counter; files never reach 2^32 blocks
    const start = initialState(key, input);
    const x = new Uint32Array(start);
    salsaRounds(x);
    const bytes = new Uint8Array(64);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < 16; i++) view.setUint32(i * 4, (x[i]! + start[i]!) >>> 0, true);
    out.set(bytes.subarray(0, Math.min(64, length - block * 64)), block * 64);
  }
  return out;
}

function littleEndianToBigInt(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  return value;
}

/** Poly1305 one-time authenticator (RFC 8439 §2.5), with BigInt: boxes here are a few hundred bytes. */
export function poly1305(key: Uint8Array, message: Uint8Array): Uint8Array {
  const p = (1n << 130n) - 5n;
  const r = littleEndianToBigInt(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  const s = littleEndianToBigInt(key.subarray(16, 32));
  let accumulator = 0n;
  for (let offset = 0; offset < message.length; offset += 16) {
    const chunk = message.subarray(offset, offset + 16);
    const n = littleEndianToBigInt(chunk) | (1n << BigInt(8 * chunk.length));
    accumulator = ((accumulator + n) * r) % p;
  }
  let tag = (accumulator + s) & ((1n << 128n) - 1n);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) { out[i] = Number(tag & 0xffn); tag >>= 8n; }
  return out;
}

function xsalsa20Stream(key: Uint8Array, nonce: Uint8Array, length: number): Uint8Array {
  if (key.length !== 32) throw new Error('secretbox key must be 32 bytes');
  if (nonce.length !== 24) throw new Error('secretbox nonce must be 24 bytes');
  return salsa20Stream(hsalsa20(key, nonce.subarray(0, 16)), nonce.subarray(16, 24), length);
}

export function secretboxSeal(message: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
  const stream = xsalsa20Stream(key, nonce, message.length + 32);
  const ciphertext = new Uint8Array(message.length);
  for (let i = 0; i < message.length; i++) ciphertext[i] = message[i]! ^ stream[i + 32]!;
  const out = new Uint8Array(16 + message.length);
  out.set(poly1305(stream.subarray(0, 32), ciphertext), 0);
  out.set(ciphertext, 16);
  return out;
}

/** The plaintext, or undefined when the tag does not authenticate (wrong key or altered box). */
export function secretboxOpen(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | undefined {
  if (box.length < 16) return undefined;
  const ciphertext = box.subarray(16);
  const stream = xsalsa20Stream(key, nonce, ciphertext.length + 32);
  const expected = poly1305(stream.subarray(0, 32), ciphertext);
  if (!timingSafeEqual(expected, box.subarray(0, 16))) return undefined;
  const message = new Uint8Array(ciphertext.length);
  for (let i = 0; i < ciphertext.length; i++) message[i] = ciphertext[i]! ^ stream[i + 32]!;
  return message;
}
