/**
 * Identity and access as a registry extension: when `auth.enabled`, it guards every registry and
 * management request, serves the token endpoint (/token) and the identity management API, and
 * records every allow/deny decision on writes and deletes as an audit event.
 */
import { join } from 'node:path';
import type { Extension } from '../server/extension.ts';
import { Authenticator } from './authenticator.ts';
import { IdentityApi } from './admin-api.ts';
import { AccessGuard, type AuditSink } from './guard.ts';
import { IdentityAdmin } from './identity-admin.ts';
import { LoginLimiter } from './login-limiter.ts';
import { openIdentityStore } from './open-identity-store.ts';
import { OidcVerifier } from './oidc.ts';
import { RegistryTokens } from './registry-tokens.ts';
import { TokenEndpoint } from './token-endpoint.ts';
import { TokenKeys } from './token-keys.ts';

export function identityDatabasePath(dataDir: string): string {
  return join(dataDir, 'identity.db');
}

export const identityExtension: Extension = {
  name: 'identity',
  async start({ config, logger }) {
    // On PostgreSQL when the metadata is: replicas share users, robots and the keys that sign tokens.
    const store = openIdentityStore(config, identityDatabasePath(config.data));
    await store.migrate();
    const keys = new TokenKeys(store);
    await keys.load();
    // A key rotated by the CLI or by another replica is picked up within a minute.
    const reloadKeys = setInterval(() => {
      keys.load().catch((error: unknown) => logger.error({ err: error }, 'reloading token keys failed'));
    }, 60_000).unref();
    const tokens = new RegistryTokens(keys, { issuer: config.auth.issuer, service: config.auth.service, ttlSeconds: config.auth.tokenTtlSeconds });
    const authenticator = new Authenticator(store, new OidcVerifier(), new LoginLimiter(config.auth.maxFailedLogins));
    const audit: AuditSink = (entry) => {
      logger.info({ audit: entry }, entry.allowed ? 'access granted' : 'access denied');
      store.appendAudit({ ...entry, time: new Date() }).catch((error: unknown) => logger.error({ err: error }, 'audit write failed'));
    };
    const guard = new AccessGuard(store, authenticator, tokens, {
      service: config.auth.service, realm: config.auth.realm || undefined, tls: config.tls.cert !== '',
    }, audit);
    const tokenEndpoint = new TokenEndpoint(store, authenticator, tokens);
    const api = new IdentityApi(store, new IdentityAdmin(store), keys);
    return {
      authorize: (ctx, match) => guard.authorize(ctx, match),
      authenticateApi: (ctx, route) => guard.authenticateApi(ctx, route),
      apiRoutes: api.routes,
      async handle(ctx) {
        if (ctx.path === '/token') {
          await tokenEndpoint.handle(ctx);
          return true;
        }
        return api.handle(ctx);
      },
      async close() {
        clearInterval(reloadKeys);
        await store.close();
      },
    };
  },
};
