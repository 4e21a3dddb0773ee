/**
 * The TUF endpoints, per namespace:
 *   GET  /api/v1/tuf/{namespace}/metadata/{file}   TUF metadata as clients fetch it (N.root.json,
 *                                                  timestamp.json, N.snapshot.json, N.ROLE.json)
 *   POST /api/v1/tuf/{namespace}/online-keys       the snapshot/timestamp keys a root must name (?rotate=ROLE adds one)
 *   POST /api/v1/tuf/{namespace}/publish           signed root and/or targets metadata: {root?, targets?: {ROLE: …}}
 *   POST /api/v1/tuf/{namespace}/timestamp         sign a new timestamp now (the schedule does it on its own)
 *
 * Reading metadata needs pull access to the namespace when authentication is on: targets name
 * every published repository and tag, which a private namespace does not show to outsiders. (The
 * metadata is safe to serve from anywhere — clients trust signatures, not the server — so a
 * public namespace loses nothing by this.)
 */
import type { RequestContext } from '../../distribution/http.ts';
import { readBody, sendJson } from '../../distribution/http.ts';
import { registryError } from '../../distribution/errors.ts';
import { matchApiRoute, type ApiRoute } from '../../server/api-routes.ts';
import { repositoryNameProblem } from '../../content/names.ts';
import { TufRejection, type TufService, type PublishAccess } from '../tuf-service.ts';

const MAX_PUBLISH_BODY = 256 * 1024 * 1024;

export const TUF_ROUTES = [
  // Pull access to the namespace is checked by the handler (the guard knows repositories, not namespaces).
  { method: 'GET', path: '/api/v1/tuf/{namespace}/metadata/{file}', access: 'authenticated' },
  // Online keys and the timestamp are the registry's own signing: administrators only.
  { method: 'POST', path: '/api/v1/tuf/{namespace}/online-keys', access: 'admin' },
  { method: 'POST', path: '/api/v1/tuf/{namespace}/timestamp', access: 'admin' },
  // Root and top-level targets need an administrator; a delegated role, push access to the repositories it names.
  { method: 'POST', path: '/api/v1/tuf/{namespace}/publish', access: 'authenticated', writes: 'handler' },
] as const satisfies readonly ApiRoute[];

/** The repository whose pull access stands for the namespace's (a role in it, or a grant covering NAMESPACE/*). */
export function namespaceProbe(namespace: string): string {
  return `${namespace}/tuf`;
}

export async function handleTufRequest(ctx: RequestContext, service: TufService): Promise<boolean> {
  const { matched, allowedMethods } = matchApiRoute(TUF_ROUTES, ctx.method, ctx.path);
  if (!matched) {
    if (allowedMethods.length > 0) throw registryError('UNSUPPORTED', { message: `${ctx.method} is not supported here`, headers: { allow: allowedMethods.join(', ') } });
    return false;
  }
  const namespace = matched.params.namespace!;
  if (namespace.includes('/') || repositoryNameProblem(namespace) !== undefined) {
    throw registryError('NAME_INVALID', { message: `"${namespace}" is not a namespace name`, detail: { namespace } });
  }
  if (matched.route.access === 'admin') requireAdmin(ctx);
  try {
    switch (matched.route) {
      case TUF_ROUTES[0]: await serveMetadata(ctx, service, namespace, matched.params.file!); break;
      case TUF_ROUTES[1]: {
        const rotate = ctx.query.get('rotate');
        if (rotate !== null && rotate !== 'snapshot' && rotate !== 'timestamp') throw registryError('BAD_REQUEST', { message: `rotate must be snapshot or timestamp, not "${rotate}"` });
        sendJson(ctx.res, 200, service.onlineKeys(namespace, rotate ?? undefined));
        break;
      }
      case TUF_ROUTES[2]: sendJson(ctx.res, 200, { timestamp: service.refreshTimestamp(namespace) }); break;
      case TUF_ROUTES[3]: await publish(ctx, service, namespace); break;
    }
  } catch (error) {
    if (error instanceof TufRejection) throw registryError(error.code, { message: error.message, detail: { namespace } });
    throw error;
  }
  return true;
}

function requireAdmin(ctx: RequestContext): void {
  if (ctx.principal && !ctx.principal.admin) throw registryError('DENIED', { message: `${ctx.principal.subject} is not an administrator` });
}

async function serveMetadata(ctx: RequestContext, service: TufService, namespace: string, file: string): Promise<void> {
  if (ctx.access && !(await ctx.access.can(namespaceProbe(namespace), 'pull'))) throw registryError('DENIED', { message: `no pull access to namespace ${namespace}` });
  const body = service.file(namespace, file);
  if (!body) throw registryError('NOT_FOUND', { message: `namespace ${namespace} has no TUF metadata ${file}`, detail: { namespace, file } });
  // timestamp.json changes on every refresh; versioned files never change.
  const cache = file === 'timestamp.json' || !/^[0-9]/.test(file) ? 'no-store' : 'public, max-age=31536000, immutable';
  ctx.res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.byteLength, 'cache-control': cache });
  ctx.res.end(ctx.method === 'HEAD' ? undefined : body);
}

async function publish(ctx: RequestContext, service: TufService, namespace: string): Promise<void> {
  // Whoever may not read the namespace's metadata learns nothing from a publication's answer.
  if (ctx.access && !ctx.principal?.admin && !(await ctx.access.can(namespaceProbe(namespace), 'pull'))) {
    throw registryError('DENIED', { message: `no access to namespace ${namespace}` });
  }
  const bytes = await readBody(ctx.req, MAX_PUBLISH_BODY);
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw registryError('BAD_REQUEST', { message: 'the publish request is not JSON' });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw registryError('BAD_REQUEST', { message: 'the publish request must be an object {root?, targets?}' });
  const { root, targets } = body as { root?: unknown; targets?: unknown };
  if (targets !== undefined && (typeof targets !== 'object' || targets === null || Array.isArray(targets))) {
    throw registryError('BAD_REQUEST', { message: 'targets must be an object of role name → metadata' });
  }
  const access: PublishAccess = {
    teamMetadata: async () => requireAdmin(ctx),
    repositories: async (names) => {
      if (!ctx.access) return;
      for (const name of names) {
        if (!(await ctx.access.can(name, 'push'))) throw registryError('DENIED', { message: `no push access to ${name}, which the metadata names`, detail: { repository: name } });
      }
    },
  };
  const result = await service.publish(namespace, { ...(root !== undefined ? { root } : {}), ...(targets !== undefined ? { targets: targets as Record<string, unknown> } : {}) }, access);
  sendJson(ctx.res, 200, result);
}
