/**
 * An in-process Wharf with the supply-chain extension on a loopback port and a temporary data
 * folder, plus helpers to push test artifacts the way cosign, notation and oras store them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type WharfConfig } from '../../config/config.ts';
import { listen } from '../../server/http-server.ts';
import { createLogger } from '../../server/logger.ts';
import { createRegistryApp } from '../../server/registry-app.ts';
import { supplyChainExtension, type RunningSupplyChain } from '../extension.ts';
import { sha256Digest } from '../shared/digest.ts';

export interface SupplyChainRegistry {
  readonly url: string;
  readonly dataDir: string;
  readonly supplyChain: RunningSupplyChain;
  close(): Promise<void>;
}

export async function startSupplyChainRegistry(supplychain: Record<string, unknown> = {}, dataDir?: string): Promise<SupplyChainRegistry> {
  const folder = dataDir ?? await mkdtemp(join(tmpdir(), 'wharf-sc-test-'));
  const base = loadConfig({ env: { WHARF_LISTEN: '127.0.0.1:0', WHARF_DATA: folder, WHARF_LOG_LEVEL: 'silent' } });
  const config: WharfConfig = { ...base, supplychain: { ...base.supplychain, ...supplychain } };
  let running: RunningSupplyChain | undefined;
  // Capture the started extension so tests can wait for indexing to finish.
  const capturing = { name: supplyChainExtension.name, start: async (context: Parameters<typeof supplyChainExtension.start>[0]) => (running = await supplyChainExtension.start(context)) };
  const app = await createRegistryApp(config, createLogger(config.log.level), [capturing]);
  const server = await listen(app, config.listen.host, config.listen.port);
  return {
    url: server.url,
    dataDir: folder,
    supplyChain: running!,
    async close() {
      await server.stop(1000);
      await app.close();
      if (!dataDir) await rm(folder, { recursive: true, force: true });
    },
  };
}

export async function pushBlob(url: string, repository: string, content: Uint8Array | string): Promise<{ digest: string; size: number }> {
  const bytes = Buffer.from(content);
  const digest = sha256Digest(bytes);
  const response = await fetch(`${url}/v2/${repository}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: bytes });
  if (response.status !== 201) throw new Error(`blob push failed: ${response.status} ${await response.text()}`);
  return { digest, size: bytes.byteLength };
}

export async function pushManifest(url: string, repository: string, reference: string, manifest: Uint8Array | object, mediaType = 'application/vnd.oci.image.manifest.v1+json'): Promise<{ digest: string; size: number; bytes: Buffer }> {
  const bytes = manifest instanceof Uint8Array ? Buffer.from(manifest) : Buffer.from(JSON.stringify(manifest));
  const response = await fetch(`${url}/v2/${repository}/manifests/${reference}`, { method: 'PUT', body: bytes, headers: { 'content-type': mediaType } });
  if (response.status !== 201) throw new Error(`manifest push failed: ${response.status} ${await response.text()}`);
  return { digest: sha256Digest(bytes), size: bytes.byteLength, bytes };
}

/** A small image (config + one layer) pushed under `tag`. */
export async function pushTestImage(url: string, repository: string, tag: string): Promise<{ digest: string; size: number; bytes: Buffer }> {
  const config = await pushBlob(url, repository, JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = await pushBlob(url, repository, `layer ${repository}:${tag} ${Math.random()}`);
  return pushManifest(url, repository, tag, {
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
  });
}

export const EMPTY_CONFIG = { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256Digest('{}'), size: 2 };

/** An OCI 1.1 artifact with one layer, referring to `subject`. */
export async function pushReferrer(url: string, repository: string, subject: { digest: string; size: number; mediaType?: string }, artifactType: string, layerMediaType: string, content: Uint8Array | string, annotations: Record<string, string> = {}) {
  await pushBlob(url, repository, '{}');
  const layer = await pushBlob(url, repository, content);
  return pushManifest(url, repository, sha256Digest(JSON.stringify([subject.digest, artifactType, Math.random()])).replace(':', '-').slice(0, 60), {
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType, config: EMPTY_CONFIG,
    layers: [{ mediaType: layerMediaType, ...layer, ...(Object.keys(annotations).length ? { annotations } : {}) }],
    subject: { mediaType: subject.mediaType ?? 'application/vnd.oci.image.manifest.v1+json', digest: subject.digest, size: subject.size },
  });
}

export async function trustDocument(url: string, repository: string, digest: string): Promise<any> {
  const response = await fetch(`${url}/api/v1/repositories/${repository}/manifests/${digest}/trust`);
  if (response.status !== 200) throw new Error(`trust document: ${response.status} ${await response.text()}`);
  return response.json();
}
