/**
 * The JSONPatch (RFC 6902) a mutating webhook returns to pin images: each resolved tag is
 * replaced by `name@digest`, so the cluster runs exactly what the policies judged even if the
 * tag moves afterwards.
 */
import { parseImageReference, pinnedReference } from './image-reference.ts';

export interface JsonPatchOperation {
  readonly op: 'replace';
  /** JSON pointer of the field, e.g. `/spec/containers/0/image`. */
  readonly path: string;
  readonly value: string;
}

/** An image of the reviewed object and the digest Wharf resolved its tag to. */
export interface ResolvedImage {
  /** JSON pointer of the image field (from `workloadImages`). */
  readonly path: string;
  /** The reference as written in the object. */
  readonly image: string;
  /** `algorithm:hex`, the manifest digest the tag points at now. */
  readonly digest: string;
}

const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-f0-9]{32,}$/;
const POINTER = /^(?:\/(?:[^~/]|~[01])*)+$/;

/**
 * One `replace` per image that is not yet pinned. An image already carrying a digest is left as
 * written: the digest is what the user asked for, and the webhook resolves only tags.
 * Throws a TypeError when a digest or pointer is malformed: that is a bug in the caller, never
 * something to put in front of the API server.
 */
export function pinImagesPatch(images: readonly ResolvedImage[]): JsonPatchOperation[] {
  const operations: JsonPatchOperation[] = [];
  for (const { path, image, digest } of images) {
    if (!POINTER.test(path)) throw new TypeError(`not a JSON pointer: ${JSON.stringify(path)}`);
    if (!DIGEST.test(digest)) throw new TypeError(`not a digest: ${JSON.stringify(digest)}`);
    const reference = parseImageReference(image);
    if (reference.digest !== undefined) continue;
    operations.push({ op: 'replace', path, value: pinnedReference(reference, digest) });
  }
  return operations;
}

/** The `patch` field of an admission response: the operations as base64-encoded JSON. */
export function encodePatch(operations: readonly JsonPatchOperation[]): string {
  return Buffer.from(JSON.stringify(operations), 'utf8').toString('base64');
}
