/**
 * Everything the registry knows about content, apart from the bytes: repositories, which blobs
 * each repository may read, manifests (byte-for-byte as pushed), tags, referrer edges and upload
 * sessions.
 *
 * Guarantees every implementation gives (checked by `describeMetadataStore`):
 * - `putManifest` commits the manifest, its tag, its references and its referrer edge in one
 *   transaction: a reader sees all of it or none of it.
 * - Deleting a manifest removes the tags that point at it and its referrer edge.
 * - Pages are in byte order of the name and start strictly after `last`.
 */

export interface Page {
  /** Maximum number of entries; undefined = all. */
  readonly limit?: number;
  /** Return entries strictly after this one. */
  readonly last?: string;
}

export interface ManifestRecord {
  readonly digest: string;
  readonly mediaType: string;
  /** The exact bytes that were pushed. */
  readonly content: Uint8Array;
  readonly artifactType?: string;
  readonly subject?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Digests this manifest needs in its repository: blobs of an image, children of an index. */
  readonly references: readonly { readonly digest: string; readonly kind: 'blob' | 'manifest' }[];
}

export interface StoredManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly content: Uint8Array;
  /** When this repository first stored the manifest (policies read it as `pushedAt`). */
  readonly pushedAt?: Date;
}

export interface Referrer {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface UploadSession {
  readonly id: string;
  readonly repository: string;
  readonly createdAt: Date;
}

/** What a tag may now resolve to differently: one tag, or (tag undefined) any tag of the repository. */
export interface TagChange {
  readonly repository: string;
  readonly tag?: string;
}

/** Told by a store that several processes share about tag changes, its own ones included. */
export interface TagChangeListener {
  changed(change: TagChange): void;
  /** Changes may be missed from now on (the connection broke): trust no cached tag. */
  lost(error: Error): void;
  /** Changes are seen again; whatever happened in between is unknown. */
  restored(): void;
}

export interface MetadataStore {
  /** Creates or upgrades the schema. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  check(): Promise<void>;

  repositoryExists(repository: string): Promise<boolean>;
  listRepositories(page: Page): Promise<string[]>;

  /** Records that `repository` may read the blob (after an upload or a mount). */
  linkBlob(repository: string, digest: string, size: number): Promise<void>;
  /** Size of the blob when `repository` may read it, else undefined. */
  linkedBlobSize(repository: string, digest: string): Promise<number | undefined>;
  unlinkBlob(repository: string, digest: string): Promise<boolean>;
  /** Which of `digests` `repository` may not read as blobs. */
  missingBlobs(repository: string, digests: readonly string[]): Promise<string[]>;

  putManifest(repository: string, manifest: ManifestRecord, tag?: string): Promise<void>;
  getManifest(repository: string, digest: string): Promise<StoredManifest | undefined>;
  getManifestByTag(repository: string, tag: string): Promise<StoredManifest | undefined>;
  /** Every manifest of a repository (digest and media type), oldest first. */
  listManifests(repository: string): Promise<{ digest: string; mediaType: string }[]>;
  /** Which of `digests` are not manifests of `repository`. */
  missingManifests(repository: string, digests: readonly string[]): Promise<string[]>;
  deleteManifest(repository: string, digest: string): Promise<boolean>;

  deleteTag(repository: string, tag: string): Promise<boolean>;
  /** Tags of a repository, or undefined when the repository is unknown. */
  listTags(repository: string, page: Page): Promise<string[] | undefined>;
  listReferrers(repository: string, subject: string, artifactType?: string): Promise<Referrer[]>;

  /** Bytes stored for a namespace (distinct blobs of its repositories plus manifests) and its manifest count. */
  namespaceUsage(namespace: string): Promise<{ storageBytes: number; artifacts: number }>;
  /** namespaceUsage of every namespace that has a repository, in one pass (metrics). */
  usageByNamespace(): Promise<{ namespace: string; storageBytes: number; artifacts: number }[]>;

  /**
   * Only stores that several processes share: tells `listener` about every tag moved or deleted
   * and every manifest deleted, by any process, after commit. Returns the function that stops.
   */
  watchTagChanges?(listener: TagChangeListener): Promise<() => Promise<void>>;

  createUpload(id: string, repository: string): Promise<void>;
  getUpload(id: string): Promise<UploadSession | undefined>;
  deleteUpload(id: string): Promise<void>;
  listUploads(): Promise<UploadSession[]>;
}
