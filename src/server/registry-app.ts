/**
 * Assembly, top to bottom: storage → services → HTTP routes → error mapping. Owns nothing but the
 * wiring; each piece is in its own room.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WharfConfig } from '../config/config.ts';
import { RegistryEvents } from '../distribution/events.ts';
import { ManifestCache } from '../distribution/manifest-cache.ts';
import type { RegistryDeps } from '../distribution/registry-deps.ts';
import { handleRegistryRequest } from '../distribution/router.ts';
import { HashThread } from '../distribution/hash-thread.ts';
import { UploadService } from '../distribution/upload-service.ts';
import { openBlobStore } from '../storage/blobs/open-blob-store.ts';
import { openMetadataStore } from '../storage/metadata/open-metadata-store.ts';
import { StorageFullError, asStorageError } from '../storage/storage-errors.ts';
import { StorageHealth } from '../storage/storage-health.ts';
import { openDataFolder, type DataFolder } from '../storage/data-folder.ts';
import { registryError } from '../distribution/errors.ts';
import type { RequestContext } from '../distribution/http.ts';
import { writeError } from './error-response.ts';
import { isGuardedPath, matchApiRoute, type ApiRoute } from './api-routes.ts';
import type { Extension, RequestHooks, RunningExtension } from './extension.ts';
import type { Logger } from './logger.ts';
import { everyIntervalWhileHolding, openLeases } from './leases.ts';

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
  // One server per data folder: refused here, naming the folder and the PID that holds it.
  const folder = await openDataFolder(config.data);
  try {
    return await assemble(config, logger, extensions, folder);
  } catch (error) {
    await folder.release();
    throw error;
  }
}

async function assemble(config: WharfConfig, logger: Logger, extensions: readonly Extension[], folder: DataFolder): Promise<RegistryApp> {
  const blobStore = await openBlobStore(config);
  const { blobs } = blobStore;
  const metadata = openMetadataStore(config);
  await metadata.migrate();
  const manifestCache = new ManifestCache();
  // With a shared database, other replicas move and delete tags too: hear about it (PostgreSQL
  // LISTEN/NOTIFY) and forget what they changed.
  const stopWatchingTags = await metadata.watchTagChanges?.({
    changed: (change) => manifestCache.tagChanges.changed(change),
    lost: (error) => {
      logger.warn({ err: error }, 'tag change notifications lost; serving tags from the database until they are back');
      manifestCache.tagChanges.lost(error);
    },
    restored: () => {
      logger.info('tag change notifications restored');
      manifestCache.tagChanges.restored();
    },
  });
  // Large upload bodies are hashed on a thread of their own; with direct I/O it reads them in place
  // from the store's shared aligned buffers.
  const hashThread = new HashThread(blobStore.hashableMemory);
  hashThread.prepare();
  const { abandonAfterSeconds: _, ...uploadLimits } = config.uploads;
  const uploads = new UploadService(blobs, metadata, { hashThread, limits: uploadLimits });
  const storage: StorageWatch = { health: new StorageHealth(), dataPath: config.data };
  const events = new RegistryEvents((error, event) => logger.error({ err: error, event: event.kind }, 'event listener failed'));
  const deps: RegistryDeps = {
    blobs, metadata, uploads, events, manifestCache, limits: config.limits, hashThread,
  };
  // A start-up step that fails must not leave the hashing thread, the database or a timer open:
  // they would keep the process alive after `wharf serve` reported the error.
  const byName = new Map<string, RunningExtension>();
  let stopPurging: (() => void) | undefined;
  const leases = openLeases(config.metadata.postgres.url);
  let guard: RunningExtension | undefined;
  try {
    const sessionMaxAgeMs = config.uploads.abandonAfterSeconds * 1000;
    // At start-up no request of this process is running, so staged data without a session is a
    // crash's leftover; unless other replicas share the store, whose requests may be writing it.
    const purged = await uploads.purgeAbandoned(sessionMaxAgeMs, blobStore.shared ? ORPHAN_MAX_AGE_MS : 0);
    if (purged > 0) logger.info({ purged }, 'purged abandoned uploads');
    // Sessions of the previous run still count against the upload limits.
    await uploads.load();
    // The hourly purge is the cluster's, not each replica's: whoever holds the lease does it (a
    // PostgreSQL advisory lock, freed when its holder dies; in-process with SQLite).
    stopPurging = everyIntervalWhileHolding({
      leases, name: 'upload-purge', intervalMs: 3600_000,
      work: async () => {
        const purgedNow = await uploads.purgeAbandoned(sessionMaxAgeMs, ORPHAN_MAX_AGE_MS);
        if (purgedNow > 0) logger.info({ purged: purgedNow }, 'purged abandoned uploads');
      },
      onError: (error) => logger.error({ err: error }, 'purging abandoned uploads failed'),
    });

    for (const extension of extensions) {
      byName.set(extension.name, await extension.start({ config, registry: deps, logger: logger.child({ extension: extension.name }), running: byName }));
    }
    const started = [...byName.values()];
    const chosen = onlyOne(started.filter((extension) => extension.authorize), 'guard requests');
    if (chosen) deps.authorize = (ctx, match) => chosen.authorize!(ctx, match);
    deps.gates = onlyOne(started.filter((extension) => extension.gates), 'gate manifests')?.gates;
    guard = chosen;
  } catch (error) {
    stopPurging?.();
    await leases.close();
    for (const extension of [...byName.values()].reverse()) await extension.close?.().catch(() => undefined);
    await hashThread.close();
    await metadata.close();
    blobStore.close();
    throw error;
  }
  const running = [...byName.values()];
  const apiRoutes = running.flatMap((extension) => extension.apiRoutes ?? []);
  const hooks = requestHooksOf(running);

  return {
    deps,
    apiRoutes,
    handle: (req, res) => void route(req, res, deps, running, apiRoutes, guard, hooks, logger, storage),
    async close() {
      stopPurging?.();
      await leases.close();
      for (const extension of running.reverse()) await extension.close?.();
      await hashThread.close();
      await stopWatchingTags?.();
      await metadata.close();
      await folder.release();
      blobStore.close();
    },
  };
}

/** Storage conditions seen by requests, which /readyz reports. */
interface StorageWatch {
  readonly health: StorageHealth;
  /** Where a lack of space that names no store's path is reported (an extension's database). */
  readonly dataPath: string;
}

async function route(
  req: IncomingMessage, res: ServerResponse, deps: RegistryDeps,
  extensions: readonly RunningExtension[], apiRoutes: readonly ApiRoute[], guard: RunningExtension | undefined,
  hooks: RequestHooks, logger: Logger, storage: StorageWatch,
): Promise<void> {
  const started = performance.now();
  const url = req.url ?? '/';
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const method = req.method ?? 'GET';
  const ctx: RequestContext = { req, res, method, path, query: new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1)) };
  let traceId: string | undefined;
  try {
    if (hooks.around) traceId = await hooks.around(ctx, () => dispatch(ctx, deps, extensions, apiRoutes, guard, logger, storage));
    else await dispatch(ctx, deps, extensions, apiRoutes, guard, logger, storage);
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
  extensions: readonly RunningExtension[], apiRoutes: readonly ApiRoute[], guard: RunningExtension | undefined, logger: Logger, storage: StorageWatch,
): Promise<void> {
  const { res, path, method } = ctx;
  try {
    if (path.startsWith('/v2')) {
      await handleRegistryRequest(ctx, deps);
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      await readiness(res, deps, storage, logger);
    } else {
      await handleExtensionRequest(ctx, extensions, apiRoutes, guard);
    }
  } catch (thrown) {
    const error = asStorageError(thrown, storage.dataPath);
    if (error instanceof StorageFullError) {
      // Reported once the failed write gave its space back (the stores clean up before throwing).
      await storage.health.reportFull(error.path).catch(() => undefined);
      logger.error({ err: error, method, path, storage: error.path }, error.message);
    }
    const { internal } = writeError(res, error);
    if (internal) logger.error({ err: error, method, path }, 'request failed');
  }
}

/** Corrupt blobs listed on /readyz at most (the rest are counted). */
const CORRUPT_BLOBS_LISTED = 20;

/**
 * 200 "ready", or 503 with one line per problem: storage that cannot be opened, or is full. Blobs
 * set aside as corrupt are listed either way: one bad blob is no reason to stop serving the rest.
 */
async function readiness(res: ServerResponse, deps: RegistryDeps, storage: StorageWatch, logger: Logger): Promise<void> {
  const corrupt = (await deps.blobs.quarantined?.().catch(() => undefined)) ?? [];
  const notes = corrupt.slice(0, CORRUPT_BLOBS_LISTED).map((blob) => `blob ${blob.digest} failed digest verification; set aside at ${blob.path}`);
  if (corrupt.length > CORRUPT_BLOBS_LISTED) notes.push(`and ${corrupt.length - CORRUPT_BLOBS_LISTED} more blobs set aside as corrupt`);
  const problems = await storage.health.problems();
  await Promise.all([deps.blobs.check(), deps.metadata.check()]).catch((error: unknown) => {
    logger.warn({ err: error }, 'not ready');
    problems.push(`storage unavailable: ${(error as Error)?.message ?? String(error)}`);
  });
  if (problems.length > 0) {
    res.writeHead(503, { 'content-type': 'text/plain' }).end(['not ready', ...problems, ...notes, ''].join('\n'));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' }).end(['ready', ...notes, ''].join('\n'));
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
