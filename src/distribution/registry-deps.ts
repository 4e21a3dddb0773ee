import type { BlobStore } from '../storage/blobs/blob-store.ts';
import type { MetadataStore } from '../storage/metadata/metadata-store.ts';
import type { RegistryEvents } from './events.ts';
import type { AccessChecker, RequestContext } from './http.ts';
import type { ManifestCache } from './manifest-cache.ts';
import type { StoredManifest } from '../storage/metadata/metadata-store.ts';
import type { RouteMatch } from './paths.ts';
import type { UploadService } from './upload-service.ts';
import type { HashThread } from './hash-thread.ts';

/** What the registry handlers need; assembled once by the server. */
export interface RegistryDeps {
  readonly blobs: BlobStore;
  readonly metadata: MetadataStore;
  readonly uploads: UploadService;
  readonly manifestCache: ManifestCache;
  readonly events: RegistryEvents;
  readonly limits: { readonly maxManifestBytes: number };
  /** Hashes large blobs off the event loop while they are downloaded (to verify them); inline without it. */
  readonly hashThread?: HashThread;
  /**
   * Checks the caller may do what the route needs (throwing UNAUTHORIZED/DENIED otherwise) and
   * returns what else it may do. Absent in open mode.
   */
  authorize?: (ctx: RequestContext, match: RouteMatch) => Promise<AccessChecker>;
  /** Policy decisions on manifest pushes and pulls (throwing DENIED); absent when no policy service runs. */
  gates?: ManifestGates;
}

export interface ManifestPush {
  readonly repository: string;
  readonly reference: string;
  readonly digest: string;
  readonly content: Uint8Array;
  readonly contentType: string;
}

export interface ManifestGates {
  /** Decides on a push before anything is stored; returns work to do once it is committed. */
  beforePush(ctx: RequestContext, push: ManifestPush): Promise<(() => Promise<void>) | undefined>;
  /**
   * Decides on a pull before the manifest is served. Returns nothing (synchronously) when a cached
   * or trivial decision allows it, so the hot path of a pull costs no extra await.
   */
  beforePull(ctx: RequestContext, repository: string, reference: string, manifest: StoredManifest): Promise<void> | undefined;
}
