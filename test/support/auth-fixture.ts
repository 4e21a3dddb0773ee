/**
 * A test registry with authentication on, and direct access to its identity store to set up
 * users, teams, robots and OIDC issuers the way an administrator would.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { SignJWT, exportJWK } from 'jose';
import { IdentityAdmin } from '../../src/auth/identity-admin.ts';
import type { IdentityStore } from '../../src/auth/identity-store.ts';
import { openIdentityStore } from '../../src/auth/open-identity-store.ts';
import { metadataEnvForTest } from './postgres-mode.ts';
import { startTestRegistry, type TestRegistry } from './registry-fixture.ts';

export interface AuthRegistry extends TestRegistry {
  readonly store: IdentityStore;
  readonly admin: IdentityAdmin;
}

export async function startAuthRegistry(env: NodeJS.ProcessEnv = {}): Promise<AuthRegistry> {
  const registry = await startTestRegistry({ WHARF_AUTH_ENABLED: 'true', ...env });
  const store = await identityStoreOf(registry.dataDir, env);
  await store.migrate();
  return {
    ...registry,
    store,
    admin: new IdentityAdmin(store),
    async close() {
      await store.close();
      await registry.close();
    },
  };
}

/**
 * The identity store a server on `dataDir` reads: its SQLite file, or under `npm run test:scale`
 * (or with WHARF_METADATA_POSTGRES_URL given) the PostgreSQL database its metadata lives in.
 */
export async function identityStoreOf(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<IdentityStore> {
  const url = env.WHARF_METADATA_POSTGRES_URL ?? (await metadataEnvForTest(dataDir, env)).WHARF_METADATA_POSTGRES_URL ?? '';
  return openIdentityStore({ metadata: { postgres: { url, maxConnections: 2 } } }, join(dataDir, 'identity.db'));
}

export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** Asks the token endpoint for a token with the given scopes, as Docker clients do. */
export async function fetchToken(url: string, scopes: string[], authorization?: string): Promise<{ status: number; token?: string; body: Record<string, unknown> }> {
  const query = new URLSearchParams({ service: 'wharf' });
  for (const scope of scopes) query.append('scope', scope);
  const response = await fetch(`${url}/token?${query}`, { headers: authorization ? { authorization } : {} });
  const body = await response.json() as Record<string, unknown>;
  return { status: response.status, token: body.token as string | undefined, body };
}

/** The `access` claim of a token, read without verification (for assertions only). */
export function accessOf(token: string): { type: string; name: string; actions: string[] }[] {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).access;
}

/** An OIDC issuer of the test's own: a key pair, its JWKS, and a way to mint tokens. */
export async function testIssuer(issuer: string) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  return {
    issuer,
    jwks: JSON.stringify({ keys: [jwk] }),
    async mint(claims: Record<string, unknown>, options: { audience?: string; expiresIn?: number; key?: KeyObject; iss?: string } = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
        .setIssuer(options.iss ?? issuer)
        .setAudience(options.audience ?? 'wharf')
        .setIssuedAt(now)
        .setExpirationTime(now + (options.expiresIn ?? 300))
        .sign(options.key ?? privateKey);
    },
  };
}
