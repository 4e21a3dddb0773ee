/**
 * Manifest parsing and validation: OCI image manifest and index, Docker v2 schema 2 manifest and
 * manifest list, and OCI 1.1 artifacts. Pure: the caller supplies the bytes and the Content-Type
 * and gets either a parsed manifest (what it references, its subject, its artifact type) or the
 * reason it is invalid.
 */
import { parseDigest } from './digest.ts';
import {
  DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, MANIFEST_MEDIA_TYPES, OCI_INDEX, OCI_MANIFEST,
  baseMediaType, isIndexMediaType, isSchema1MediaType,
} from './media-types.ts';

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly urls?: readonly string[];
  /** Of an index's children: the platform the manifest is for. */
  readonly platform?: Readonly<Record<string, unknown>>;
}

export interface ParsedManifest {
  readonly mediaType: string;
  /** The type a referrers listing reports: `artifactType`, else the config's media type. */
  readonly artifactType?: string;
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Config and layers of an image manifest that must exist in the repository. */
  readonly blobs: readonly Descriptor[];
  /** Manifests an index lists; they must exist in the repository. */
  readonly manifests: readonly Descriptor[];
}

export type ManifestParse =
  | { readonly ok: true; readonly manifest: ParsedManifest }
  | { readonly ok: false; readonly reason: string; readonly unsupported?: boolean };

/** RFC 6838 media type `type/subtype`, the shape the OCI descriptor schema requires. */
const MEDIA_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
/** Layers that registries are not expected to hold: they carry `urls` to fetch them elsewhere. */
const FOREIGN_LAYER_TYPES = new Set([
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
]);

class InvalidManifest extends Error {}
class UnsupportedManifest extends Error {}

function fail(message: string): never {
  throw new InvalidManifest(message);
}

export function parseManifest(bytes: Uint8Array, contentType: string | undefined): ManifestParse {
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `manifest is not valid JSON: ${(error as Error).message}` };
  }
  try {
    return { ok: true, manifest: validate(document, baseMediaType(contentType)) };
  } catch (error) {
    if (error instanceof UnsupportedManifest) return { ok: false, reason: error.message, unsupported: true };
    if (error instanceof InvalidManifest) return { ok: false, reason: error.message };
    throw error;
  }
}


function validate(document: unknown, contentType: string): ParsedManifest {
  if (!isObject(document)) fail('manifest must be a JSON object');
  if (document.schemaVersion === 1 || isSchema1MediaType(contentType)) {
    throw new UnsupportedManifest('Docker image manifest schema 1 is not supported; push schema 2 or OCI');
  }
  if (document.schemaVersion !== 2) fail('schemaVersion must be 2');
  const mediaType = resolveMediaType(document, contentType);
  const subject = document.subject === undefined ? undefined : descriptor(document.subject, 'subject');
  const annotations = stringMap(document.annotations, 'annotations');
  const artifactType = optionalMediaType(document.artifactType, 'artifactType');
  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(document.manifests)) fail('an index must have a "manifests" array');
    const manifests = document.manifests.map((entry, i) => descriptor(entry, `manifests[${i}]`));
    return { mediaType, artifactType, subject, annotations, blobs: [], manifests };
  }
  if (document.config === undefined) fail('an image manifest must have a "config" descriptor');
  const config = descriptor(document.config, 'config');
  if (!Array.isArray(document.layers)) fail('an image manifest must have a "layers" array');
  const layers = document.layers.map((entry, i) => descriptor(entry, `layers[${i}]`));
  const blobs = [config, ...layers.filter((layer) => !isForeignLayer(layer))];
  return { mediaType, artifactType: artifactType ?? config.mediaType, subject, annotations, blobs, manifests: [] };
}

/** The body's mediaType wins; it must agree with Content-Type when both name a manifest type. */
function resolveMediaType(document: Record<string, unknown>, contentType: string): string {
  const declared = document.mediaType;
  if (declared !== undefined) {
    if (typeof declared !== 'string') fail('mediaType must be a string');
    if (!MANIFEST_MEDIA_TYPES.has(declared)) throw new UnsupportedManifest(`unsupported manifest media type "${declared}"`);
    if (MANIFEST_MEDIA_TYPES.has(contentType) && contentType !== declared) {
      fail(`Content-Type "${contentType}" does not match the manifest's mediaType "${declared}"`);
    }
    return declared;
  }
  if (MANIFEST_MEDIA_TYPES.has(contentType)) {
    if (contentType === DOCKER_MANIFEST || contentType === DOCKER_MANIFEST_LIST) {
      fail(`a Docker manifest must carry its mediaType "${contentType}"`);
    }
    return contentType;
  }
  if (contentType !== '' && contentType !== 'application/json') {
    throw new UnsupportedManifest(`unsupported manifest media type "${contentType}"`);
  }
  // OCI manifests may omit mediaType; tell the two OCI kinds apart by their fields.
  if (Array.isArray(document.manifests)) return OCI_INDEX;
  if (document.config !== undefined || Array.isArray(document.layers)) return OCI_MANIFEST;
  fail('cannot tell the manifest type: set mediaType or Content-Type');
}

function descriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) fail(`${where} must be a descriptor object`);
  const mediaType = optionalMediaType(value.mediaType, `${where}.mediaType`);
  if (mediaType === undefined) fail(`${where}.mediaType is required`);
  if (typeof value.digest !== 'string' || !parseDigest(value.digest)) {
    fail(`${where}.digest must be a sha256 or sha512 digest`);
  }
  const size = value.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    fail(`${where}.size must be a non-negative integer`);
  }
  const urls = value.urls;
  if (urls !== undefined && !(Array.isArray(urls) && urls.every((url) => typeof url === 'string'))) {
    fail(`${where}.urls must be an array of strings`);
  }
  return {
    mediaType,
    digest: value.digest,
    size,
    artifactType: optionalMediaType(value.artifactType, `${where}.artifactType`),
    annotations: stringMap(value.annotations, `${where}.annotations`),
    urls: urls as string[] | undefined,
    platform: isObject(value.platform) ? value.platform : undefined,
  };
}

function optionalMediaType(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !MEDIA_TYPE_PATTERN.test(value)) fail(`${where} must be a media type like "type/subtype"`);
  return value;
}

function stringMap(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    fail(`${where} must be an object of strings`);
  }
  return value as Record<string, string>;
}

function isForeignLayer(layer: Descriptor): boolean {
  return FOREIGN_LAYER_TYPES.has(layer.mediaType) && (layer.urls?.length ?? 0) > 0;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
