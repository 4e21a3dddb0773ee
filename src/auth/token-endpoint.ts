/**
 * The token endpoint of the Docker/OCI token protocol, at /token:
 * - GET with Basic credentials (or none, for anonymous access) and `scope` parameters;
 *   `offline_token=true` adds a refresh token;
 * - POST (OAuth2, form-encoded) with grant_type `password`, `refresh_token`, or RFC 8693
 *   `token-exchange` of an OIDC token (`subject_token`).
 * A token grants the intersection of what was asked and what the identity may do.
 */
import { readBody, sendJson, type RequestContext } from '../distribution/http.ts';
import { parseScope, type AccessEntry } from './access.ts';
import { OIDC_USERNAME, parseAuthorization, type Authenticator, type LoginResult } from './authenticator.ts';
import { clientAddress } from './guard.ts';
import type { IdentityStore } from './identity-store.ts';
import { ANONYMOUS, allowedActions, isAdmin, type Identity } from './identity.ts';
import type { RegistryTokens, TokenHolder } from './registry-tokens.ts';
import { newSecret, secretDigest } from './secrets.ts';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const FORM_LIMIT_BYTES = 64 * 1024;
/**
 * Anyone may POST to /token before being authenticated, so the form (a few hundred bytes, sent
 * with the headers by every client) must arrive within a few seconds; a connection that trickles
 * it in is answered 408 and closed instead of being held open.
 */
const FORM_DEADLINE_MS = 5_000;
const REFRESH_TOKEN_TTL_MS = 30 * 24 * 3600_000;

export class TokenEndpoint {
  readonly #store: IdentityStore;
  readonly #authenticator: Authenticator;
  readonly #tokens: RegistryTokens;

  constructor(store: IdentityStore, authenticator: Authenticator, tokens: RegistryTokens) {
    this.#store = store;
    this.#authenticator = authenticator;
    this.#tokens = tokens;
  }

  async handle(ctx: RequestContext): Promise<void> {
    if (ctx.method === 'GET') return this.#get(ctx);
    if (ctx.method === 'POST') return this.#post(ctx);
    sendJson(ctx.res, 405, { error: 'invalid_request', error_description: 'use GET or POST' }, { allow: 'GET, POST' });
  }

  async #get(ctx: RequestContext): Promise<void> {
    const credentials = parseAuthorization(ctx.req.headers.authorization);
    let identity: Identity = ANONYMOUS;
    if (credentials.kind === 'basic') {
      const result = await this.#authenticator.login(credentials.username, credentials.password, clientAddress(ctx.req));
      if (!result.ok) return refuse(ctx, result);
      identity = result.identity;
    } else if (credentials.kind !== 'none') {
      return sendJson(ctx.res, 401, unauthorized('use Basic credentials at the token endpoint'), { 'www-authenticate': 'Basic realm="wharf"' });
    }
    const access = await this.#grant(identity, ctx.query.getAll('scope'));
    const issued = await this.#tokens.issue(holderOf(identity), access);
    const refresh = ctx.query.get('offline_token') === 'true' ? await this.#refreshTokenFor(identity) : undefined;
    sendJson(ctx.res, 200, {
      token: issued.token, access_token: issued.token, expires_in: issued.expiresIn,
      issued_at: issued.issuedAt.toISOString(), ...(refresh ? { refresh_token: refresh } : {}),
    }, { 'cache-control': 'no-store' });
  }

  async #post(ctx: RequestContext): Promise<void> {
    const form = await readForm(ctx);
    if (!form) return sendJson(ctx.res, 408, { error: 'invalid_request', error_description: `the form did not arrive within ${FORM_DEADLINE_MS / 1000} s` });
    const grantType = form.get('grant_type');
    let result: LoginResult;
    if (grantType === 'password') {
      result = await this.#authenticator.login(form.get('username') ?? '', form.get('password') ?? '', clientAddress(ctx.req));
    } else if (grantType === 'refresh_token') {
      result = await this.#fromRefreshToken(form.get('refresh_token') ?? '');
    } else if (grantType === TOKEN_EXCHANGE) {
      result = await this.#authenticator.login(OIDC_USERNAME, form.get('subject_token') ?? '', clientAddress(ctx.req));
    } else {
      return sendJson(ctx.res, 400, { error: 'unsupported_grant_type', error_description: `grant_type ${JSON.stringify(grantType)} is not supported` });
    }
    if (!result.ok) return refuse(ctx, result, true);
    const scopes = (form.get('scope') ?? '').split(' ').filter((scope) => scope !== '');
    const access = await this.#grant(result.identity, scopes);
    const issued = await this.#tokens.issue(holderOf(result.identity), access);
    const wantsRefresh = form.get('access_type') === 'offline' && grantType !== TOKEN_EXCHANGE;
    const refresh = grantType === 'refresh_token' ? form.get('refresh_token')! : wantsRefresh ? await this.#refreshTokenFor(result.identity) : undefined;
    sendJson(ctx.res, 200, {
      access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn, issued_at: issued.issuedAt.toISOString(),
      scope: access.map((entry) => `${entry.type}:${entry.name}:${entry.actions.join(',')}`).join(' '),
      ...(refresh ? { refresh_token: refresh } : {}),
    }, { 'cache-control': 'no-store' });
  }

  /** For each well-formed scope, the actions asked for that the identity may perform; nothing else. */
  async #grant(identity: Identity, scopes: readonly string[]): Promise<AccessEntry[]> {
    const granted: AccessEntry[] = [];
    for (const scope of scopes.flatMap((value) => value.split(' '))) {
      const asked = parseScope(scope);
      if (!asked) continue;
      if (asked.type === 'registry') {
        if (isAdmin(identity)) granted.push(asked);
        continue;
      }
      const allowed = await allowedActions(this.#store, identity, asked.name);
      const actions = asked.actions.filter((action) => (allowed as string[]).includes(action));
      if (actions.length > 0) granted.push({ ...asked, actions });
    }
    return granted;
  }

  async #refreshTokenFor(identity: Identity): Promise<string | undefined> {
    if (identity.kind !== 'user' && identity.kind !== 'robot') return undefined;
    const token = newSecret();
    await this.#store.putRefreshToken(secretDigest(token), identity.subject, new Date(Date.now() + REFRESH_TOKEN_TTL_MS));
    return token;
  }

  async #fromRefreshToken(token: string): Promise<LoginResult> {
    const subject = token === '' ? undefined : await this.#store.getRefreshToken(secretDigest(token), new Date());
    const identity = subject && (await this.#authenticator.identityOfSubject(subject));
    return identity ? { ok: true, identity } : { ok: false, reason: 'refresh token is invalid or expired' };
  }
}

async function readForm(ctx: RequestContext): Promise<URLSearchParams | undefined> {
  const reading = readBody(ctx.req, FORM_LIMIT_BYTES);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => { timer = setTimeout(resolve, FORM_DEADLINE_MS, undefined); });
  try {
    const body = await Promise.race([reading, deadline]);
    return body && new URLSearchParams(body.toString('utf8'));
  } finally {
    clearTimeout(timer);
    // A form abandoned at the deadline fails when its connection closes; nobody waits for it then.
    reading.catch(() => {});
  }
}

/** A token names the account it was issued to by its immutable id; an OIDC caller's, by the `iss` of its issuer. */
function holderOf(identity: Identity): TokenHolder {
  switch (identity.kind) {
    case 'user':
    case 'robot':
      return { subject: identity.subject, accountId: identity.accountId };
    case 'oidc':
      return { subject: identity.subject, accountId: typeof identity.claims?.iss === 'string' ? identity.claims.iss : undefined };
    case 'anonymous':
      return { subject: identity.subject };
  }
}

function refuse(ctx: RequestContext, result: Extract<LoginResult, { ok: false }>, oauth = false): void {
  const status = result.throttled ? 429 : 401;
  if (oauth) return sendJson(ctx.res, status === 429 ? 429 : 400, { error: 'invalid_grant', error_description: result.reason });
  sendJson(ctx.res, status, status === 429
    ? { errors: [{ code: 'TOOMANYREQUESTS', message: result.reason, detail: {} }] }
    : unauthorized(result.reason), status === 401 ? { 'www-authenticate': 'Basic realm="wharf"' } : {});
}

function unauthorized(message: string) {
  return { errors: [{ code: 'UNAUTHORIZED', message, detail: {} }] };
}
