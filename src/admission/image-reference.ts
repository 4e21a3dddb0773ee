/**
 * Container image references as Docker and the kubelet read them (distribution/reference's
 * grammar with Docker's normalisation):
 *
 *   nginx                        → docker.io/library/nginx:latest
 *   team/app:v1                  → docker.io/team/app:v1
 *   localhost:5000/app@sha256:…  → registry localhost:5000, repository app, digest only
 *   [::1]:5000/team/app:v2       → registry [::1]:5000
 *
 * The first path component is a registry host only when it contains "." or ":", is
 * "localhost", or has upper-case letters; otherwise the image is on Docker Hub.
 */

export class ImageReferenceError extends Error {
  readonly reference: string;

  constructor(reference: string, problem: string) {
    super(`invalid image reference ${JSON.stringify(reference.length > 300 ? reference.slice(0, 300) + '…' : reference)}: ${problem}`);
    this.name = 'ImageReferenceError';
    this.reference = reference;
  }
}

export interface ImageReference {
  /** The reference exactly as written. */
  readonly original: string;
  /** The name as written, without tag or digest (`nginx`, `localhost:5000/app`). */
  readonly name: string;
  /** Registry host, with port when given: `docker.io`, `localhost:5000`, `[::1]:5000`. */
  readonly registry: string;
  /** Repository path inside the registry: `library/nginx`, `team/app`. */
  readonly repository: string;
  /** The tag written, or `latest` when neither a tag nor a digest was written. */
  readonly tag: string | undefined;
  /** Whether the tag was written (false for the implied `latest`). */
  readonly explicitTag: boolean;
  /** `algorithm:hex` when the reference is pinned. */
  readonly digest: string | undefined;
}

export const DEFAULT_REGISTRY = 'docker.io';
const LEGACY_DEFAULT_REGISTRY = 'index.docker.io';
const MAX_NAME_LENGTH = 255;
/** Longer input is refused before any regular expression runs on it. */
const MAX_REFERENCE_LENGTH = 4096;

// The grammar of distribution/reference, as regular-expression sources.
const alphaNumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphaNumeric}(?:${separator}${alphaNumeric})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const ipv6Address = '\\[[a-fA-F0-9:]+\\]';
const domainAndPort = `(?:${domainName}|${ipv6Address})(?::[0-9]+)?`;
const namePattern = `(?:${domainAndPort}/)?${pathComponent}(?:/${pathComponent})*`;
const tagPattern = '[\\w][\\w.-]{0,127}';
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const referenceRegexp = new RegExp(`^(${namePattern})(?::(${tagPattern}))?(?:@(${digestPattern}))?$`);
const anchoredIdentifier = /^[a-f0-9]{64}$/;
const knownDigestLengths: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** Parses a reference like `docker pull` does; throws {@link ImageReferenceError}. */
export function parseImageReference(text: unknown): ImageReference {
  if (typeof text !== 'string') throw new ImageReferenceError(String(text), `expected a string, got ${text === null ? 'null' : typeof text}`);
  if (text === '') throw new ImageReferenceError(text, 'empty reference');
  if (text.length > MAX_REFERENCE_LENGTH) throw new ImageReferenceError(text, `longer than ${MAX_REFERENCE_LENGTH} characters`);
  if (anchoredIdentifier.test(text)) {
    throw new ImageReferenceError(text, 'a 64-character hexadecimal string is an image id, not a repository name');
  }
  const match = referenceRegexp.exec(text);
  if (!match) throw new ImageReferenceError(text, describeProblem(text));
  const [, name, tag, digest] = match;
  if (name.length > MAX_NAME_LENGTH) throw new ImageReferenceError(text, `the name is longer than ${MAX_NAME_LENGTH} characters`);
  if (digest) checkDigest(text, digest);
  const { registry, repository } = splitRegistry(name);
  if (repository !== repository.toLowerCase()) throw new ImageReferenceError(text, 'the repository name must be lowercase');
  return {
    original: text,
    name,
    registry,
    repository,
    tag: tag ?? (digest ? undefined : 'latest'),
    explicitTag: tag !== undefined,
    digest,
  };
}

/** Docker's splitDockerDomain: which part of the name is the registry host. */
function splitRegistry(name: string): { registry: string; repository: string } {
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  const isHost = slash !== -1 && (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase());
  let registry = isHost ? first : DEFAULT_REGISTRY;
  let repository = isHost ? name.slice(slash + 1) : name;
  if (registry === LEGACY_DEFAULT_REGISTRY) registry = DEFAULT_REGISTRY;
  // Official images live under library/ on Docker Hub.
  if (registry === DEFAULT_REGISTRY && !repository.includes('/')) repository = `library/${repository}`;
  return { registry, repository };
}

function checkDigest(text: string, digest: string): void {
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const expected = knownDigestLengths[algorithm];
  if (expected !== undefined && (hex.length !== expected || hex !== hex.toLowerCase())) {
    throw new ImageReferenceError(text, `a ${algorithm} digest needs ${expected} lowercase hexadecimal characters`);
  }
}

/** A precise reason for a reference that does not match the grammar. */
function describeProblem(text: string): string {
  if (/\s/.test(text)) return 'contains whitespace';
  if (text.includes('://')) return 'a reference has no URL scheme';
  const at = text.indexOf('@');
  if (at !== -1) {
    if (text.indexOf('@', at + 1) !== -1) return 'more than one "@"';
    const digest = text.slice(at + 1);
    if (!new RegExp(`^${digestPattern}$`).test(digest)) return `invalid digest "${digest}" (expected algorithm:hex, e.g. sha256:<64 hex>)`;
  }
  const name = at === -1 ? text : text.slice(0, at);
  const lastSlash = name.lastIndexOf('/');
  const colon = name.indexOf(':', lastSlash + 1);
  if (colon !== -1) {
    const tag = name.slice(colon + 1);
    if (tag === '') return 'empty tag after ":"';
    if (!new RegExp(`^${tagPattern}$`).test(tag)) return `invalid tag "${tag.slice(0, 140)}" (letters, digits, "_", "." and "-", at most 128, not starting with "." or "-")`;
  }
  const bare = colon === -1 ? name : name.slice(0, colon);
  if (referenceRegexp.test(bare.toLowerCase()) && bare !== bare.toLowerCase()) return 'the repository name must be lowercase';
  if (bare.endsWith('/') || bare.includes('//')) return 'empty path component';
  return 'not a valid [registry/]repository[:tag][@digest] name';
}

/** The reference pinned to a digest, keeping the name as written: `app:v1` → `app@sha256:…`. */
export function pinnedReference(reference: ImageReference, digest: string): string {
  return `${reference.name}@${digest}`;
}

/** Fully qualified form: `docker.io/library/nginx:latest`, `host/app:v1@sha256:…`. */
export function canonicalReference(reference: ImageReference): string {
  return `${reference.registry}/${reference.repository}${reference.tag !== undefined ? `:${reference.tag}` : ''}${reference.digest ? `@${reference.digest}` : ''}`;
}

/**
 * Whether a reference points at the given registry host (e.g. Wharf's own `registry.example.com`
 * or `localhost:5000`). Hosts compare case-insensitively, a scheme or trailing slash in the
 * configured host is ignored, `index.docker.io` is `docker.io`, and `:443` equals no port since
 * registries are reached over HTTPS.
 */
export function isOnRegistry(reference: ImageReference, host: string): boolean {
  return normaliseHost(reference.registry) === normaliseHost(host);
}

function normaliseHost(host: string): string {
  let h = host.trim().toLowerCase().replace(/^[a-z][a-z0-9+.-]*:\/\//, '').replace(/\/+$/, '');
  if (h.endsWith(':443')) h = h.slice(0, -4);
  return h === LEGACY_DEFAULT_REGISTRY ? DEFAULT_REGISTRY : h;
}
