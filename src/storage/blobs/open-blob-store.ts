/**
 * The blob store the configuration names: the filesystem under the data folder (the default), or
 * an S3-compatible object store shared by every replica.
 */
import { join } from 'node:path';
import type { WharfConfig } from '../../config/config.ts';
import type { BlobStore } from './blob-store.ts';
import { FilesystemBlobStore } from './filesystem-blob-store.ts';

export interface OpenedBlobStore {
  readonly blobs: BlobStore;
  /** Shared memory of the store's direct-I/O buffers, which the hashing thread reads in place. */
  readonly hashableMemory?: SharedArrayBuffer;
  /**
   * True when other processes use the same store (S3): staged data nobody here wrote may belong
   * to a request running on another replica, so it is never purged as a crash's leftover at start.
   */
  readonly shared: boolean;
  close(): void;
}

export async function openBlobStore(config: WharfConfig): Promise<OpenedBlobStore> {
  if (config.storage.backend === 's3') {
    const s3 = config.storage.s3;
    // Loaded only when configured: the S3 SDK is large, and a filesystem registry never needs it.
    const { S3BlobStore } = await import('./s3-blob-store.ts');
    const blobs = new S3BlobStore({
      ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
      region: s3.region,
      bucket: s3.bucket,
      ...(s3.accessKey ? { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey } : {}),
      forcePathStyle: s3.forcePathStyle,
      prefix: s3.prefix,
      minPartBytes: s3.minPartMebibytes * 1024 * 1024,
      presignedRedirectSeconds: s3.presignedRedirectSeconds,
    });
    await blobs.init();
    return { blobs, shared: true, close: () => blobs.close() };
  }
  const blobs = new FilesystemBlobStore(join(config.data, 'blobs'), { directIO: config.storage.directIO });
  await blobs.init();
  return { blobs, ...(blobs.directBuffers ? { hashableMemory: blobs.directBuffers.memory } : {}), shared: false, close: () => undefined };
}
