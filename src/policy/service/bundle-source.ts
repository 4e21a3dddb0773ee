/**
 * Policies stored in Wharf itself: an OPA bundle pushed as an OCI artifact (a manifest whose
 * layer is the gzipped bundle, `application/vnd.oci.image.layer.v1.tar+gzip` as OPA writes it).
 */
import type { RegistryDeps } from '../../distribution/registry-deps.ts';
import { parseManifest } from '../../content/manifest.ts';
import { parseReference } from '../../content/names.ts';
import { BundleError, readBundle, type Bundle } from './opa-bundle.ts';

const BUNDLE_LAYER_TYPES = new Set([
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.openpolicyagent.layer.v1.tar+gzip',
]);
const MAX_BUNDLE_BYTES = 32 * 1024 * 1024;

/** `team-a/policies:v1` or `team-a/policies@sha256:…` → the bundle and its digest. */
export async function loadBundleFromRegistry(registry: RegistryDeps, reference: string): Promise<Bundle & { origin: string }> {
  const at = reference.lastIndexOf('@');
  const colon = reference.lastIndexOf(':');
  const split = at > 0 ? at : colon > reference.lastIndexOf('/') ? colon : -1;
  if (split <= 0) throw new BundleError(`"${reference}" is not REPOSITORY:TAG or REPOSITORY@DIGEST`);
  const repository = reference.slice(0, split);
  const parsed = parseReference(reference.slice(split + 1));
  if (!parsed.ok) throw new BundleError(`"${reference}" has an invalid tag or digest`);
  const manifest = parsed.reference.kind === 'tag'
    ? await registry.metadata.getManifestByTag(repository, parsed.reference.tag)
    : await registry.metadata.getManifest(repository, parsed.reference.digest.text);
  if (!manifest) throw new BundleError(`no manifest ${reference} in this registry`);
  const content = parseManifest(manifest.content, manifest.mediaType);
  if (!content.ok) throw new BundleError(`${reference}: ${content.reason}`);
  const layer = content.manifest.blobs.slice(1).find((blob) => BUNDLE_LAYER_TYPES.has(blob.mediaType));
  if (!layer) throw new BundleError(`${reference} has no OPA bundle layer (${[...BUNDLE_LAYER_TYPES].join(' or ')})`);
  if (layer.size > MAX_BUNDLE_BYTES) throw new BundleError(`${reference}: the bundle is larger than ${MAX_BUNDLE_BYTES} bytes`);
  const stream = await registry.blobs.open(layer.digest);
  if (!stream) throw new BundleError(`${reference}: bundle layer ${layer.digest} is missing`);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return { ...readBundle(Buffer.concat(chunks)), origin: `oci:${repository}@${manifest.digest}` };
}
