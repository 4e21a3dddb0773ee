/**
 * Dispatches a /v2/ request to its handler by route and method. Anything else under /v2/ gets the
 * spec's error body: 404 for an unknown path, 405 UNSUPPORTED for a method a route lacks.
 */
import { getBlob, deleteBlob } from './blobs.ts';
import { registryError } from './errors.ts';
import { OPEN_ACCESS, sendJson, type RequestContext } from './http.ts';
import { listReferrers, listRepositories, listTags } from './listings.ts';
import { deleteManifest, getManifest, putManifest } from './manifests.ts';
import { matchRegistryPath, type RouteName } from './paths.ts';
import type { RegistryDeps } from './registry-deps.ts';
import { cancelUpload, completeUpload, patchUpload, startUpload, uploadStatus } from './uploads.ts';

type Handler = (ctx: RequestContext, deps: RegistryDeps, name: string, argument: string) => Promise<void>;

const base: Handler = async (ctx) => sendJson(ctx.res, 200, {}, { 'docker-distribution-api-version': 'registry/2.0' }, ctx.method === 'HEAD');

const HANDLERS: Record<RouteName, Partial<Record<string, Handler>>> = {
  base: { GET: base, HEAD: base },
  catalog: { GET: (ctx, deps) => listRepositories(ctx, deps) },
  tags: { GET: (ctx, deps, name) => listTags(ctx, deps, name) },
  manifest: { GET: getManifest, HEAD: getManifest, PUT: putManifest, DELETE: deleteManifest },
  uploads: { POST: (ctx, deps, name) => startUpload(ctx, deps, name) },
  upload: { GET: uploadStatus, PATCH: patchUpload, PUT: completeUpload, DELETE: cancelUpload },
  blob: { GET: getBlob, HEAD: getBlob, DELETE: deleteBlob },
  referrers: { GET: listReferrers },
};

export async function handleRegistryRequest(ctx: RequestContext, deps: RegistryDeps): Promise<void> {
  const match = matchRegistryPath(ctx.path);
  if (!match) throw registryError('NAME_UNKNOWN', { status: 404, message: `no registry endpoint at ${ctx.path}` });
  const handler = HANDLERS[match.route][ctx.method];
  if (!handler) {
    const allowed = Object.keys(HANDLERS[match.route]).join(', ');
    throw registryError('UNSUPPORTED', { message: `${ctx.method} is not supported here`, headers: { allow: allowed } });
  }
  const access = deps.authorize ? await deps.authorize(ctx, match) : OPEN_ACCESS;
  await handler({ ...ctx, access }, deps, match.name, match.argument);
}
