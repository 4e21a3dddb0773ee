/**
 * TUF keys: ed25519 key pairs in TUF's key format (`keytype`, `scheme`, `keyval.public` in hex),
 * their key ids (sha256 of the key's canonical JSON, TUF 1.0 §4.2), and signers for @tufjs/models'
 * Metadata.sign. A key file holds the public key and, for the team's own keys, the private key
 * (PKCS#8 PEM); it is written 0600.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { Key, Signature } from '@tufjs/models';

export interface TufKeyFile {
  readonly keytype: 'ed25519';
  readonly scheme: 'ed25519';
  readonly keyid: string;
  readonly keyval: { readonly public: string };
  /** PKCS#8 PEM; absent in a public key file. */
  readonly private?: string;
}

/** OLPC canonical JSON (TUF's): sorted keys, no whitespace, only `\\` and `"` escaped in strings. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error('canonical JSON has no fractional numbers');
    return String(value);
  }
  if (typeof value === 'string') return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${canonicalJson(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new Error(`canonical JSON cannot hold ${typeof value}`);
}

export function keyIdOf(publicHex: string): string {
  return createHash('sha256').update(canonicalJson({ keytype: 'ed25519', scheme: 'ed25519', keyval: { public: publicHex } })).digest('hex');
}

function rawPublicHex(publicKey: KeyObject): string {
  // The raw ed25519 key is the last 32 bytes of its SPKI DER encoding.
  return (publicKey.export({ format: 'der', type: 'spki' }) as Buffer).subarray(-32).toString('hex');
}

export function generateTufKey(): TufKeyFile {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const publicHex = rawPublicHex(publicKey);
  return { keytype: 'ed25519', scheme: 'ed25519', keyid: keyIdOf(publicHex), keyval: { public: publicHex }, private: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string };
}

/** The public half of a key file (what may be shared and what metadata lists). */
export function publicPart(key: TufKeyFile): TufKeyFile {
  return { keytype: key.keytype, scheme: key.scheme, keyid: key.keyid, keyval: { public: key.keyval.public } };
}

/** Parses a key file's JSON, checking that the key id and the private key belong to the public key. */
export function parseTufKeyFile(text: string, origin: string): TufKeyFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${origin}: not a TUF key file (not JSON)`);
  }
  const key = parsed as Partial<TufKeyFile>;
  const publicHex = key?.keyval?.public;
  if (key?.keytype !== 'ed25519' || key.scheme !== 'ed25519' || typeof publicHex !== 'string' || !/^[0-9a-f]{64}$/.test(publicHex)) {
    throw new Error(`${origin}: not a TUF ed25519 key file (keytype, scheme, keyval.public)`);
  }
  const keyid = keyIdOf(publicHex);
  if (key.private !== undefined) {
    let derived: string;
    try {
      derived = rawPublicHex(createPublicKey(createPrivateKey(key.private)));
    } catch {
      throw new Error(`${origin}: its private key does not parse`);
    }
    if (derived !== publicHex) throw new Error(`${origin}: its private key does not belong to its public key`);
  }
  return { keytype: 'ed25519', scheme: 'ed25519', keyid, keyval: { public: publicHex }, ...(key.private !== undefined ? { private: key.private } : {}) };
}

/** The key as @tufjs/models lists it in root and delegations. */
export function tufKey(key: TufKeyFile): Key {
  return new Key({ keyID: key.keyid, keyType: key.keytype, scheme: key.scheme, keyVal: { public: key.keyval.public } });
}

/** A signer for Metadata.sign: ed25519 over the canonical bytes it is given. */
export function signerOf(key: TufKeyFile): (data: Buffer) => Signature {
  if (key.private === undefined) throw new Error(`key ${key.keyid.slice(0, 12)} has no private part: it cannot sign`);
  const privateKey = createPrivateKey(key.private);
  return (data) => new Signature({ keyID: key.keyid, sig: cryptoSign(null, data, privateKey).toString('hex') });
}
