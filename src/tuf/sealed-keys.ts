/**
 * The online keys (snapshot, timestamp) are stored sealed: AES-256-GCM under a key derived with
 * HKDF-SHA256 from a server secret, a 32-byte file `<data>/tuf-secret` (mode 0600) made on first
 * use. The namespace and role are bound as associated data, so a sealed key copied to another
 * namespace's row does not open. A copy of tuf.db alone reveals no private key.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const INFO = Buffer.from('wharf tuf online keys v1');

export class KeySealer {
  readonly #key: Buffer;

  constructor(secret: Buffer) {
    if (secret.byteLength < 32) throw new Error('the TUF server secret must be at least 32 bytes');
    this.#key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), INFO, 32));
  }

  /** Reads the secret file, making it (0600) when missing. */
  static fromFile(path: string): KeySealer {
    if (!existsSync(path)) writeFileSync(path, randomBytes(32), { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
    return new KeySealer(readFileSync(path));
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  open(sealed: string, context: string): string {
    const bytes = Buffer.from(sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, 12));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(bytes.subarray(12, 28));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(`a sealed TUF key (${context}) does not open: wrong server secret or tampered row`);
    }
  }
}
