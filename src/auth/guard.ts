/**
 * The check in front of every registry and management request when authentication is on.
 *
 * Bearer tokens carry their access: the request passes if the token covers what the route needs,
 * else 401 with a challenge naming the scope (so clients fetch a better token). Basic credentials
 * are checked directly: 401 when they are wrong, 403 DENIED when right but not allowed.
 */
import type { IncomingMessage } from 'node:http';
import { registryError } from '../distribution/errors.ts';
import type { AccessChecker, RequestContext, Requester } from '../distribution/http.ts';
import type { RouteMatch } from '../distribution/paths.ts';
import type { MatchedApiRoute } from '../server/api-routes.ts';
import { covers, formatScope, type AccessEntry } from './access.ts';
import { parseAuthorization, type Authenticator } from './authenticator.ts';
import type { IdentityStore } from './identity-store.ts';
import { allowedActions, isAdmin, type Identity } from './identity.ts';
import type { RegistryTokens } from './registry-tokens.ts';
import { CAPABILITIES } from './roles.ts';
import { isAuditedAccess, requiredAccess, type Requirement } from './required-access.ts';

export interface GuardSettings {
  readonly service: string;
  /** Token endpoint URL; when undefined it is derived from the request's Host. */
  readonly realm?: string;
  readonly tls: boolean;
}

export type AuditSink = (entry: { identity: string; action: string; resource: string; allowed: boolean; reason: string; client: string }) => void;

export class AccessGuard {
  readonly #store: IdentityStore;
  readonly #authenticator: Authenticator;
  readonly #tokens: RegistryTokens;
  readonly #settings: GuardSettings;
  readonly #audit: AuditSink;

  constructor(store: IdentityStore, authenticator: Authenticator, tokens: RegistryTokens, settings: GuardSettings, audit: AuditSink) {
    this.#store = store;
    this.#authenticator = authenticator;
    this.#tokens = tokens;
    this.#settings = settings;
    this.#audit = audit;
  }

  async authorize(ctx: RequestContext, match: RouteMatch): Promise<AccessChecker> {
    const requirement = requiredAccess(match, ctx.method);
    const caller = await this.#identify(ctx, requirement);
    if (requirement === 'authenticated') return caller.checker;
    const allowed = await caller.checker.canAll(requirement);
    if (isAuditedAccess(requirement, ctx.method)) {
      this.#audit({
        identity: caller.subject, action: `${ctx.method} ${requirement.actions.join(',')}`, resource: requirement.name,
        allowed, reason: allowed ? 'granted' : 'not granted', client: clientAddress(ctx.req),
      });
    }
    if (allowed) return caller.checker;
    if (caller.viaToken) throw this.#challenge(ctx, requirement, 'insufficient_scope');
    throw registryError('DENIED', { message: `${caller.subject} may not ${requirement.actions.join(',')} ${requirement.name}`, detail: accessDetail(requirement) });
  }

  /**
   * The management API and admission: the caller must be authenticated, and the route's declared
   * access (server/api-routes.ts) is checked before its handler runs, so "forbidden" never depends
   * on whether the thing asked for exists. A route naming a repository needs pull access to it
   * (challenged with that scope, so token clients fetch the right token); `admin` routes and paths
   * nobody declared need an administrator; `admission` routes need the admission capability. The
   * returned context carries the caller's access, for handlers that show only what it may read.
   */
  async authenticateApi(ctx: RequestContext, route: MatchedApiRoute | undefined): Promise<RequestContext> {
    const requirement: Requirement = route?.repository === undefined ? 'authenticated' : { type: 'repository', name: route.repository, actions: ['pull'] };
    const caller = await this.#identify(ctx, requirement);
    const identity = caller.identity ?? await this.#authenticator.identityOfSubject(caller.subject);
    const admin = identity !== undefined && isAdmin(identity);
    const capabilities = admin ? [...CAPABILITIES] : identity?.kind === 'robot' ? (await this.#store.getRobot(identity.name))?.capabilities ?? [] : [];
    const deny = (reason: string, message: string) => {
      this.#audit({ identity: caller.subject, action: `${ctx.method} api`, resource: ctx.path, allowed: false, reason, client: clientAddress(ctx.req) });
      return registryError('DENIED', { message });
    };
    const access = route?.route.access ?? 'admin';
    const writesForAdmins = ctx.method !== 'GET' && ctx.method !== 'HEAD' && (route?.route.writes ?? 'admins') === 'admins';
    if (!admin && (access === 'admin' || (writesForAdmins && access !== 'admission'))) throw deny('not an admin', 'administrator access required');
    if (access === 'admission' && !capabilities.includes('admission')) {
      throw deny('no admission capability', `${caller.subject} may not ask for admission reviews: it needs the admission capability (wharf robot create NAME --capability admission)`);
    }
    if (requirement !== 'authenticated' && !(await caller.checker.canAll(requirement))) {
      if (caller.viaToken) throw this.#challenge(ctx, requirement, 'insufficient_scope');
      throw registryError('DENIED', { message: `${caller.subject} may not pull ${requirement.name}`, detail: accessDetail(requirement) });
    }
    return { ...ctx, principal: { subject: caller.subject, admin, capabilities }, access: caller.checker };
  }

  async #identify(ctx: RequestContext, requirement: Requirement): Promise<Caller> {
    const credentials = parseAuthorization(ctx.req.headers.authorization);
    if (credentials.kind === 'bearer') {
      const token = await this.#tokens.verify(credentials.token);
      if (!token) throw this.#challenge(ctx, requirement, 'invalid_token');
      // Robot revocation, user deletion and issuer removal take effect at once, not when the token expires.
      if (!(await this.#authenticator.holdsToken(token))) {
        throw this.#challenge(ctx, requirement, 'invalid_token');
      }
      return { subject: token.subject, viaToken: true, checker: tokenChecker(requesterOfSubject(token.subject), token.access) };
    }
    if (credentials.kind === 'basic') {
      const result = await this.#authenticator.login(credentials.username, credentials.password, clientAddress(ctx.req));
      if (!result.ok) {
        if (result.throttled) throw registryError('TOOMANYREQUESTS', { message: result.reason });
        throw this.#challenge(ctx, requirement, undefined, result.reason);
      }
      return { subject: result.identity.subject, identity: result.identity, viaToken: false, checker: identityChecker(this.#store, result.identity) };
    }
    throw this.#challenge(ctx, requirement);
  }

  #challenge(ctx: RequestContext, requirement: Requirement, error?: string, message = 'authentication required') {
    const realm = this.#settings.realm ?? `${this.#settings.tls ? 'https' : 'http'}://${requestHost(ctx.req)}/token`;
    const parts = [`realm=${quoted(realm)}`, `service=${quoted(this.#settings.service)}`];
    if (requirement !== 'authenticated') parts.push(`scope=${quoted(formatScope(requirement))}`);
    if (error) parts.push(`error=${quoted(error)}`);
    return registryError('UNAUTHORIZED', {
      message,
      detail: requirement === 'authenticated' ? undefined : accessDetail(requirement),
      headers: { 'www-authenticate': `Bearer ${parts.join(',')}` },
    });
  }
}

interface Caller {
  readonly subject: string;
  readonly identity?: Identity;
  readonly viaToken: boolean;
  readonly checker: AccessChecker & { canAll(entry: AccessEntry): Promise<boolean> };
}

function tokenChecker(requester: Requester, access: readonly AccessEntry[]): Caller['checker'] {
  return {
    requester,
    canAll: async (entry) => covers(access, entry),
    can: async (repository, action) => covers(access, { type: 'repository', name: repository, actions: [action] }),
  };
}

function identityChecker(store: IdentityStore, identity: Identity): Caller['checker'] {
  const can = async (repository: string, action: 'pull' | 'push' | 'delete') => (await allowedActions(store, identity, repository)).includes(action);
  return {
    requester: { subject: identity.subject, kind: identity.kind, claims: identity.kind === 'oidc' ? identity.claims : undefined },
    can,
    canAll: async (entry) => {
      if (entry.type === 'registry') return isAdmin(identity);
      const allowed = await allowedActions(store, identity, entry.name);
      return entry.actions.every((action) => (allowed as string[]).includes(action));
    },
  };
}

function requesterOfSubject(subject: string): Requester {
  const kind = subject.slice(0, subject.indexOf(':'));
  return { subject, kind: kind === 'user' || kind === 'robot' || kind === 'oidc' ? kind : 'anonymous' };
}

function accessDetail(entry: AccessEntry) {
  return entry.actions.map((action) => ({ Type: entry.type, Name: entry.name, Action: action }));
}

/** `host[:port]` as RFC 3986 allows it: a DNS name (underscores too, as container names have them), IPv4 or [IPv6]. */
const HOST = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?|\[[0-9A-Fa-f:.]{2,45}\])(?::([0-9]{1,5}))?$/;

/**
 * The request's Host, which becomes part of the token realm the client is sent to; anything but a
 * well-formed host[:port] (quotes, commas, paths, credentials) is refused rather than echoed.
 */
function requestHost(req: IncomingMessage): string {
  const host = req.headers.host ?? 'localhost';
  const match = HOST.exec(host);
  if (!match || (match[1] !== undefined && Number(match[1]) > 65535)) {
    throw registryError('BAD_REQUEST', { message: 'the Host header is not a valid host[:port]', detail: { host: host.slice(0, 256) } });
  }
  return host;
}

/** An RFC 9110 quoted-string: backslash before `"` and `\`; control characters cannot occur in what is quoted here. */
function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

export function clientAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}
