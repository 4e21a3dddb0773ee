/**
 * NaCl `crypto_secretbox` (XSalsa20 + Poly1305), the cipher of cosign's encrypted key files, from
 * @noble/ciphers (audited, dependency-free, pure JS): node:crypto has neither Salsa20 nor a
 * standalone Poly1305. Layout of a box, as NaCl and Go's x/crypto/nacl/secretbox write it: the
 * 16-byte Poly1305 tag, then the ciphertext.
 */
import type * as Salsa from '@noble/ciphers/salsa.js';
import { lazyModule } from '../shared/lazy-module.ts';

const salsa = lazyModule<typeof Salsa>('@noble/ciphers/salsa.js');

function checkSizes(nonce: Uint8Array, key: Uint8Array): void {
  if (key.length !== 32) throw new Error('secretbox key must be 32 bytes');
  if (nonce.length !== 24) throw new Error('secretbox nonce must be 24 bytes');
}

export function secretboxSeal(message: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
  checkSizes(nonce, key);
  return salsa().secretbox(key, nonce).seal(message);
}

/** The plaintext, or undefined when the tag does not authenticate (wrong key or altered box). */
export function secretboxOpen(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | undefined {
  checkSizes(nonce, key);
  if (box.length < 16) return undefined;
  try {
    return salsa().secretbox(key, nonce).open(box);
  } catch {
    return undefined; // noble throws "invalid tag" for a box that does not authenticate
  }
}
