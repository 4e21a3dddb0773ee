/** GET, HEAD, PUT and DELETE of /v2/<name>/manifests/<reference>, by tag or by digest. */
import { digestOf } from '../content/digest.ts';
import { parseManifest, type ParsedManifest } from '../content/manifest.ts';
import { OCI_INDEX, OCI_MANIFEST, baseMediaType } from '../content/media-types.ts';
import { parseReference, type Reference } from '../content/names.ts';
import type { StoredManifest } from '../storage/metadata/metadata-store.ts';
import { registryError } from './errors.ts';
import { clientOf } from './events.ts';
import { readBody, sendEmpty, type RequestContext } from './http.ts';
import type { RegistryDeps } from './registry-deps.ts';
import { invalidDigest, requireRepositoryName } from './validate.ts';

export async function getManifest(ctx: RequestContext, deps: RegistryDeps, name: string, referenceText: string): Promise<void> {
  requireRepositoryName(name);
  const reference = requireReference(referenceText);
  const manifest = await findManifest(deps, name, reference);
  if (!manifest) throw registryError('MANIFEST_UNKNOWN', { detail: { name, reference: referenceText } });
  if (!accepts(ctx.req.headers.accept, manifest.mediaType)) {
    throw registryError('MANIFEST_UNKNOWN', {
      message: `manifest is ${manifest.mediaType}, which the Accept header does not allow`,
      detail: { mediaType: manifest.mediaType },
    });
  }
  const gate = deps.gates?.beforePull(ctx, name, referenceText, manifest);
  if (gate) await gate;
  ctx.res.writeHead(200, {
    'content-type': manifest.mediaType,
    'content-length': manifest.content.byteLength,
    'docker-content-digest': manifest.digest,
    etag: `"${manifest.digest}"`,
  });
  ctx.res.end(ctx.method === 'HEAD' ? undefined : manifest.content);
  if (ctx.method === 'GET') {
    deps.events.emit({
      kind: 'content-pulled', repository: name, digest: manifest.digest, target: 'manifest', bytes: manifest.content.byteLength, client: clientOf(ctx),
      ...(reference.kind === 'tag' ? { tag: reference.tag } : {}),
    });
  }
}

async function findManifest(deps: RegistryDeps, name: string, reference: Reference): Promise<StoredManifest | undefined> {
  if (reference.kind === 'digest') return deps.metadata.getManifest(name, reference.digest.text);
  const cached = deps.manifestCache.get(name, reference.tag);
  if (cached) return cached;
  const readAt = deps.manifestCache.generation;
  const manifest = await deps.metadata.getManifestByTag(name, reference.tag);
  if (manifest) deps.manifestCache.set(name, reference.tag, manifest, readAt);
  return manifest;
}

export async function putManifest(ctx: RequestContext, deps: RegistryDeps, name: string, referenceText: string): Promise<void> {
  requireRepositoryName(name);
  const reference = requireReference(referenceText);
  const body = await readBody(ctx.req, deps.limits.maxManifestBytes);
  const digest = digestOf(body, reference.kind === 'digest' ? reference.digest.algorithm : 'sha256');
  if (reference.kind === 'digest' && reference.digest.text !== digest) {
    throw registryError('DIGEST_INVALID', { message: 'manifest digest does not match the reference', detail: { expected: reference.digest.text, actual: digest } });
  }
  const parsed = parseManifest(body, ctx.req.headers['content-type']);
  if (!parsed.ok) throw registryError('MANIFEST_INVALID', { message: parsed.reason, detail: { reason: parsed.reason } });
  const manifest = parsed.manifest;
  await requireReferencedContent(deps, name, manifest);
  const afterCommit = await deps.gates?.beforePush(ctx, {
    repository: name, reference: referenceText, digest, content: body, contentType: manifest.mediaType,
  });
  await deps.metadata.putManifest(name, {
    digest,
    mediaType: manifest.mediaType,
    content: body,
    artifactType: manifest.artifactType,
    subject: manifest.subject?.digest,
    annotations: manifest.annotations,
    references: [
      ...manifest.blobs.map((blob) => ({ digest: blob.digest, kind: 'blob' as const })),
      ...manifest.manifests.map((child) => ({ digest: child.digest, kind: 'manifest' as const })),
    ],
  }, reference.kind === 'tag' ? reference.tag : undefined);
  if (reference.kind === 'tag') deps.manifestCache.forgetTag(name, reference.tag);
  await afterCommit?.();
  deps.events.emit({
    kind: 'manifest-pushed', repository: name, digest, mediaType: manifest.mediaType, artifactType: manifest.artifactType,
    subject: manifest.subject?.digest, tag: reference.kind === 'tag' ? reference.tag : undefined, annotations: manifest.annotations, content: body,
    client: clientOf(ctx),
  });
  const headers: Record<string, string> = { location: `/v2/${name}/manifests/${digest}`, 'docker-content-digest': digest };
  if (manifest.subject) headers['oci-subject'] = manifest.subject.digest;
  sendEmpty(ctx.res, 201, headers);
}

/** Every blob of an image and every child of an index must already be in the repository. */
async function requireReferencedContent(deps: RegistryDeps, name: string, manifest: ParsedManifest): Promise<void> {
  const missingBlobs = await deps.metadata.missingBlobs(name, unique(manifest.blobs.map((blob) => blob.digest)));
  const missingManifests = await deps.metadata.missingManifests(name, unique(manifest.manifests.map((child) => child.digest)));
  const missing = [...missingBlobs, ...missingManifests];
  if (missing.length > 0) {
    throw registryError('MANIFEST_BLOB_UNKNOWN', { detail: { digests: missing }, message: `manifest references unknown content: ${missing.join(', ')}` });
  }
}

export async function deleteManifest(ctx: RequestContext, deps: RegistryDeps, name: string, referenceText: string): Promise<void> {
  requireRepositoryName(name);
  const reference = requireReference(referenceText);
  if (reference.kind === 'tag') {
    if (!(await deps.metadata.deleteTag(name, reference.tag))) throw registryError('MANIFEST_UNKNOWN', { detail: { tag: reference.tag } });
    deps.manifestCache.forgetTag(name, reference.tag);
    deps.events.emit({ kind: 'tag-deleted', repository: name, tag: reference.tag });
  } else {
    if (!(await deps.metadata.deleteManifest(name, reference.digest.text))) {
      throw registryError('MANIFEST_UNKNOWN', { detail: { digest: reference.digest.text } });
    }
    deps.manifestCache.forgetRepository(name);
    deps.events.emit({ kind: 'manifest-deleted', repository: name, digest: reference.digest.text });
  }
  sendEmpty(ctx.res, 202);
}

function requireReference(text: string): Reference {
  const parsed = parseReference(text);
  if (parsed.ok) return parsed.reference;
  if (parsed.reason === 'tag') throw registryError('TAG_INVALID', { message: `invalid tag "${text}"`, detail: { reference: text } });
  throw invalidDigest(text);
}

/**
 * Content negotiation. Without an Accept header (or with a wildcard) any type is served. An OCI
 * type is refused to a client that lists only Docker types, as Distribution does, because such a
 * client cannot read it; Docker types are served to every client.
 */
function accepts(header: string | undefined, mediaType: string): boolean {
  if (!header) return true;
  if (mediaType !== OCI_MANIFEST && mediaType !== OCI_INDEX) return true;
  const accepted = header.split(',').map(baseMediaType);
  return accepted.some((type) => type === mediaType || type === '*/*' || type === 'application/*' || type === '');
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
