/**
 * Password guesses are limited per account and per client address: an account may have
 * `maxFailures` failed or unfinished attempts within `windowMs` (an address ADDRESS_FACTOR times
 * as many, as many users may share one behind a NAT). Beyond that every attempt is refused until
 * the window has passed, whether or not the password would be right, so guessing cannot continue
 * at full speed.
 *
 * An attempt is reserved before its credentials are checked and counts while it is checked, so a
 * burst sent all at once gets no more checks than one sent in sequence. A failed attempt stays
 * counted for the window; a successful one (or one never checked) gives its reservation back.
 * The trade-off: anyone who knows an account's name can keep that account's password logins
 * refused, but never for more than the window after they stop; robots and OIDC are unaffected.
 *
 * `account` is undefined for credentials that cannot be guessed (256-bit robot secrets, signed
 * OIDC tokens): limiting those per account would only let anyone lock a CI system out.
 */
const ADDRESS_FACTOR = 5;

/** A reserved attempt; exactly one of its methods is called once its outcome is known. */
export interface LoginAttempt {
  /** The credentials were wrong: the attempt stays counted for the window from `at`. */
  failed(at?: number): void;
  /** The credentials were right, or were never checked: the attempt no longer counts. */
  release(): void;
}

export class LoginLimiter {
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #failures = new Map<string, number[]>();
  readonly #inFlight = new Map<string, number>();

  constructor(maxFailures = 10, windowMs = 5 * 60_000) {
    this.#maxFailures = maxFailures;
    this.#windowMs = windowMs;
  }

  /** Reserves an attempt, or returns undefined when the account or the address has used up its attempts. */
  tryReserve(account: string | undefined, address: string, now = Date.now()): LoginAttempt | undefined {
    const keys = account === undefined ? [`address:${address}`] : [`account:${account}`, `address:${address}`];
    const blocked = (account !== undefined && this.#count(`account:${account}`, now) >= this.#maxFailures)
      || this.#count(`address:${address}`, now) >= this.#maxFailures * ADDRESS_FACTOR;
    if (blocked) return undefined;
    for (const key of keys) this.#inFlight.set(key, (this.#inFlight.get(key) ?? 0) + 1);
    let settled = false;
    const settle = (failed: boolean, at: number) => {
      if (settled) return;
      settled = true;
      for (const key of keys) {
        const left = this.#inFlight.get(key)! - 1;
        if (left === 0) this.#inFlight.delete(key);
        else this.#inFlight.set(key, left);
        if (failed) this.#failures.set(key, [...this.#recent(key, at), at]);
      }
      if (this.#failures.size > 100_000) this.#prune(at);
    };
    return { failed: (at = Date.now()) => settle(true, at), release: () => settle(false, Date.now()) };
  }

  #count(key: string, now: number): number {
    return this.#recent(key, now).length + (this.#inFlight.get(key) ?? 0);
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
