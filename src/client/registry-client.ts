/**
 * A small OCI Distribution client that works against any registry: bearer-token and basic auth
 * (credentials from the container auth files), manifests, blobs, and the referrers API with the
 * tag-schema fallback of OCI 1.1. Plain HTTP only for loopback registries or when asked.
 */
import { createHash } from 'node:crypto';
import type { ImageReference } from './reference.ts';
import { isLoopback, registryApiHost } from './reference.ts';
import { findCredentials, type Credentials } from './auth-files.ts';
import { fetchOrExplain } from './fetch-errors.ts';

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export interface ClientOptions {
  readonly plainHttp?: boolean;
  readonly credentials?: Credentials;
  readonly env?: NodeJS.ProcessEnv;
}

export interface FetchedManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly bytes: Buffer;
}

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

export interface ReferrerDescriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Record<string, string>;
}

/** The referrers tag schema: `<alg>-<ref>` of the subject digest, truncated to a tag's 128 characters. */
export function referrersTag(digest: string): string {
  return digest.replace(':', '-').slice(0, 128);
}

function parseIndex(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

function referrerDescriptors(index: unknown): ReferrerDescriptor[] {
  const manifests = (index as { manifests?: unknown } | undefined)?.manifests;
  if (!Array.isArray(manifests)) return [];
  return manifests.filter((entry): entry is ReferrerDescriptor => typeof entry === 'object' && entry !== null && typeof (entry as { digest?: unknown }).digest === 'string');
}

/**
 * The descriptor a referrers list holds for a manifest: its artifactType (for an image manifest
 * without one, its config media type) and its annotations, as the referrers API would answer.
 */
export function referrerDescriptor(manifest: FetchedManifest): Record<string, unknown> {
  const parsed = parseIndex(manifest.bytes) ?? {};
  const config = parsed['config'] as { mediaType?: unknown } | undefined;
  const artifactType = typeof parsed['artifactType'] === 'string' ? parsed['artifactType'] : typeof config?.mediaType === 'string' ? config.mediaType : undefined;
  const annotations = parsed['annotations'];
  return {
    mediaType: manifest.mediaType || (typeof parsed['mediaType'] === 'string' ? parsed['mediaType'] : 'application/vnd.oci.image.manifest.v1+json'),
    digest: manifest.digest, size: manifest.bytes.byteLength,
    ...(artifactType !== undefined ? { artifactType } : {}),
    ...(typeof annotations === 'object' && annotations !== null && !Array.isArray(annotations) && Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
}

export class RegistryError extends Error {
  readonly status: number;
  constructor(message: string, status: number) { super(message); this.status = status; }
}

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export class RegistryClient {
  readonly registry: string;
  readonly #base: string;
  readonly #credentials: Credentials | undefined;
  #authorization: string | undefined;

  constructor(registry: string, options: ClientOptions = {}) {
    this.registry = registry;
    this.#base = `${options.plainHttp || isLoopback(registry) ? 'http' : 'https'}://${registryApiHost(registry)}`;
    this.#credentials = options.credentials ?? findCredentials(registry, options.env);
  }

  /** The registry's base URL (scheme and API host), against which relative Locations resolve. */
  get baseUrl(): string { return this.#base; }

  static for(reference: ImageReference, options: ClientOptions = {}): RegistryClient {
    return new RegistryClient(reference.registry, options);
  }

  /** A request with one retry after answering the registry's authentication challenge. */
  async request(method: string, path: string, init: { headers?: Record<string, string>; body?: Uint8Array; scope?: string } = {}): Promise<Response> {
    const url = path.startsWith('http') ? path : `${this.#base}${path}`;
    const send = () => fetchOrExplain(url, {
      method, headers: { ...init.headers, ...(this.#authorization ? { authorization: this.#authorization } : {}) },
      ...(init.body ? { body: init.body } : {}), redirect: 'follow',
    });
    let response = await send();
    if (response.status === 401) {
      await response.arrayBuffer().catch(() => undefined);
      await this.#authenticate(response.headers.get('www-authenticate') ?? '', init.scope);
      response = await send();
    }
    return response;
  }

  async #authenticate(challenge: string, scope: string | undefined): Promise<void> {
    const scheme = challenge.split(' ')[0]?.toLowerCase();
    const basic = this.#credentials?.username !== undefined ? `Basic ${Buffer.from(`${this.#credentials.username}:${this.#credentials.password ?? ''}`).toString('base64')}` : undefined;
    if (scheme === 'basic') {
      if (!basic) throw new RegistryError(`${this.registry} requires credentials (none found in the container auth files)`, 401);
      this.#authorization = basic;
      return;
    }
    if (scheme !== 'bearer') throw new RegistryError(`${this.registry} asked for unsupported authentication "${challenge}"`, 401);
    const parameters = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1]!, match[2]!]));
    if (!parameters['realm']) throw new RegistryError(`${this.registry} sent a bearer challenge without a realm`, 401);
    const tokenUrl = new URL(parameters['realm']);
    if (parameters['service']) tokenUrl.searchParams.set('service', parameters['service']);
    const wanted = scope ?? parameters['scope'];
    if (wanted) tokenUrl.searchParams.set('scope', wanted);
    const response = this.#credentials?.identityToken
      ? await fetchOrExplain(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.#credentials.identityToken, service: parameters['service'] ?? '', scope: wanted ?? '' }) })
      : await fetchOrExplain(tokenUrl, { headers: basic ? { authorization: basic } : {} });
    if (!response.ok) throw new RegistryError(`token request to ${tokenUrl.origin} failed with ${response.status}`, response.status);
    const body = await response.json() as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError('token response carried no token', 401);
    this.#authorization = `Bearer ${token}`;
  }

  /** `scope` asks for more than pull, as a command that reads in order to push (signing) does. */
  async getManifest(repository: string, reference: string, scope = `repository:${repository}:pull`): Promise<FetchedManifest | undefined> {
    const response = await this.request('GET', `/v2/${repository}/manifests/${reference}`, { headers: { accept: MANIFEST_ACCEPT }, scope });
    if (response.status === 404) { await response.arrayBuffer(); return undefined; }
    if (!response.ok) throw new RegistryError(`GET manifest ${repository}:${reference}: ${response.status} ${await response.text()}`, response.status);
    const bytes = Buffer.from(await response.arrayBuffer());
    const digest = sha256(bytes);
    if (reference.includes(':') && reference !== digest) throw new RegistryError(`manifest ${reference} came back with digest ${digest}`, 502);
    return { digest, mediaType: response.headers.get('content-type')?.split(';')[0] ?? '', bytes };
  }

  async putManifest(repository: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<string> {
    const response = await this.request('PUT', `/v2/${repository}/manifests/${reference}`, { headers: { 'content-type': mediaType }, body: bytes, scope: `repository:${repository}:pull,push` });
    if (response.status !== 201) throw new RegistryError(`PUT manifest ${repository}:${reference}: ${response.status} ${await response.text()}`, response.status);
    await response.arrayBuffer();
    return sha256(bytes);
  }

  async getBlob(repository: string, digest: string, maxBytes = 256 * 1024 * 1024): Promise<Buffer> {
    const response = await this.request('GET', `/v2/${repository}/blobs/${digest}`, { scope: `repository:${repository}:pull` });
    if (!response.ok) throw new RegistryError(`GET blob ${digest}: ${response.status}`, response.status);
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (declared > maxBytes) throw new RegistryError(`blob ${digest} is ${declared} bytes, over the limit of ${maxBytes}`, 413);
    const bytes = Buffer.from(await response.arrayBuffer());
    if (sha256(bytes) !== digest && digest.startsWith('sha256:')) throw new RegistryError(`blob ${digest} does not match its digest`, 502);
    return bytes;
  }

  /** Uploads a blob (POST then PUT, which every registry supports); skips it when already there. */
  async pushBlob(repository: string, bytes: Uint8Array): Promise<{ digest: string; size: number }> {
    const digest = sha256(bytes);
    const scope = `repository:${repository}:pull,push`;
    const head = await this.request('HEAD', `/v2/${repository}/blobs/${digest}`, { scope });
    if (head.ok) return { digest, size: bytes.byteLength };
    const start = await this.request('POST', `/v2/${repository}/blobs/uploads/`, { scope });
    if (start.status !== 202) throw new RegistryError(`starting a blob upload: ${start.status} ${await start.text()}`, start.status);
    await start.arrayBuffer();
    const location = new URL(start.headers.get('location') ?? '', `${this.#base}/`);
    location.searchParams.set('digest', digest);
    const done = await this.request('PUT', location.toString(), { headers: { 'content-type': 'application/octet-stream' }, body: bytes, scope });
    if (done.status !== 201) throw new RegistryError(`finishing a blob upload: ${done.status} ${await done.text()}`, done.status);
    await done.arrayBuffer();
    return { digest, size: bytes.byteLength };
  }

  /**
   * Referrers of a digest: the referrers API, else — when the registry has none (404) — the
   * referrers tag schema index `sha256-<hex>` that clients keep for such registries.
   */
  async referrers(repository: string, digest: string): Promise<ReferrerDescriptor[]> {
    const response = await this.request('GET', `/v2/${repository}/referrers/${digest}`, { headers: { accept: OCI_INDEX }, scope: `repository:${repository}:pull` });
    let index: unknown;
    if (response.ok) index = await response.json();
    else {
      await response.arrayBuffer();
      if (response.status !== 404) throw new RegistryError(`GET referrers of ${repository}@${digest}: ${response.status}`, response.status);
      const fallback = await this.getManifest(repository, referrersTag(digest));
      index = fallback && fallback.mediaType === OCI_INDEX ? parseIndex(fallback.bytes) : undefined;
    }
    return referrerDescriptors(index);
  }

  /**
   * PUTs a manifest that has a `subject`, by its digest. A registry that processed the subject says
   * so with the OCI-Subject header; without it the referrer would be invisible to every client, so
   * (OCI distribution-spec v1.1, "Pushing Manifests with Subject") the referrers tag schema index
   * is updated too.
   */
  async putReferrer(repository: string, bytes: Buffer, mediaType: string): Promise<{ digest: string; fallbackTag?: string }> {
    const digest = sha256(bytes);
    const manifest = parseIndex(bytes) as { subject?: { digest?: unknown } } | undefined;
    const subject = manifest?.subject?.digest;
    if (typeof subject !== 'string') throw new RegistryError('a referrer manifest needs a subject', 400);
    const response = await this.request('PUT', `/v2/${repository}/manifests/${digest}`, { headers: { 'content-type': mediaType }, body: bytes, scope: `repository:${repository}:pull,push` });
    if (response.status !== 201) throw new RegistryError(`PUT manifest ${repository}@${digest}: ${response.status} ${await response.text()}`, response.status);
    await response.arrayBuffer();
    if (response.headers.get('oci-subject') !== null) return { digest };
    await this.recordReferrer(repository, { digest: subject }, { digest, mediaType, bytes });
    return { digest, fallbackTag: referrersTag(subject) };
  }

  /**
   * Adds a referrer's descriptor to the tag-schema index of its subject: read, add unless already
   * listed, write back. Registries without the referrers API offer no conditional PUT, so two
   * clients recording at the same instant can still lose one entry; that is the scheme's limit.
   * Returns false when the descriptor was already there (nothing written).
   */
  async recordReferrer(repository: string, subject: { digest: string }, referrer: FetchedManifest): Promise<boolean> {
    const tag = referrersTag(subject.digest);
    const existing = await this.getManifest(repository, tag);
    let manifests: Record<string, unknown>[] = [];
    if (existing) {
      const index = parseIndex(existing.bytes) as { manifests?: unknown } | undefined;
      if (existing.mediaType !== OCI_INDEX || !index || !Array.isArray(index.manifests)) {
        throw new RegistryError(`${repository}:${tag} is not a referrers index (${existing.mediaType || 'unknown media type'}); not overwriting it`, 409);
      }
      manifests = index.manifests.filter((entry): entry is Record<string, unknown> => typeof entry === 'object' && entry !== null);
    }
    if (manifests.some((entry) => entry['digest'] === referrer.digest)) return false;
    manifests.push(referrerDescriptor(referrer));
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
    await this.putManifest(repository, tag, index, OCI_INDEX);
    return true;
  }
}
