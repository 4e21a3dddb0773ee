/**
 * An in-process Wharf on a loopback port with a temporary data folder, plus small clients for the
 * registry API, for HTTP-level tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { loadConfig } from '../../src/config/config.ts';
import { extensionsFor } from '../../src/server/extensions.ts';
import { listen } from '../../src/server/http-server.ts';
import { createLogger } from '../../src/server/logger.ts';
import { createRegistryApp, type RegistryApp } from '../../src/server/registry-app.ts';
import { metadataEnvForTest } from './postgres-mode.ts';

export interface TestRegistry {
  readonly url: string;
  readonly dataDir: string;
  readonly app: RegistryApp;
  close(): Promise<void>;
}

export async function startTestRegistry(env: NodeJS.ProcessEnv = {}): Promise<TestRegistry> {
  const dataDir = await mkdtemp(join(tmpdir(), 'wharf-test-'));
  const config = loadConfig({ env: { WHARF_LISTEN: '127.0.0.1:0', WHARF_DATA: dataDir, WHARF_LOG_LEVEL: 'silent', ...(await metadataEnvForTest(dataDir, env)), ...env } });
  const app = await createRegistryApp(config, createLogger(config.log.level), await extensionsFor(config));
  const running = await listen(app, config.listen.host, config.listen.port);
  return {
    url: running.url,
    dataDir,
    app,
    async close() {
      await running.stop(1000);
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Uploads a blob in one request and returns its descriptor. */
export async function pushBlob(url: string, repository: string, content: Uint8Array | string, mediaType = 'application/octet-stream', headers: Record<string, string> = {}) {
  const bytes = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content);
  const digest = sha256(bytes);
  const response = await fetch(`${url}/v2/${repository}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: bytes, headers });
  if (response.status !== 201) throw new Error(`blob push failed: ${response.status} ${await response.text()}`);
  return { mediaType, digest, size: bytes.byteLength };
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** Pushes a config and one layer, then an image manifest for them; returns the manifest digest and bytes. */
export async function pushImage(url: string, repository: string, reference: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const config = await pushBlob(url, repository, JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }), 'application/vnd.oci.image.config.v1+json', headers);
  const layer = await pushBlob(url, repository, `layer of ${repository}:${reference} ${Math.random()}`, 'application/vnd.oci.image.layer.v1.tar', headers);
  const manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer], ...extra };
  return pushManifest(url, repository, reference, manifest, OCI_MANIFEST, headers);
}

export async function pushManifest(url: string, repository: string, reference: string, manifest: unknown, mediaType = OCI_MANIFEST, headers: Record<string, string> = {}) {
  const bytes = Buffer.from(JSON.stringify(manifest));
  const response = await fetch(`${url}/v2/${repository}/manifests/${reference}`, {
    method: 'PUT', body: bytes, headers: { 'content-type': mediaType, ...headers },
  });
  if (response.status !== 201) throw new Error(`manifest push failed: ${response.status} ${await response.text()}`);
  return { digest: sha256(bytes), bytes, size: bytes.byteLength, mediaType, response };
}

/** The OCI error codes of a response body. */
export async function errorCodes(response: Response): Promise<string[]> {
  const body = await response.json() as { errors?: { code: string }[] };
  return (body.errors ?? []).map((error) => error.code);
}

/** A request whose path is sent exactly as given (fetch would normalise `..` away). */
export function rawRequest(url: string, method: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = httpRequest({ host: target.hostname, port: target.port, method, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A response's JSON body, loosely typed: tests assert on its shape themselves. */
export async function json(response: Response): Promise<any> {
  return response.json();
}
