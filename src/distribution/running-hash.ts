/**
 * The running digest of one upload: fed the bytes in order, asked for the result once.
 *
 * Two kinds: `InlineHash` hashes on the calling thread as bytes arrive, which suits small bodies;
 * `HashThread` (hash-thread.ts) hashes on a thread of its own, which frees the event loop for
 * receiving while large bodies stream in.
 */
import { createHash, type Hash } from 'node:crypto';
import type { DigestAlgorithm } from '../content/digest.ts';
import type { ResumableSha256 } from '../storage/blobs/resumable-sha256.ts';

export interface RunningHash {
  readonly algorithm: DigestAlgorithm;
  /** False once the hash is lost (its thread stopped): the upload must be hashed again. */
  readonly usable: boolean;
  /**
   * Takes the next bytes. A returned promise means they are read later, from shared memory: the
   * caller must leave them unchanged until it settles. Otherwise they were consumed at once.
   */
  update(bytes: Uint8Array): Promise<void> | void;
  /** The hex digest of everything fed so far; the hash cannot be used afterwards. */
  digest(): Promise<string>;
  /** Forgets the hash (an upload cancelled or rolled back). */
  discard(): void;
}

export class InlineHash implements RunningHash {
  readonly algorithm: DigestAlgorithm;
  readonly usable = true;
  readonly #hash: Hash;

  constructor(algorithm: DigestAlgorithm) {
    this.algorithm = algorithm;
    this.#hash = createHash(algorithm);
  }

  update(bytes: Uint8Array): void {
    this.#hash.update(bytes);
  }

  digest(): Promise<string> {
    return Promise.resolve(this.#hash.digest('hex'));
  }

  discard(): void {}
}

/**
 * A SHA-256 taken up from the state a shared store saved (an upload that moved to this replica):
 * it goes on in JavaScript, slower than node:crypto, but only for the bytes still to come.
 */
export class ResumedSha256 implements RunningHash {
  readonly algorithm: DigestAlgorithm = 'sha256';
  readonly usable = true;
  readonly #hash: ResumableSha256;

  constructor(hash: ResumableSha256) {
    this.#hash = hash;
  }

  update(bytes: Uint8Array): void {
    this.#hash.update(bytes);
  }

  digest(): Promise<string> {
    return Promise.resolve(this.#hash.digest());
  }

  discard(): void {}
}
