/** GET, HEAD and DELETE of /v2/<name>/blobs/<digest>, with single byte ranges. */
import type { ByteRange } from '../storage/blobs/blob-store.ts';
import { registryError } from './errors.ts';
import { clientOf } from './events.ts';
import { sendEmpty, type RequestContext } from './http.ts';
import type { RegistryDeps } from './registry-deps.ts';
import { requireDigest, requireRepositoryName } from './validate.ts';
import { pipeline } from 'node:stream/promises';
import { sendFile } from './send-file.ts';

const IMMUTABLE = 'max-age=31536000';

export async function getBlob(ctx: RequestContext, deps: RegistryDeps, name: string, reference: string): Promise<void> {
  requireRepositoryName(name);
  const digest = requireDigest(reference).text;
  const size = await deps.metadata.linkedBlobSize(name, digest);
  if (size === undefined) return serveManifestAsBlob(ctx, deps, name, digest);
  const range = parseRange(ctx.req.headers.range, size);
  const headers: Record<string, string | number> = {
    'content-type': 'application/octet-stream',
    'docker-content-digest': digest,
    etag: `"${digest}"`,
    'accept-ranges': 'bytes',
    'cache-control': IMMUTABLE,
  };
  if (range === 'unsatisfiable') {
    throw registryError('RANGE_INVALID', { message: `range not satisfiable for a blob of ${size} bytes`, headers: { 'content-range': `bytes */${size}` } });
  }
  const status = range ? 206 : 200;
  if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
  headers['content-length'] = range ? range.end - range.start + 1 : size;
  if (ctx.method === 'HEAD' || size === 0) {
    ctx.res.writeHead(status, headers).end();
    return;
  }
  if (deps.blobs.localPath) {
    const path = deps.blobs.localPath(digest);
    // Linked in metadata but gone from storage: report it as unknown rather than fail the request.
    if ((await deps.blobs.stat(digest)) === undefined) throw registryError('BLOB_UNKNOWN', { detail: { digest } });
    ctx.res.writeHead(status, headers);
    await sendFile(ctx.res, path, range ?? { start: 0, end: size - 1 }, deps.blobs.directReadBuffers?.(digest, size));
  } else {
    const stream = await deps.blobs.open(digest, range);
    if (!stream) throw registryError('BLOB_UNKNOWN', { detail: { digest } });
    ctx.res.writeHead(status, headers);
    await pipeline(stream, ctx.res);
  }
  deps.events.emit({ kind: 'content-pulled', repository: name, digest, target: 'blob', bytes: Number(headers['content-length']), client: clientOf(ctx) });
}

/** Manifests are content too: clients may fetch one through the blob endpoint by its digest. */
async function serveManifestAsBlob(ctx: RequestContext, deps: RegistryDeps, name: string, digest: string): Promise<void> {
  const manifest = await deps.metadata.getManifest(name, digest);
  if (!manifest) throw registryError('BLOB_UNKNOWN', { detail: { digest } });
  ctx.res.writeHead(200, {
    'content-type': manifest.mediaType,
    'content-length': manifest.content.byteLength,
    'docker-content-digest': digest,
    etag: `"${digest}"`,
  });
  ctx.res.end(ctx.method === 'HEAD' ? undefined : manifest.content);
  if (ctx.method === 'GET') {
    deps.events.emit({ kind: 'content-pulled', repository: name, digest, target: 'manifest', bytes: manifest.content.byteLength, client: clientOf(ctx) });
  }
}

export async function deleteBlob(ctx: RequestContext, deps: RegistryDeps, name: string, reference: string): Promise<void> {
  requireRepositoryName(name);
  const digest = requireDigest(reference).text;
  if (!(await deps.metadata.unlinkBlob(name, digest))) throw registryError('BLOB_UNKNOWN', { detail: { digest } });
  deps.events.emit({ kind: 'blob-unlinked', repository: name, digest });
  sendEmpty(ctx.res, 202, { 'docker-content-digest': digest });
}

/**
 * One range of RFC 9110 `bytes=` syntax. A header we cannot parse, or one with several ranges, is
 * ignored (the whole blob is sent), as the RFC allows.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(size - suffix, 0), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || (match[2] !== '' && Number(match[2]) < start)) return 'unsatisfiable';
  return { start, end };
}
