/**
 * Registry bearer tokens: short-lived ES256 JWTs carrying the granted `access` entries, as the
 * Docker/OCI token specification defines them. Verification pins the algorithm (no `none`, no
 * HMAC confusion), the issuer, the audience (the service) and the expiry.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, jwtVerify } from 'jose';
import type { AccessEntry } from './access.ts';
import type { TokenKeys } from './token-keys.ts';

export interface TokenSettings {
  readonly issuer: string;
  readonly service: string;
  readonly ttlSeconds: number;
}

/** Who a token is for: the subject (`user:alice`), and the account's immutable id (for OIDC callers, their issuer's `iss`). */
export interface TokenHolder {
  readonly subject: string;
  readonly accountId?: string;
}

export interface VerifiedToken {
  readonly subject: string;
  /** The `account_id` claim: the id of the user or robot account the token was issued to, or the `iss` of an OIDC caller's issuer. */
  readonly accountId?: string;
  readonly access: readonly AccessEntry[];
  readonly expiresAt: Date;
}

export class RegistryTokens {
  readonly #keys: TokenKeys;
  readonly #settings: TokenSettings;

  constructor(keys: TokenKeys, settings: TokenSettings) {
    this.#keys = keys;
    this.#settings = settings;
  }

  get ttlSeconds(): number {
    return this.#settings.ttlSeconds;
  }

  async issue(holder: TokenHolder, access: readonly AccessEntry[], now = new Date()): Promise<{ token: string; issuedAt: Date; expiresIn: number }> {
    const key = this.#keys.current;
    const issuedAt = Math.floor(now.getTime() / 1000);
    const claims = {
      access: access.map((entry) => ({ type: entry.type, name: entry.name, actions: [...entry.actions] })),
      ...(holder.accountId === undefined ? {} : { account_id: holder.accountId }),
    };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
      .setIssuer(this.#settings.issuer)
      .setSubject(holder.subject)
      .setAudience(this.#settings.service)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt - 1)
      .setExpirationTime(issuedAt + this.#settings.ttlSeconds)
      .setJti(randomUUID())
      .sign(key.privateKey);
    return { token, issuedAt: new Date(issuedAt * 1000), expiresIn: this.#settings.ttlSeconds };
  }

  /** The token's subject and access, or undefined for any token Wharf did not issue or that expired. */
  async verify(token: string, now = new Date()): Promise<VerifiedToken | undefined> {
    try {
      const header = decodeProtectedHeader(token);
      if (header.alg !== 'ES256' || typeof header.kid !== 'string') return undefined;
      const key = await this.#keys.findOrReload(header.kid, now, this.#settings.ttlSeconds * 1000);
      if (!key) return undefined;
      const { payload } = await jwtVerify(token, key.publicKey, {
        algorithms: ['ES256'],
        issuer: this.#settings.issuer,
        audience: this.#settings.service,
        currentDate: now,
        clockTolerance: 5,
      });
      if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') return undefined;
      return {
        subject: payload.sub,
        accountId: typeof payload.account_id === 'string' ? payload.account_id : undefined,
        access: parseAccessClaim(payload.access),
        expiresAt: new Date(payload.exp * 1000),
      };
    } catch {
      return undefined;
    }
  }
}

function parseAccessClaim(claim: unknown): AccessEntry[] {
  if (!Array.isArray(claim)) return [];
  return claim.filter((entry): entry is AccessEntry =>
    typeof entry === 'object' && entry !== null
    && (entry.type === 'repository' || entry.type === 'registry')
    && typeof entry.name === 'string'
    && Array.isArray(entry.actions) && entry.actions.every((action: unknown) => typeof action === 'string'));
}
