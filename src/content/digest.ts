/**
 * Content digests (`algorithm:encoded`), as the OCI image spec defines them. Only the algorithms a
 * registry must verify are accepted: sha256 (the default) and sha512.
 */
import { createHash } from 'node:crypto';

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface ParsedDigest {
  readonly algorithm: DigestAlgorithm;
  readonly encoded: string;
  /** The canonical text form, `algorithm:encoded`. */
  readonly text: string;
}

const ENCODED_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const LOWER_HEX = /^[a-f0-9]+$/;

/** Parses a digest string; returns undefined when it is not a well-formed sha256/sha512 digest. */
export function parseDigest(text: string): ParsedDigest | undefined {
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  const algorithm = text.slice(0, colon);
  const encoded = text.slice(colon + 1);
  if (algorithm !== 'sha256' && algorithm !== 'sha512') return undefined;
  if (encoded.length !== ENCODED_LENGTH[algorithm] || !LOWER_HEX.test(encoded)) return undefined;
  return { algorithm, encoded, text };
}

/**
 * Why a text is not an acceptable digest: `unsupported` when it is a well-formed digest of an
 * algorithm Wharf does not verify (the client could retry with sha256), `invalid` otherwise.
 */
export function digestProblem(text: string): 'unsupported' | 'invalid' {
  const wellFormed = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):[a-zA-Z0-9=_-]+$/.exec(text);
  return wellFormed && !(wellFormed[1]! in ENCODED_LENGTH) ? 'unsupported' : 'invalid';
}

/** Digest of a whole buffer, e.g. a manifest body. */
export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}
