/**
 * The TUF extension: a TUF repository per namespace (tuf-service.ts), its metadata served and its
 * publications accepted under /api/v1/tuf/, and a schedule that re-signs timestamps (and
 * snapshots) before they expire. Its data lives in `<data>/tuf.db`; the online keys in it are
 * sealed with `<data>/tuf-secret`.
 */
import { join } from 'node:path';
import type { Extension, ExtensionContext, RunningExtension } from '../server/extension.ts';
import { SqliteTufStore } from './tuf-store.ts';
import { KeySealer } from './sealed-keys.ts';
import { TufService } from './tuf-service.ts';
import { handleTufRequest, TUF_ROUTES } from './api/routes.ts';

export interface RunningTuf extends RunningExtension {
  readonly service: TufService;
}

export const tufExtension = {
  name: 'tuf',
  async start({ config, logger }: ExtensionContext): Promise<RunningTuf> {
    const store = new SqliteTufStore(join(config.data, 'tuf.db'));
    const service = new TufService(store, KeySealer.fromFile(join(config.data, 'tuf-secret')), config.tuf);
    const refresh = () => {
      try {
        const { refreshed } = service.refreshDue();
        if (refreshed.length > 0) logger.info({ namespaces: refreshed }, 'TUF timestamps refreshed');
      } catch (error) {
        logger.error({ err: error }, 'TUF timestamp refresh failed');
      }
    };
    refresh();
    const timer = setInterval(refresh, config.tuf.refreshIntervalSeconds * 1000);
    timer.unref();
    return {
      service,
      handle: (ctx) => handleTufRequest(ctx, service),
      apiRoutes: TUF_ROUTES,
      async close() {
        clearInterval(timer);
        store.close();
      },
    };
  },
} satisfies Extension;
