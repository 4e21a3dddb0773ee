/**
 * Turns presented credentials into an Identity: a user's password, a robot's secret
 * (`robot$<name>`), or an OIDC token (username `oidc`, the token as password). Every attempt is
 * counted by the login limiter before it is checked; identical attempts in flight share one check;
 * password hashes run through a small queue (secrets.ts). An unknown user name costs the same
 * hash as a known one. Secrets are compared in constant time and never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IdentityStore } from './identity-store.ts';
import type { Identity } from './identity.ts';
import type { LoginAttempt, LoginLimiter } from './login-limiter.ts';
import type { OidcVerifier } from './oidc.ts';
import type { VerifiedToken } from './registry-tokens.ts';
import {
  PasswordHashBusy, UNMATCHABLE_PASSWORD_HASH, UNMATCHABLE_SECRET_DIGEST, secretMatches, verifyPassword,
} from './secrets.ts';

export const ROBOT_PREFIX = 'robot$';
export const OIDC_USERNAME = 'oidc';

export type Credentials =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'malformed' };

export type LoginResult =
  | { readonly ok: true; readonly identity: Identity }
  | { readonly ok: false; readonly reason: string; readonly throttled?: boolean };

export function parseAuthorization(header: string | undefined): Credentials {
  if (!header) return { kind: 'none' };
  const space = header.indexOf(' ');
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (space <= 0 || value === '') return { kind: 'malformed' };
  if (scheme === 'bearer') return { kind: 'bearer', token: value };
  if (scheme !== 'basic') return { kind: 'malformed' };
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return { kind: 'malformed' };
  return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Remembers recent successful password checks (keyed by password and stored hash), since scrypt is slow by design. */
const VERIFIED_TTL_MS = 60_000;

export class Authenticator {
  readonly #store: IdentityStore;
  readonly #oidc: OidcVerifier;
  readonly #limiter: LoginLimiter;
  readonly #verified = new Map<string, number>();
  /** Attempts being checked, by a digest of user name and password. */
  readonly #inFlight = new Map<string, Promise<LoginResult>>();

  constructor(store: IdentityStore, oidc: OidcVerifier, limiter: LoginLimiter) {
    this.#store = store;
    this.#oidc = oidc;
    this.#limiter = limiter;
  }

  async login(username: string, password: string, client: string, now = new Date()): Promise<LoginResult> {
    // A client that sends the same credentials many times at once (parallel layer pulls) gets one
    // check; guessing gains nothing from it, since only identical credentials share.
    const key = createHash('sha256').update(JSON.stringify([username, password])).digest('hex');
    const same = this.#inFlight.get(key);
    if (same) return same;
    const account = username === OIDC_USERNAME || username.startsWith(ROBOT_PREFIX) ? undefined : username;
    const attempt = this.#limiter.tryReserve(account, client, now.getTime());
    if (!attempt) return { ok: false, reason: 'too many failed logins: try again later', throttled: true };
    const pending = this.#attempt(username, password, now, attempt).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, pending);
    return pending;
  }

  async #attempt(username: string, password: string, now: Date, attempt: LoginAttempt): Promise<LoginResult> {
    let result: LoginResult;
    try {
      result = await this.#check(username, password, now);
    } catch (error) {
      attempt.release();
      if (error instanceof PasswordHashBusy) return { ok: false, reason: error.message, throttled: true };
      throw error;
    }
    if (result.ok) attempt.release();
    else attempt.failed();
    return result;
  }

  /** The identity behind a token subject (`user:…`, `robot:…`), re-read so that deletions and revocations apply at once. */
  async identityOfSubject(subject: string, now = new Date()): Promise<Identity | undefined> {
    if (subject.startsWith('user:')) {
      const user = await this.#store.getUser(subject.slice(5));
      return user && { kind: 'user', subject, accountId: user.id, name: user.username, admin: user.admin };
    }
    if (subject.startsWith('robot:')) {
      const robot = await this.#store.getRobot(subject.slice(6));
      if (!robot || robot.revokedAt || (robot.expiresAt && robot.expiresAt <= now)) return undefined;
      return { kind: 'robot', subject, accountId: robot.id, name: robot.name, grants: robot.grants };
    }
    return undefined;
  }

  /**
   * True while the holder of a registry token still exists: the very user or robot account it was
   * issued to (not one deleted and created again under the same name, which has another id), or
   * for OIDC callers the trusted issuer, still trusted with the same `iss`.
   */
  async holdsToken(token: VerifiedToken, now = new Date()): Promise<boolean> {
    if (token.accountId === undefined) return false;
    if (token.subject.startsWith('oidc:')) {
      const name = token.subject.slice('oidc:'.length, token.subject.indexOf(':', 'oidc:'.length));
      return (await this.#store.listIssuers()).some((issuer) => issuer.name === name && issuer.issuer === token.accountId);
    }
    const identity = await this.identityOfSubject(token.subject, now);
    return (identity?.kind === 'user' || identity?.kind === 'robot') && identity.accountId === token.accountId;
  }

  async #check(username: string, password: string, now: Date): Promise<LoginResult> {
    if (username === OIDC_USERNAME) {
      const result = await this.#oidc.verify(password, await this.#store.listIssuers(), now);
      if (!result.ok) return { ok: false, reason: `OIDC token refused: ${result.reason}` };
      return { ok: true, identity: { kind: 'oidc', subject: result.subject, issuer: result.issuer.name, grants: result.grants, claims: result.claims } };
    }
    if (username.startsWith(ROBOT_PREFIX)) return this.#checkRobot(username.slice(ROBOT_PREFIX.length), password, now);
    const user = await this.#store.getUser(username);
    const matches = await this.#passwordMatches(password, user?.passwordHash ?? UNMATCHABLE_PASSWORD_HASH, now);
    if (!user || !matches) return { ok: false, reason: 'invalid username or password' };
    return { ok: true, identity: { kind: 'user', subject: `user:${user.username}`, accountId: user.id, name: user.username, admin: user.admin } };
  }

  async #checkRobot(name: string, secret: string, now: Date): Promise<LoginResult> {
    const robot = await this.#store.getRobot(name);
    const matches = secretMatches(secret, robot?.secretHash ?? UNMATCHABLE_SECRET_DIGEST);
    if (!robot || !matches) return { ok: false, reason: 'invalid robot name or secret' };
    if (robot.revokedAt) return { ok: false, reason: 'robot account is revoked' };
    if (robot.expiresAt && robot.expiresAt <= now) return { ok: false, reason: 'robot account has expired' };
    if (!robot.lastUsedAt || now.getTime() - robot.lastUsedAt.getTime() > 60_000) await this.#store.touchRobot(name, now);
    return { ok: true, identity: { kind: 'robot', subject: `robot:${name}`, accountId: robot.id, name, grants: robot.grants } };
  }

  async #passwordMatches(password: string, storedHash: string, now: Date): Promise<boolean> {
    const key = createHash('sha256').update(storedHash).update('\0').update(password).digest('hex');
    const until = this.#verified.get(key);
    if (until !== undefined && until > now.getTime()) return true;
    if (!(await verifyPassword(password, storedHash))) return false;
    if (this.#verified.size > 10_000) this.#verified.clear();
    this.#verified.set(key, now.getTime() + VERIFIED_TTL_MS);
    return true;
  }
}

/** Constant-time string equality, for secrets that are not stored hashed. */
export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
