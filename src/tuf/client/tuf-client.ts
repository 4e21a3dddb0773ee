/**
 * The client side of a namespace's TUF repository, through tuf-js's Updater (TUF 1.0 §5: root
 * rotation, expiry, rollback, consistency and length checks), fetching from the registry's
 * /api/v1/tuf/NAMESPACE/metadata/ over HTTPS, or plain HTTP on loopback only. Trusted metadata
 * is kept per server and namespace in a metadata folder; it starts from a root the team hands
 * out (`--root FILE`), or the one `wharf tuf init` wrote there.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Metadata, MetadataKind, type Root, type Targets, type TargetFile } from '@tufjs/models';
import { BaseFetcher, Updater } from 'tuf-js';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { isLoopback } from '../../client/reference.ts';

export interface TufEndpoint {
  /** The Wharf, `http://127.0.0.1:5000` or `https://registry.example`. */
  readonly server: string;
  readonly namespace: string;
  readonly credentials?: { readonly username: string; readonly password: string };
}

/** Limits on what a client downloads (endless data): timestamp and root are small, the rest is bounded by the lengths signed metadata gives. */
const LIMITS = { timestampMaxLength: 64 * 1024, rootMaxLength: 1024 * 1024, snapshotMaxLength: 64 * 1024 * 1024, targetsMaxLength: 64 * 1024 * 1024 };

export function metadataBaseUrl(endpoint: TufEndpoint): string {
  return `${endpoint.server}/api/v1/tuf/${encodeURIComponent(endpoint.namespace)}/metadata/`;
}

/** Refuses plain HTTP to anything but loopback: metadata is signed, but credentials are not. */
export function checkTransport(url: string): void {
  const parsed = new URL(url);
  if (parsed.protocol === 'https:') return;
  if (parsed.protocol === 'http:' && isLoopback(parsed.host)) return;
  throw new Error(`${parsed.origin}: TUF metadata is fetched over HTTPS (plain HTTP only from loopback addresses)`);
}

class WharfFetcher extends BaseFetcher {
  readonly #authorization: string | undefined;

  constructor(credentials: TufEndpoint['credentials']) {
    super();
    this.#authorization = credentials ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` : undefined;
  }

  override async fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
    checkTransport(url);
    const response = await fetch(url, {
      headers: { accept: 'application/json', ...(this.#authorization ? { authorization: this.#authorization } : {}) },
      redirect: 'error',
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new DownloadHTTPError(`${url}: HTTP ${response.status}`, response.status);
    }
    return response.body as ReadableStream<Uint8Array<ArrayBuffer>>;
  }
}

/** `$XDG_CACHE_HOME/wharf/tuf/HOST/NAMESPACE` (else ~/.cache/…): trusted metadata of one repository. */
export function defaultMetadataDir(endpoint: TufEndpoint, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'wharf', 'tuf', new URL(endpoint.server).host.replace(/[^A-Za-z0-9.-]/g, '_'), endpoint.namespace);
}

/**
 * An Updater over the metadata folder, seeded with `rootFile` when the folder has no trusted root
 * yet (later runs trust what the folder holds: a root handed out once is not needed again).
 */
export function openUpdater(endpoint: TufEndpoint, metadataDir: string, rootFile?: string): Updater {
  checkTransport(endpoint.server);
  mkdirSync(metadataDir, { recursive: true, mode: 0o700 });
  const trusted = join(metadataDir, 'root.json');
  if (!existsSync(trusted)) {
    if (rootFile === undefined) {
      throw new Error(`no trusted TUF root for ${endpoint.namespace} in ${metadataDir}: give the namespace's root with --root FILE (the team's \`wharf tuf init\` wrote it)`);
    }
    copyFileSync(rootFile, trusted);
  }
  return new Updater({ metadataDir, metadataBaseUrl: metadataBaseUrl(endpoint), fetcher: new WharfFetcher(endpoint.credentials), config: LIMITS });
}

/** The trusted metadata of a role, as the Updater verified and stored it (after refresh or a target lookup). */
export function trustedRoot(metadataDir: string): Metadata<Root> {
  return Metadata.fromJSON(MetadataKind.Root, JSON.parse(readFileSync(join(metadataDir, 'root.json'), 'utf8')));
}

export function trustedTargets(metadataDir: string, role: string): Metadata<Targets> | undefined {
  const path = join(metadataDir, `${encodeURIComponent(role)}.json`);
  return existsSync(path) ? Metadata.fromJSON(MetadataKind.Targets, JSON.parse(readFileSync(path, 'utf8'))) : undefined;
}

/** The version of a role the trusted snapshot names (undefined: a delegated role not published yet). */
export function snapshotVersion(metadataDir: string, role: string): number | undefined {
  const path = join(metadataDir, 'snapshot.json');
  if (!existsSync(path)) return undefined;
  const snapshot = JSON.parse(readFileSync(path, 'utf8')) as { signed?: { meta?: Record<string, { version?: number }> } };
  return snapshot.signed?.meta?.[`${role}.json`]?.version;
}

export function snapshotLists(metadataDir: string, role: string): boolean {
  return snapshotVersion(metadataDir, role) !== undefined;
}

export interface ArtifactFacts {
  readonly digest: string;
  readonly length: number;
  readonly mediaType: string;
  readonly sha256: string;
}

export interface VerifyOutcome {
  readonly ok: boolean;
  readonly path: string;
  /** What the registry serves under the tag. */
  readonly served?: ArtifactFacts;
  /** What TUF names. */
  readonly target?: { readonly digest: string; readonly length: number; readonly custom: Record<string, unknown> };
  readonly reason?: string;
}

/** Facts of manifest bytes as a registry served them. */
export function artifactFacts(bytes: Uint8Array, mediaType: string): ArtifactFacts {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { digest: `sha256:${sha256}`, length: bytes.byteLength, mediaType, sha256 };
}

/**
 * The TUF client workflow, then the served manifest against the target: its length and sha256
 * must be those TUF names for REPOSITORY:TAG. Errors of the workflow (a rollback, a frozen or
 * forged repository, too much data) are thrown with tuf-js's reason.
 */
export async function verifyTarget(updater: Updater, path: string, fetchServed: () => Promise<{ bytes: Uint8Array; mediaType: string } | undefined>): Promise<VerifyOutcome> {
  await updater.refresh();
  const target: TargetFile | undefined = await updater.getTargetInfo(path);
  if (!target) return { ok: false, path, reason: `TUF names no target ${path}` };
  const sha256 = target.hashes.sha256;
  const named = { digest: `sha256:${sha256 ?? '?'}`, length: target.length, custom: target.custom };
  const fetched = await fetchServed();
  if (!fetched) return { ok: false, path, target: named, reason: `the registry serves no manifest for ${path}` };
  const served = artifactFacts(fetched.bytes, fetched.mediaType);
  if (sha256 !== served.sha256 || target.length !== served.length) {
    return { ok: false, path, served, target: named, reason: `the registry serves ${served.digest} (${served.length} bytes) for ${path}, but TUF names ${named.digest} (${named.length} bytes)` };
  }
  return { ok: true, path, served, target: named };
}
