/**
 * OIDC workload identity federation: a CI job or a Kubernetes service account presents the JWT
 * its platform issued; Wharf verifies it against a trusted issuer's keys, audience and expiry, and
 * maps its claims to grants through the issuer's rules. No secret is stored for such callers.
 */
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { wildcardMatch } from '../content/wildcard.ts';
import type { ClaimRule, Grant, Issuer } from './identity-store.ts';

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'];

export type OidcResult =
  | { readonly ok: true; readonly issuer: Issuer; readonly subject: string; readonly grants: Grant[]; readonly claims: JWTPayload }
  | { readonly ok: false; readonly reason: string };

export class OidcVerifier {
  readonly #remoteKeySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  /** Verifies `token` against the issuer named by its `iss` claim. */
  async verify(token: string, issuers: readonly Issuer[], now = new Date()): Promise<OidcResult> {
    let claimed: JWTPayload;
    try {
      claimed = decodeJwt(token);
    } catch {
      return { ok: false, reason: 'not a JWT' };
    }
    const issuer = issuers.find((candidate) => candidate.issuer === claimed.iss);
    if (!issuer) return { ok: false, reason: 'issuer is not trusted' };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#keySet(issuer), {
        algorithms: ALGORITHMS,
        issuer: issuer.issuer,
        audience: issuer.audience,
        currentDate: now,
        clockTolerance: 30,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      return { ok: false, reason: `token rejected: ${(error as { code?: string }).code ?? 'invalid'}` };
    }
    const grants = grantsFor(issuer.rules, payload);
    if (grants.length === 0) return { ok: false, reason: 'no rule of the issuer matches the token' };
    return { ok: true, issuer, subject: `oidc:${issuer.name}:${String(payload.sub)}`, grants, claims: payload };
  }

  #keySet(issuer: Issuer) {
    if (issuer.jwks) return createLocalJWKSet(JSON.parse(issuer.jwks));
    const url = issuer.jwksUrl!;
    let remote = this.#remoteKeySets.get(url);
    if (!remote) {
      remote = createRemoteJWKSet(new URL(url), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
      this.#remoteKeySets.set(url, remote);
    }
    return remote;
  }
}

/** The grants of every rule whose claim patterns all match the token's claims. */
export function grantsFor(rules: readonly ClaimRule[], claims: JWTPayload): Grant[] {
  return rules
    .filter((rule) => Object.entries(rule.claims).every(([name, pattern]) => claimMatches(claims[name], pattern)))
    .flatMap((rule) => rule.grants);
}

/** A claim matches an exact string, or a glob where `*` stands for any run of characters. */
export function claimMatches(value: unknown, pattern: string): boolean {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return false;
  return wildcardMatch(pattern, String(value));
}
