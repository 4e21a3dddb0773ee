/**
 * The keys that sign registry tokens: an ES256 key generated on first start and kept in the
 * identity store. Rotation adds a new key for signing and retires the old one, which still
 * verifies tokens until they have all expired.
 */
import { generateKeyPairSync, createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import type { IdentityStore, SigningKey } from './identity-store.ts';

const UNKNOWN_KEY_RELOAD_INTERVAL_MS = 200;

export interface LoadedKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly retiredAt?: Date;
}

export class TokenKeys {
  readonly #store: IdentityStore;
  #keys: LoadedKey[] = [];
  /** When an unknown key id last made this process read the store (ms since the epoch). */
  #lastUnknownReload = 0;
  /** The read of the store that lookups of unknown key ids are waiting for. */
  #reloading: Promise<void> | undefined;

  constructor(store: IdentityStore) {
    this.#store = store;
  }

  /** Loads the keys, creating the first one when there is none. */
  async load(): Promise<void> {
    let stored = await this.#store.listSigningKeys();
    if (!stored.some((key) => !key.retiredAt)) {
      await this.#store.addSigningKey(newSigningKey());
      stored = await this.#store.listSigningKeys();
    }
    this.#keys = stored.map(loadKey);
  }

  /** The key new tokens are signed with: the newest one not retired. */
  get current(): LoadedKey {
    const active = this.#keys.filter((key) => !key.retiredAt);
    const key = active.at(-1);
    if (!key) throw new Error('no active token-signing key: call load() first');
    return key;
  }

  /** A key that may verify a token, or undefined. Retired keys verify until `retiredAt + maxTokenAge`. */
  find(kid: string, now: Date, maxTokenAgeMs: number): LoadedKey | undefined {
    const key = this.#keys.find((candidate) => candidate.kid === kid);
    if (!key) return undefined;
    if (key.retiredAt && now.getTime() > key.retiredAt.getTime() + maxTokenAgeMs) return undefined;
    return key;
  }

  /**
   * As `find`, but a key id this process does not know makes it read the store again first: a key
   * another replica created (both starting at once) or rotated to is then known at once, not at
   * the next periodic reload. Such reads are shared by the lookups waiting for them and spaced
   * UNKNOWN_KEY_RELOAD_INTERVAL_MS apart, so tokens naming made-up key ids cannot turn into a
   * query each; they wait for the next read instead of being refused, so no real key is missed.
   */
  async findOrReload(kid: string, now: Date, maxTokenAgeMs: number): Promise<LoadedKey | undefined> {
    if (!this.#keys.some((candidate) => candidate.kid === kid)) await this.#reloadForUnknownKey();
    return this.find(kid, now, maxTokenAgeMs);
  }

  #reloadForUnknownKey(): Promise<void> {
    this.#reloading ??= (async () => {
      const wait = this.#lastUnknownReload + UNKNOWN_KEY_RELOAD_INTERVAL_MS - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      try {
        this.#keys = (await this.#store.listSigningKeys()).map(loadKey);
      } finally {
        this.#lastUnknownReload = Date.now();
        this.#reloading = undefined;
      }
    })();
    return this.#reloading;
  }

  /** Starts signing with a new key; the previous ones are retired. Returns the new key id. */
  async rotate(now = new Date()): Promise<string> {
    const fresh = newSigningKey(now);
    for (const key of this.#keys.filter((k) => !k.retiredAt)) await this.#store.retireSigningKey(key.kid, now);
    await this.#store.addSigningKey(fresh);
    await this.load();
    return fresh.kid;
  }
}

function newSigningKey(now = new Date()): SigningKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    kid: randomUUID(),
    algorithm: 'ES256',
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    createdAt: now,
  };
}

function loadKey(key: SigningKey): LoadedKey {
  const privateKey = createPrivateKey(key.privateKeyPem);
  return { kid: key.kid, privateKey, publicKey: createPublicKey(privateKey), retiredAt: key.retiredAt };
}
