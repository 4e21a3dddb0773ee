/**
 * The supply-chain extension: indexes every push (referrers and cosign tags) through registry
 * events, keeps the index consistent on deletes, and answers the supply-chain API. Its data lives
 * in its own database, `<data>/supplychain.db`.
 */
import { join } from 'node:path';
import type { Extension, ExtensionContext, RunningExtension } from '../server/extension.ts';
import type { RegistryEvent } from '../distribution/events.ts';
import { supplyChainSettings } from '../config/supplychain-keys.ts';
import { SqliteSupplyChainIndex } from './index/sqlite-index.ts';
import { SupplyChainService } from './supplychain-service.ts';
import { handleSupplyChainRequest, SUPPLY_CHAIN_ROUTES } from './api/routes.ts';

export interface RunningSupplyChain extends RunningExtension {
  readonly service: SupplyChainService;
  /** Resolves when every event received so far has been indexed. */
  idle(): Promise<void>;
}

export const supplyChainExtension = {
  name: 'supplychain',
  async start({ config, registry, logger }: ExtensionContext): Promise<RunningSupplyChain> {
    const settings = supplyChainSettings(config);
    const index = new SqliteSupplyChainIndex(join(config.data, 'supplychain.db'));
    const service = new SupplyChainService(index, registry, settings, logger);
    await service.start();
    const unsubscribe = settings.enabled ? registry.events.subscribe((event) => { void onEvent(service, event); }) : () => undefined;
    return {
      service,
      idle: () => service.idle(),
      handle: (ctx) => (settings.enabled ? handleSupplyChainRequest(ctx, service) : Promise.resolve(false)),
      apiRoutes: settings.enabled ? SUPPLY_CHAIN_ROUTES : [],
      async close() {
        unsubscribe();
        await service.idle();
        index.close();
      },
    };
  },
} satisfies Extension;

/** Events are handled one at a time, in order, so a delete never races the push it follows. */
function onEvent(service: SupplyChainService, event: RegistryEvent): Promise<void> {
  switch (event.kind) {
    case 'manifest-pushed':
      return service.enqueue('index manifest', () => service.indexManifest({
        repository: event.repository, digest: event.digest, content: event.content, ...(event.tag ? { tag: event.tag } : {}),
      }));
    case 'manifest-deleted':
      return service.enqueue('forget manifest', () => service.removeManifest(event.repository, event.digest));
    case 'tag-deleted':
      return service.enqueue('forget tag', () => service.removeTag(event.repository, event.tag));
    default:
      return Promise.resolve();
  }
}
