/**
 * The identity part of the management API, for administrators:
 *
 *   GET|POST        /api/v1/users                 DELETE /api/v1/users/{name}
 *   PUT             /api/v1/users/{name}/password   PUT /api/v1/users/{name}/admin
 *   PUT             /api/v1/users/{name}/admin    ({"admin": true|false})
 *   GET|POST        /api/v1/teams                 DELETE /api/v1/teams/{name}
 *   PUT|DELETE      /api/v1/teams/{team}/members/{user}
 *   GET|PUT         /api/v1/namespaces/{ns}/members   DELETE /api/v1/namespaces/{ns}/members/{user|team}/{name}
 *   GET|POST        /api/v1/robots                DELETE /api/v1/robots/{name} (revokes)
 *                   (POST {name, grants?, capabilities?: ["admission"], expiresInSeconds?})
 *   GET|POST        /api/v1/issuers               DELETE /api/v1/issuers/{name}
 *   GET             /api/v1/audit?limit=&identity=&allowed=
 *   POST            /api/v1/token-keys/rotate
 */
import { registryError } from '../distribution/errors.ts';
import { readBody, sendEmpty, sendJson, type RequestContext } from '../distribution/http.ts';
import { AdminInputError, type IdentityAdmin } from './identity-admin.ts';
import type { IdentityStore, Issuer } from './identity-store.ts';
import type { TokenKeys } from './token-keys.ts';
import { matchApiRoute, type ApiRoute } from '../server/api-routes.ts';

type Body = Record<string, unknown>;
type Params = Readonly<Record<string, string>>;
type Route = (ctx: RequestContext, params: Params, body: () => Promise<Body>) => Promise<void>;

export class IdentityApi {
  readonly #routes: [ApiRoute['method'], string, Route][];
  /** Every route, for the guard: all of them are for administrators. */
  readonly routes: readonly ApiRoute[];

  constructor(store: IdentityStore, admin: IdentityAdmin, keys: TokenKeys) {
    const created = (ctx: RequestContext, value: unknown = {}) => sendJson(ctx.res, 201, value);
    const done = (ctx: RequestContext) => sendEmpty(ctx.res, 204);
    this.#routes = [
      ['GET', '/api/v1/users', async (ctx) => sendJson(ctx.res, 200, (await store.listUsers()).map(({ username, admin: isAdmin, createdAt }) => ({ username, admin: isAdmin, createdAt })))],
      ['POST', '/api/v1/users', async (ctx, _, body) => {
        const input = await body();
        await admin.addUser(text(input, 'username'), text(input, 'password'), input.admin === true);
        created(ctx);
      }],
      ['PUT', '/api/v1/users/{name}/password', async (ctx, { name }, body) => { await admin.setPassword(name!, text(await body(), 'password')); done(ctx); }],
      ['PUT', '/api/v1/users/{name}/admin', async (ctx, { name }, body) => {
        const input = await body();
        if (typeof input.admin !== 'boolean') throw new AdminInputError('"admin" must be true or false');
        await admin.setAdmin(name!, input.admin);
        done(ctx);
      }],
      ['DELETE', '/api/v1/users/{name}', async (ctx, { name }) => { await admin.removeUser(name!); done(ctx); }],
      ['GET', '/api/v1/teams', async (ctx) => sendJson(ctx.res, 200, await store.listTeams())],
      ['POST', '/api/v1/teams', async (ctx, _, body) => { await admin.createTeam(text(await body(), 'name')); created(ctx); }],
      ['DELETE', '/api/v1/teams/{name}', async (ctx, { name }) => { await must(store.deleteTeam(name!), `no team ${name}`); done(ctx); }],
      ['PUT', '/api/v1/teams/{team}/members/{user}', async (ctx, { team, user }) => { await admin.addTeamMember(team!, user!); done(ctx); }],
      ['DELETE', '/api/v1/teams/{team}/members/{user}', async (ctx, { team, user }) => { await must(store.removeTeamMember(team!, user!), `${user} is not in ${team}`); done(ctx); }],
      ['GET', '/api/v1/namespaces/{namespace}/members', async (ctx, { namespace: ns }) => sendJson(ctx.res, 200, await store.listMemberships(ns))],
      ['PUT', '/api/v1/namespaces/{namespace}/members', async (ctx, { namespace: ns }, body) => {
        const input = await body();
        const kind = text(input, 'kind');
        if (kind !== 'user' && kind !== 'team') throw new AdminInputError('kind must be "user" or "team"');
        await admin.setMembership(ns!, { kind, name: text(input, 'name') }, text(input, 'role'));
        done(ctx);
      }],
      ['DELETE', '/api/v1/namespaces/{namespace}/members/{kind}/{name}', async (ctx, { namespace: ns, kind, name }) => {
        if (kind !== 'user' && kind !== 'team') throw registryError('NOT_FOUND', { message: 'no such membership' });
        await must(store.removeMembership(ns!, { kind, name: name! }), 'no such membership');
        done(ctx);
      }],
      ['GET', '/api/v1/robots', async (ctx) => sendJson(ctx.res, 200, (await store.listRobots()).map(({ secretHash: _, ...robot }) => robot))],
      ['POST', '/api/v1/robots', async (ctx, _, body) => {
        const input = await body();
        const seconds = input.expiresInSeconds;
        if (seconds !== undefined && (typeof seconds !== 'number' || !Number.isSafeInteger(seconds) || seconds <= 0)) throw new AdminInputError('expiresInSeconds must be a positive integer');
        const expiresAt = typeof seconds === 'number' ? new Date(Date.now() + seconds * 1000) : undefined;
        const capabilities = input.capabilities === undefined ? [] : list(input, 'capabilities');
        const grants = input.grants === undefined && capabilities.length > 0 ? [] : list(input, 'grants');
        created(ctx, await admin.createRobot(text(input, 'name'), grants as never, expiresAt, capabilities as never));
      }],
      ['DELETE', '/api/v1/robots/{name}', async (ctx, { name }) => { await admin.revokeRobot(name!); done(ctx); }],
      ['GET', '/api/v1/issuers', async (ctx) => sendJson(ctx.res, 200, await store.listIssuers())],
      ['POST', '/api/v1/issuers', async (ctx, _, body) => {
        const input = await body();
        const issuer: Issuer = {
          name: text(input, 'name'), issuer: text(input, 'issuer'), audience: text(input, 'audience'),
          jwks: input.jwks === undefined ? undefined : JSON.stringify(input.jwks),
          jwksUrl: input.jwksUrl === undefined ? undefined : text(input, 'jwksUrl'),
          rules: list(input, 'rules') as never,
        };
        await admin.addIssuer(issuer);
        created(ctx);
      }],
      ['DELETE', '/api/v1/issuers/{name}', async (ctx, { name }) => { await must(store.deleteIssuer(name!), `no issuer ${name}`); done(ctx); }],
      ['GET', '/api/v1/audit', async (ctx) => {
        const limit = Math.min(Math.max(Number(ctx.query.get('limit') ?? 100) || 100, 1), 1000);
        const allowed = ctx.query.get('allowed');
        sendJson(ctx.res, 200, await store.listAudit({ limit, identity: ctx.query.get('identity') ?? undefined, allowed: allowed === null ? undefined : allowed === 'true' }));
      }],
      ['POST', '/api/v1/token-keys/rotate', async (ctx) => created(ctx, { kid: await keys.rotate() })],
    ];
    this.routes = this.#routes.map(([method, path]) => ({ method, path, access: 'admin' }));
  }

  /** Answers the request when it is one of the identity routes; false otherwise. */
  async handle(ctx: RequestContext): Promise<boolean> {
    const { matched } = matchApiRoute(this.routes, ctx.method, ctx.path);
    if (!matched) return false;
    if (!ctx.principal?.admin) throw registryError('DENIED', { message: 'administrator access required' });
    const route = this.#routes.find(([method, path]) => method === matched.route.method && path === matched.route.path)![2];
    const body = async () => parseBody(await readBody(ctx.req, 256 * 1024));
    try {
      await route(ctx, matched.params, body);
    } catch (error) {
      if (error instanceof AdminInputError) throw registryError('BAD_REQUEST', { message: error.message });
      throw error;
    }
    return true;
  }
}

function parseBody(bytes: Buffer): Body {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new AdminInputError('the body must be a JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new AdminInputError('the body must be a JSON object');
  return value as Body;
}

function text(body: Body, key: string): string {
  const value = body[key];
  if (typeof value !== 'string') throw new AdminInputError(`"${key}" must be a string`);
  return value;
}

function list(body: Body, key: string): unknown[] {
  const value = body[key];
  if (!Array.isArray(value)) throw new AdminInputError(`"${key}" must be an array`);
  return value;
}

async function must(result: Promise<boolean>, message: string): Promise<void> {
  if (!(await result)) throw registryError('NOT_FOUND', { message });
}
