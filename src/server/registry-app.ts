/**
 * Assembly, top to bottom: storage → services → HTTP routes → error mapping. Owns nothing but the
 * wiring; each piece is in its own room.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WharfConfig } from '../config/config.ts';
import { RegistryEvents } from '../distribution/events.ts';
import { ManifestCache } from '../distribution/manifest-cache.ts';
import type { RegistryDeps } from '../distribution/registry-deps.ts';
import { handleRegistryRequest } from '../distribution/router.ts';
import { HashThread } from '../distribution/hash-thread.ts';
import { UploadService } from '../distribution/upload-service.ts';
import { FilesystemBlobStore } from '../storage/blobs/filesystem-blob-store.ts';
import { SqliteMetadataStore } from '../storage/metadata/sqlite-metadata-store.ts';
import { registryError } from '../distribution/errors.ts';
import type { RequestContext } from '../distribution/http.ts';
import { writeError } from './error-response.ts';
import { isGuardedPath, matchApiRoute, type ApiRoute } from './api-routes.ts';
import type { Extension, RequestHooks, RunningExtension } from './extension.ts';
import type { Logger } from './logger.ts';

/** Staged data of a one-shot upload that nothing wrote to for this long belongs to a dead request. */
const ORPHAN_MAX_AGE_MS = 3600_000;

export interface RegistryApp {
  readonly deps: RegistryDeps;
  /** Every /api/v1/ and /admission/ route the extensions declared, with the access each needs. */
  readonly apiRoutes: readonly ApiRoute[];
  handle(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

export async function createRegistryApp(config: WharfConfig, logger: Logger, extensions: readonly Extension[] = []): Promise<RegistryApp> {
  await mkdir(config.data, { recursive: true });
  const blobs = new FilesystemBlobStore(join(config.data, 'blobs'), { directIO: config.storage.directIO });
  await blobs.init();
  const metadata = new SqliteMetadataStore(join(config.data, 'metadata.db'));
  await metadata.migrate();
  // Large upload bodies are hashed on a thread of their own; with direct I/O it reads them in place
  // from the store's shared aligned buffers.
  const hashThread = new HashThread(blobs.directBuffers?.memory);
  hashThread.prepare();
  const { abandonAfterSeconds: _, ...uploadLimits } = config.uploads;
  const uploads = new UploadService(blobs, metadata, { hashThread, limits: uploadLimits });
  const events = new RegistryEvents((error, event) => logger.error({ err: error, event: event.kind }, 'event listener failed'));
  const deps: RegistryDeps = {
    blobs, metadata, uploads, events, manifestCache: new ManifestCache(), limits: config.limits,
  };
  // A start-up step that fails must not leave the hashing thread, the database or a timer open:
  // they would keep the process alive after `wharf serve` reported the error.
  const byName = new Map<string, RunningExtension>();
  let purgeTimer: NodeJS.Timeout | undefined;
  let guard: RunningExtension | undefined;
  try {
    const sessionMaxAgeMs = config.uploads.abandonAfterSeconds * 1000;
    // At start-up no request is running, so staged data without a session is a crash's leftover.
    const purged = await uploads.purgeAbandoned(sessionMaxAgeMs, 0);
    if (purged > 0) logger.info({ purged }, 'purged abandoned uploads');
    // Sessions of the previous run still count against the upload limits.
    await uploads.load();
    purgeTimer = setInterval(() => {
      uploads.purgeAbandoned(sessionMaxAgeMs, ORPHAN_MAX_AGE_MS)
        .catch((error: unknown) => logger.error({ err: error }, 'purging abandoned uploads failed'));
    }, 3600_000).unref();

    for (const extension of extensions) {
      byName.set(extension.name, await extension.start({ config, registry: deps, logger: logger.child({ extension: extension.name }), running: byName }));
    }
    const started = [...byName.values()];
    const chosen = onlyOne(started.filter((extension) => extension.authorize), 'guard requests');
    if (chosen) deps.authorize = (ctx, match) => chosen.authorize!(ctx, match);
    deps.gates = onlyOne(started.filter((extension) => extension.gates), 'gate manifests')?.gates;
    guard = chosen;
  } catch (error) {
    clearInterval(purgeTimer);
    for (const extension of [...byName.values()].reverse()) await extension.close?.().catch(() => undefined);
    await hashThread.close();
    await metadata.close();
    throw error;
  }
  const running = [...byName.values()];
  const apiRoutes = running.flatMap((extension) => extension.apiRoutes ?? []);
  const hooks = requestHooksOf(running);

  return {
    deps,
    apiRoutes,
    handle: (req, res) => void route(req, res, deps, running, apiRoutes, guard, hooks, logger),
    async close() {
      clearInterval(purgeTimer);
      for (const extension of running.reverse()) await extension.close?.();
      await hashThread.close();
      await metadata.close();
    },
  };
}

async function route(
  req: IncomingMessage, res: ServerResponse, deps: RegistryDeps,
  extensions: readonly RunningExtension[], apiRoutes: readonly ApiRoute[], guard: RunningExtension | undefined,
  hooks: RequestHooks, logger: Logger,
): Promise<void> {
  const started = performance.now();
  const url = req.url ?? '/';
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const method = req.method ?? 'GET';
  const ctx: RequestContext = { req, res, method, path, query: new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1)) };
  let traceId: string | undefined;
  try {
    if (hooks.around) traceId = await hooks.around(ctx, () => dispatch(ctx, deps, extensions, apiRoutes, guard, logger));
    else await dispatch(ctx, deps, extensions, apiRoutes, guard, logger);
  } catch (error) {
    // Only a faulty hook gets here (dispatch answers every error itself).
    if (!res.headersSent) writeError(res, error);
    logger.error({ err: error, method, path }, 'request hook failed');
  }
  const durationMs = performance.now() - started;
  try {
    hooks.finished?.(ctx, res.statusCode, durationMs);
  } catch (error) {
    logger.error({ err: error, method, path }, 'request hook failed');
  }
  const ms = Math.round(durationMs * 10) / 10;
  if (traceId === undefined) logger.info({ method, path, status: res.statusCode, ms }, 'request');
  else logger.info({ method, path, status: res.statusCode, ms, traceId }, 'request');
}

/** Serves one request; an error becomes its response, so this never throws. */
async function dispatch(
  ctx: RequestContext, deps: RegistryDeps,
  extensions: readonly RunningExtension[], apiRoutes: readonly ApiRoute[], guard: RunningExtension | undefined, logger: Logger,
): Promise<void> {
  const { res, path, method } = ctx;
  try {
    if (path.startsWith('/v2')) {
      await handleRegistryRequest(ctx, deps);
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      await Promise.all([deps.blobs.check(), deps.metadata.check()])
        .then(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('ready\n'))
        .catch((error: unknown) => {
          logger.warn({ err: error }, 'not ready');
          res.writeHead(503, { 'content-type': 'text/plain' }).end('storage unavailable\n');
        });
    } else {
      await handleExtensionRequest(ctx, extensions, apiRoutes, guard);
    }
  } catch (error) {
    const { internal } = writeError(res, error);
    if (internal) logger.error({ err: error, method, path }, 'request failed');
  }
}

/** The extensions' request hooks as one: absent hooks stay absent, so requests pay nothing for them. */
function requestHooksOf(extensions: readonly RunningExtension[]): RequestHooks {
  const around = onlyOne(extensions.filter((extension) => extension.requestHooks?.around), 'run requests')?.requestHooks;
  const finished = extensions.flatMap((extension) => (extension.requestHooks?.finished ? [extension.requestHooks] : []));
  return {
    ...(around ? { around: (ctx, handle) => around.around!(ctx, handle) } : {}),
    ...(finished.length === 1 ? { finished: (ctx, status, ms) => finished[0]!.finished!(ctx, status, ms) } : {}),
    ...(finished.length > 1 ? { finished: (ctx, status, ms) => { for (const hooks of finished) hooks.finished!(ctx, status, ms); } } : {}),
  };
}

function onlyOne<T>(candidates: T[], role: string): T | undefined {
  if (candidates.length > 1) throw new Error(`only one extension may ${role}`);
  return candidates[0];
}

async function handleExtensionRequest(
  ctx: RequestContext, extensions: readonly RunningExtension[], apiRoutes: readonly ApiRoute[], guard: RunningExtension | undefined,
): Promise<void> {
  // The token endpoint authenticates for itself; everything else outside /v2/ needs a caller, and
  // the access its declared route needs is checked before any handler looks anything up.
  let checked = ctx;
  if (isGuardedPath(ctx.path)) {
    const { matched, allowedMethods } = matchApiRoute(apiRoutes, ctx.method, ctx.path);
    if (guard?.authenticateApi) checked = await guard.authenticateApi(ctx, matched);
    if (!matched && allowedMethods.length > 0) {
      throw registryError('UNSUPPORTED', { message: `${ctx.method} is not supported here`, headers: { allow: allowedMethods.join(', ') } });
    }
  }
  for (const extension of extensions) {
    if (await extension.handle?.(checked)) return;
  }
  throw registryError('NOT_FOUND', { message: `no endpoint at ${ctx.method} ${ctx.path}` });
}
