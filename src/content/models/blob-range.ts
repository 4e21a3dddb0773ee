/**
 * Ranged reads of stored blobs for the model readers: only the bytes asked for are streamed
 * from the blob store (a Range read, never the whole blob), and only blobs the repository links.
 */
import type { Readable } from 'node:stream';
import type { BlobStore } from '../../storage/blobs/blob-store.ts';
import type { BlobRangeRead } from './inspect-model.ts';

/** Longest single read the model readers may ask for (headers, pickles, zip directories). */
const MAX_RANGE_BYTES = 64 * 1024 * 1024;

export function blobStoreRangeRead(blobs: Pick<BlobStore, 'open'>, linkedSize: (digest: string) => Promise<number | undefined>, describe = 'the repository'): BlobRangeRead {
  const sizes = new Map<string, Promise<number | undefined>>();
  return async (digest, start, length) => {
    if (length > MAX_RANGE_BYTES) return `a read of ${length} bytes is over the limit of ${MAX_RANGE_BYTES}`;
    let size = sizes.get(digest);
    if (!size) sizes.set(digest, size = linkedSize(digest));
    const total = await size;
    if (total === undefined) return `blob ${digest} is not in ${describe}`;
    const end = Math.min(total, start + length);
    if (start >= end) return Buffer.alloc(0);
    const stream: Readable | undefined = await blobs.open(digest, { start, end: end - 1 });
    if (!stream) return `blob ${digest} is missing from storage`;
    const chunks: Buffer[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  };
}
