/**
 * Blob uploads (/v2/<name>/blobs/uploads/…): monolithic POST with `?digest=`, cross-repository
 * mount, chunked sessions (PATCH with Content-Range), status, completion and cancellation.
 */
import type { ParsedDigest } from '../content/digest.ts';
import { registryError } from './errors.ts';
import { clientOf } from './events.ts';
import { countedChunks } from './body-chunks.ts';
import { contentLength, sendEmpty, type RequestContext } from './http.ts';
import type { RegistryDeps } from './registry-deps.ts';
import { progressRange } from './upload-service.ts';
import { requireDigest, requireRepositoryName } from './validate.ts';

export async function startUpload(ctx: RequestContext, deps: RegistryDeps, name: string): Promise<void> {
  requireRepositoryName(name);
  const mount = ctx.query.get('mount');
  if (mount !== null) {
    const digest = requireDigest(mount);
    const mountedSize = await tryMount(ctx, deps, name, digest, ctx.query.get('from'));
    if (mountedSize !== undefined) return blobCreated(ctx, deps, name, digest.text, mountedSize);
  }
  const monolithic = ctx.query.get('digest');
  if (monolithic !== null && mount === null) {
    const digest = requireDigest(monolithic);
    const id = deps.uploads.startOneShot(name, accountOf(ctx));
    let size: number;
    try {
      await receive(ctx, deps, id);
      size = await deps.uploads.complete(name, id, digest);
    } catch (error) {
      // A one-shot upload has no session for the client to resume: leave nothing behind.
      await deps.uploads.cancel(id).catch(() => undefined);
      throw error;
    }
    return blobCreated(ctx, deps, name, digest.text, size);
  }
  await drain(ctx);
  const id = await deps.uploads.start(name, accountOf(ctx));
  sendEmpty(ctx.res, 202, sessionHeaders(name, id, 0));
}

/**
 * A mount succeeds only from a repository that may itself read the blob, and that the caller may
 * pull from: a blob is never made readable by guessing its digest. Otherwise the client falls back
 * to an upload (202).
 */
async function tryMount(ctx: RequestContext, deps: RegistryDeps, name: string, digest: ParsedDigest, from: string | null): Promise<number | undefined> {
  if (from === null || from === name) return undefined;
  requireRepositoryName(from);
  // Mounting reads the source: without pull access to it, fall back to an upload.
  if (ctx.access && !(await ctx.access.can(from, 'pull'))) return undefined;
  const size = await deps.metadata.linkedBlobSize(from, digest.text);
  if (size === undefined || (await deps.blobs.stat(digest.text)) === undefined) return undefined;
  await deps.metadata.linkBlob(name, digest.text, size);
  return size;
}

export async function patchUpload(ctx: RequestContext, deps: RegistryDeps, name: string, id: string): Promise<void> {
  requireRepositoryName(name);
  await deps.uploads.session(name, id);
  const size = await receive(ctx, deps, id);
  sendEmpty(ctx.res, 202, sessionHeaders(name, id, size));
}

export async function uploadStatus(ctx: RequestContext, deps: RegistryDeps, name: string, id: string): Promise<void> {
  requireRepositoryName(name);
  await deps.uploads.session(name, id);
  sendEmpty(ctx.res, 204, sessionHeaders(name, id, await deps.uploads.size(id)));
}

export async function completeUpload(ctx: RequestContext, deps: RegistryDeps, name: string, id: string): Promise<void> {
  requireRepositoryName(name);
  await deps.uploads.session(name, id);
  const digest = requireDigest(ctx.query.get('digest'));
  await receive(ctx, deps, id);
  const size = await deps.uploads.complete(name, id, digest);
  blobCreated(ctx, deps, name, digest.text, size);
}

export async function cancelUpload(ctx: RequestContext, deps: RegistryDeps, name: string, id: string): Promise<void> {
  requireRepositoryName(name);
  await deps.uploads.session(name, id);
  await deps.uploads.cancel(id);
  sendEmpty(ctx.res, 204);
}

/** Streams the request body into the session, honouring Content-Range when the client sent one. */
async function receive(ctx: RequestContext, deps: RegistryDeps, id: string): Promise<number> {
  const length = contentLength(ctx.req);
  const range = parseContentRange(ctx.req.headers['content-range']);
  if (range && length !== undefined && range.end - range.start + 1 !== length) {
    throw registryError('SIZE_INVALID', {
      status: 416,
      message: `Content-Range ${range.start}-${range.end} does not match Content-Length ${length}`,
    });
  }
  const hasBody = length !== 0 && (length !== undefined || ctx.req.headers['transfer-encoding'] !== undefined);
  if (!hasBody) return deps.uploads.size(id);
  return deps.uploads.append(id, countedChunks(ctx.req), range?.start, length);
}

function parseContentRange(header: string | undefined): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  // Distribution clients send `start-end`; accept the RFC 9110 `bytes start-end/*` form too.
  const match = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  const start = match ? Number(match[1]) : NaN;
  const end = match ? Number(match[2]) : NaN;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) {
    throw registryError('BLOB_UPLOAD_INVALID', { status: 416, message: `invalid Content-Range "${header}"` });
  }
  return { start, end };
}

/** Whose upload this is, for the per-account limits: anonymous callers count per namespace only. */
function accountOf(ctx: RequestContext): string | undefined {
  const requester = ctx.access?.requester;
  return requester === undefined || requester.kind === 'anonymous' ? undefined : requester.subject;
}

function sessionHeaders(name: string, id: string, size: number): Record<string, string> {
  return {
    location: `/v2/${name}/blobs/uploads/${id}`,
    range: progressRange(size),
    'docker-upload-uuid': id,
  };
}

function blobCreated(ctx: RequestContext, deps: RegistryDeps, name: string, digest: string, size: number): void {
  deps.events.emit({ kind: 'blob-committed', repository: name, digest, size, client: clientOf(ctx) });
  sendEmpty(ctx.res, 201, { location: `/v2/${name}/blobs/${digest}`, 'docker-content-digest': digest });
}

async function drain(ctx: RequestContext): Promise<void> {
  for await (const _ of ctx.req) { /* an upload start carries no content */ }
}
