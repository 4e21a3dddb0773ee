// A minimal OCI Distribution client over fetch: just enough to push blobs and manifests the way
// every registry must accept them (POST a session, PUT with ?digest=), for tests and the bench.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export interface PushedContent {
  digest: string;
  size: number;
}

// Every request is bounded, so a server that stops answering fails a test or the bench instead
// of hanging it.
const REQUEST_TIMEOUT_MS = 60_000;

export function sha256Of(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function expectStatus(response: Response, expected: number, what: string): Promise<void> {
  if (response.status === expected) return;
  const body = await response.text().catch(() => '');
  throw new Error(`${what}: expected ${expected}, got ${response.status} ${body.slice(0, 500)}`);
}

/** Resolves an upload `Location` (absolute or relative, with or without a query) against the base. */
export function uploadUrl(baseUrl: string, location: string, digest: string): string {
  const url = new URL(location, baseUrl);
  url.searchParams.set('digest', digest);
  return url.toString();
}

/** Opens an upload session and finishes it with one PUT carrying the whole body. */
export async function pushBlob(baseUrl: string, repo: string, bytes: Uint8Array): Promise<PushedContent> {
  const digest = sha256Of(bytes);
  const started = await fetch(`${baseUrl}/v2/${repo}/blobs/uploads/`, {
    method: 'POST',
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  await started.arrayBuffer();
  if (started.status !== 202) throw new Error(`start upload in ${repo}: status ${started.status}`);
  const location = started.headers.get('location');
  if (location === null) throw new Error(`start upload in ${repo}: no Location header`);
  const finished = await fetch(uploadUrl(baseUrl, location, digest), {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length) },
    body: bytes,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  await expectStatus(finished, 201, `finish upload of ${digest}`);
  await finished.arrayBuffer();
  return { digest, size: bytes.length };
}

/** PUTs a manifest by tag or digest; returns the response so callers can check its headers. */
export async function putManifest(
  baseUrl: string,
  repo: string,
  reference: string,
  mediaType: string,
  bytes: Uint8Array,
): Promise<Response> {
  const response = await fetch(`${baseUrl}/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    headers: { 'Content-Type': mediaType },
    body: bytes,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  await expectStatus(response, 201, `put manifest ${repo}:${reference}`);
  await response.arrayBuffer();
  return response;
}

export const OCI_IMAGE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';

/**
 * Pushes a tiny image: a config blob, one layer blob and an OCI manifest under `tag`.
 * `seed` makes the content unique so concurrent pushes never share a digest by accident.
 */
export async function pushSmallImage(
  baseUrl: string,
  repo: string,
  tag: string,
  seed: string,
): Promise<PushedContent & { bytes: Buffer }> {
  const configBytes = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Labels: { seed } } }),
  );
  // Really gzip-compressed, so clients that sniff the compression of a layer see what it claims.
  const layerBytes = gzipSync(`layer for ${seed}\n`.repeat(64));
  const [config, layer] = await Promise.all([pushBlob(baseUrl, repo, configBytes), pushBlob(baseUrl, repo, layerBytes)]);
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_IMAGE_MANIFEST,
      config: { mediaType: OCI_IMAGE_CONFIG, ...config },
      layers: [{ mediaType: OCI_LAYER_GZIP, ...layer }],
    }),
  );
  await putManifest(baseUrl, repo, tag, OCI_IMAGE_MANIFEST, manifestBytes);
  return { digest: sha256Of(manifestBytes), size: manifestBytes.length, bytes: manifestBytes };
}
