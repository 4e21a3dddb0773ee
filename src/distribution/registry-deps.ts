import type { BlobStore } from '../storage/blobs/blob-store.ts';
import type { MetadataStore } from '../storage/metadata/metadata-store.ts';
import type { RegistryEvents } from './events.ts';
import type { AccessChecker, RequestContext } from './http.ts';
import type { ManifestCache } from './manifest-cache.ts';
import type { RouteMatch } from './paths.ts';
import type { UploadService } from './upload-service.ts';

/** What the registry handlers need; assembled once by the server. */
export interface RegistryDeps {
  readonly blobs: BlobStore;
  readonly metadata: MetadataStore;
  readonly uploads: UploadService;
  readonly manifestCache: ManifestCache;
  readonly events: RegistryEvents;
  readonly limits: { readonly maxManifestBytes: number };
  /**
   * Checks the caller may do what the route needs (throwing UNAUTHORIZED/DENIED otherwise) and
   * returns what else it may do. Absent in open mode.
   */
  authorize?: (ctx: RequestContext, match: RouteMatch) => Promise<AccessChecker>;
}
