/**
 * Failed logins are limited per account and per client address: after `maxFailures` failures in
 * `windowMs`, further attempts are refused until the window has passed, whether or not the
 * password would be right (so guessing cannot continue at full speed).
 */
export class LoginLimiter {
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #failures = new Map<string, number[]>();

  constructor(maxFailures = 10, windowMs = 5 * 60_000) {
    this.#maxFailures = maxFailures;
    this.#windowMs = windowMs;
  }

  /** True when either the account or the address has too many recent failures. */
  blocked(account: string, address: string, now = Date.now()): boolean {
    return this.#count(`account:${account}`, now) >= this.#maxFailures || this.#count(`address:${address}`, now) >= this.#maxFailures;
  }

  recordFailure(account: string, address: string, now = Date.now()): void {
    for (const key of [`account:${account}`, `address:${address}`]) {
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
