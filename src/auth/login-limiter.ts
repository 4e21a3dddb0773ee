/**
 * Failed logins are limited per account and per client address: after `maxFailures` failures of
 * an account in `windowMs` (or ADDRESS_FACTOR times as many from one address, which many users
 * may share behind a NAT), further attempts are refused until the window has passed, whether or
 * not the password would be right, so guessing cannot continue at full speed.
 *
 * `account` is undefined for credentials that cannot be guessed (256-bit robot secrets, signed
 * OIDC tokens): limiting those per account would only let anyone lock a CI system out.
 */
const ADDRESS_FACTOR = 5;

export class LoginLimiter {
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #failures = new Map<string, number[]>();

  constructor(maxFailures = 10, windowMs = 5 * 60_000) {
    this.#maxFailures = maxFailures;
    this.#windowMs = windowMs;
  }

  /** True when either the account or the address has too many recent failures. */
  blocked(account: string | undefined, address: string, now = Date.now()): boolean {
    return (account !== undefined && this.#count(`account:${account}`, now) >= this.#maxFailures)
      || this.#count(`address:${address}`, now) >= this.#maxFailures * ADDRESS_FACTOR;
  }

  recordFailure(account: string | undefined, address: string, now = Date.now()): void {
    const keys = account === undefined ? [`address:${address}`] : [`account:${account}`, `address:${address}`];
    for (const key of keys) {
      const times = this.#recent(key, now);
      times.push(now);
      this.#failures.set(key, times);
    }
    if (this.#failures.size > 100_000) this.#prune(now);
  }

  #count(key: string, now: number): number {
    return this.#recent(key, now).length;
  }

  #recent(key: string, now: number): number[] {
    return (this.#failures.get(key) ?? []).filter((time) => now - time < this.#windowMs);
  }

  #prune(now: number): void {
    for (const [key, times] of this.#failures) {
      if (times.every((time) => now - time >= this.#windowMs)) this.#failures.delete(key);
    }
  }
}
