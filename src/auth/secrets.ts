/**
 * Password hashing (scrypt, memory-hard, built into Node) and high-entropy secrets (robot secrets,
 * refresh tokens) that are stored only as SHA-256 digests. Every comparison is constant-time.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { tracingChannel } from 'node:diagnostics_channel';

/** scrypt cost: 2^15 × 8 × 128 bytes = 32 MiB and some tens of milliseconds per hash. */
const SCRYPT = { N: 32768, r: 8, p: 1, keyLength: 32, maxmem: 64 * 1024 * 1024 };

/**
 * How many password hashes run at once, and how many may wait for their turn. scrypt runs on
 * libuv's thread pool (4 threads by default), which file reads and writes, WebCrypto (token
 * signatures) and DNS share: were every login hashed at once, a burst of wrong passwords would
 * occupy all four threads and stall blob transfers for seconds. One hash at a time leaves three
 * threads to registry I/O and one core to everything else (a larger pool would not help: the
 * hashes would still take the CPU). At some tens of milliseconds a hash that is about ten
 * logins a second, enough since clients log in once per token and a verified password is
 * remembered for a minute; logins beyond the queue are refused at once (429).
 */
const MAX_RUNNING_HASHES = 1;
const MAX_WAITING_HASHES = 8;

/** Thrown by verifyPassword when the hash queue is full: nothing was checked, try again shortly. */
export class PasswordHashBusy extends Error {
  constructor() {
    super('too many logins being checked: try again shortly');
  }
}

/**
 * Every password hash is traced here (start, asyncEnd), so operators and tests can see how many
 * hashes run and how many at once; costs nothing while nobody subscribes.
 */
export const passwordHashTrace = tracingChannel<object, { readonly purpose: 'hash' | 'verify' }>('wharf:auth:password-hash');

/** Runs tasks at most `maxRunning` at a time, in arrival order, with at most `maxWaiting` waiting. */
class HashQueue {
  readonly #maxRunning: number;
  readonly #maxWaiting: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(maxRunning: number, maxWaiting: number) {
    this.#maxRunning = maxRunning;
    this.#maxWaiting = maxWaiting;
  }

  /** Runs `task` in turn; when `refuseWhenFull` and the queue is full, throws PasswordHashBusy instead. */
  async run<T>(task: () => Promise<T>, refuseWhenFull: boolean): Promise<T> {
    if (this.#running >= this.#maxRunning) {
      if (refuseWhenFull && this.#waiting.length >= this.#maxWaiting) throw new PasswordHashBusy();
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiter, so a newcomer cannot overtake the queue.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}

const hashQueue = new HashQueue(MAX_RUNNING_HASHES, MAX_WAITING_HASHES);

function scryptAsync(password: string, salt: Buffer, N: number, r: number, p: number, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, { N, r, p, maxmem: SCRYPT.maxmem }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** `scrypt$N$r$p$<salt base64>$<hash base64>`. Waits for its turn however long the queue (administration, not logins). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await hashQueue.run(() => passwordHashTrace.tracePromise(
    () => scryptAsync(password, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p, SCRYPT.keyLength), { purpose: 'hash' }), false);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** True when `password` matches; throws PasswordHashBusy, having checked nothing, when too many checks are queued. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await hashQueue.run(() => passwordHashTrace.tracePromise(
    () => scryptAsync(password, Buffer.from(salt, 'base64'), Number(n), Number(r), Number(p), expected.length), { purpose: 'verify' }), true);
  return timingSafeEqual(actual, expected);
}

/**
 * A stored hash no password is known to match, with the current cost: checking a login of an
 * unknown user against it takes as long as checking a real user's, so timing tells no names.
 */
export const UNMATCHABLE_PASSWORD_HASH = ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, randomBytes(16).toString('base64'), randomBytes(SCRYPT.keyLength).toString('base64')].join('$');

/** A new random secret, URL-safe, 256 bits. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function secretDigest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A digest no secret is known to match, for checking a secret of an unknown robot the same way. */
export const UNMATCHABLE_SECRET_DIGEST = randomBytes(32).toString('hex');

/** Constant-time check of a presented secret against its stored digest. */
export function secretMatches(secret: string, storedDigest: string): boolean {
  const actual = Buffer.from(secretDigest(secret), 'hex');
  const expected = Buffer.from(storedDigest, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
