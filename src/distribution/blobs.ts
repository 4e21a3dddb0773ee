/** GET, HEAD and DELETE of /v2/<name>/blobs/<digest>, with single byte ranges. */
import type { ByteRange } from '../storage/blobs/blob-store.ts';
import { registryError } from './errors.ts';
import { clientOf } from './events.ts';
import { sendEmpty, type RequestContext } from './http.ts';
import type { RegistryDeps } from './registry-deps.ts';
import { requireDigest, requireRepositoryName } from './validate.ts';
import { pipeline } from 'node:stream/promises';
import type { ParsedDigest } from '../content/digest.ts';
import { InlineHash, type RunningHash } from './running-hash.ts';
import { sendFile, type FileCorruptError, type Verification } from './send-file.ts';
import { VerifiedFiles } from './verified-files.ts';

const IMMUTABLE = 'max-age=31536000';
/** A blob at least this large is hashed on the hashing thread while it is sent; smaller ones inline, which costs less than the round trip. */
const THREAD_HASH_MIN_BYTES = 2 * 1024 * 1024;
/** Blob files of this process verified lately (keyed by path, so registries sharing the process never mix). */
const verifiedFiles = new VerifiedFiles();

export async function getBlob(ctx: RequestContext, deps: RegistryDeps, name: string, reference: string): Promise<void> {
  requireRepositoryName(name);
  const parsed = requireDigest(reference);
  const digest = parsed.text;
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
  // Linked in metadata but gone from storage (deleted, or set aside as corrupt): unknown, to HEAD
  // as to GET, so that a client pushes it again.
  if (deps.blobs.localPath && (await deps.blobs.stat(digest)) === undefined) throw registryError('BLOB_UNKNOWN', { detail: { digest } });
  if (ctx.method === 'HEAD' || size === 0) {
    ctx.res.writeHead(status, headers).end();
    return;
  }
  const redirect = await deps.blobs.presignedUrl?.(digest);
  if (redirect) {
    // The object store serves the bytes (and the client's Range) itself, as Distribution's
    // redirect option does; the URL expires, so nothing may cache the redirect for long.
    ctx.res.writeHead(307, { location: redirect, 'docker-content-digest': digest, 'cache-control': 'no-store', 'content-length': 0 }).end();
    return;
  }
  if (deps.blobs.localPath) {
    const path = deps.blobs.localPath(digest);
    const whole = !range || (range.start === 0 && range.end === size - 1);
    const verify: Verification | undefined = whole
      ? { start: () => downloadHash(deps, parsed, size), expected: parsed.encoded, recent: verifiedFiles, onMismatch: (corrupt) => setAside(deps, digest, corrupt) }
      : undefined;
    ctx.res.writeHead(status, headers);
    await sendFile(ctx.res, path, range ?? { start: 0, end: size - 1 }, deps.blobs.directReadBuffers?.(digest, size), verify);
  } else {
    const stream = await deps.blobs.open(digest, range);
    if (!stream) throw registryError('BLOB_UNKNOWN', { detail: { digest } });
    ctx.res.writeHead(status, headers);
    await pipeline(stream, ctx.res);
  }
  deps.events.emit({ kind: 'content-pulled', repository: name, digest, target: 'blob', bytes: Number(headers['content-length']), client: clientOf(ctx) });
}

function downloadHash(deps: RegistryDeps, digest: ParsedDigest, size: number): RunningHash {
  if (deps.hashThread && size >= THREAD_HASH_MIN_BYTES) return deps.hashThread.start(digest.algorithm);
  return new InlineHash(digest.algorithm);
}

/**
 * A blob whose bytes no longer match its digest (a failing disk, a stray write) is set aside: it
 * then reads as unknown, so clients push it again, which stores a good copy. /readyz lists it.
 */
async function setAside(deps: RegistryDeps, digest: string, corrupt: FileCorruptError): Promise<Error> {
  let outcome: string;
  try {
    const kept = await deps.blobs.quarantine?.(digest, { ino: corrupt.ino });
    outcome = kept ? `set aside at ${kept}` : 'already set aside or replaced';
  } catch (error) {
    outcome = `could not be set aside: ${(error as Error).message}`;
  }
  const algorithm = digest.slice(0, digest.indexOf(':'));
  return new Error(`blob ${digest} failed digest verification (read ${algorithm}:${corrupt.actual} from ${corrupt.path}); ${outcome}`, { cause: corrupt });
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
