// Builds small OCI image layouts with umoci (and one hand-assembled index) for the skopeo tests,
// and reads layouts back so tests can compare what went out with what came back, byte for byte.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { umoci } from './container-tools.ts';
import type { ToolSandbox } from './container-tools.ts';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string };
  annotations?: Record<string, string>;
  artifactType?: string;
}

interface LayoutIndex {
  schemaVersion: 2;
  manifests: Descriptor[];
}

export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export async function readLayoutIndex(layoutDir: string): Promise<LayoutIndex> {
  return JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as LayoutIndex;
}

/** The descriptor tagged `ref` in a layout's index.json (umoci and skopeo both use ref.name). */
export async function layoutDescriptor(layoutDir: string, ref: string): Promise<Descriptor> {
  const index = await readLayoutIndex(layoutDir);
  const found = index.manifests.find((entry) => entry.annotations?.['org.opencontainers.image.ref.name'] === ref);
  if (found === undefined) throw new Error(`no "${ref}" in ${layoutDir}/index.json`);
  return found;
}

export function readLayoutBlob(layoutDir: string, digest: string): Promise<Buffer> {
  const [algorithm, hex] = digest.split(':');
  return readFile(join(layoutDir, 'blobs', algorithm!, hex!));
}

/**
 * Makes a one-platform image the umoci way: new → insert a generated file → unpack, add a second
 * generated file, repack → set config (platform, cmd). Random content makes every run's digests
 * unique, so a test can never pass by reading something an earlier run left behind.
 */
export async function buildUmociImage(
  sandbox: ToolSandbox,
  layoutDir: string,
  tag: string,
  architecture: string,
): Promise<Descriptor> {
  const image = `${layoutDir}:${tag}`;
  await umoci(sandbox, ['new', '--image', image]);
  const payloadPath = join(sandbox.dir, `payload-${tag}.txt`);
  await writeFile(payloadPath, `wharf e2e ${tag} ${randomBytes(16).toString('hex')}\n`);
  await umoci(sandbox, ['insert', '--image', image, payloadPath, '/payload.txt']);
  const bundle = join(sandbox.dir, `bundle-${tag}`);
  await umoci(sandbox, ['unpack', '--image', image, bundle]);
  await mkdir(join(bundle, 'rootfs', 'etc'), { recursive: true });
  await writeFile(join(bundle, 'rootfs', 'etc', 'generated'), randomBytes(4096).toString('base64'));
  await umoci(sandbox, ['repack', '--image', image, bundle]);
  await rm(bundle, { recursive: true, force: true });
  await umoci(sandbox, ['config', '--image', image, '--os', 'linux', '--architecture', architecture, '--config.cmd', '/payload.txt']);
  return layoutDescriptor(layoutDir, tag);
}

/** Creates an empty OCI layout directory with umoci. */
export async function initLayout(sandbox: ToolSandbox, layoutDir: string): Promise<void> {
  await umoci(sandbox, ['init', '--layout', layoutDir]);
}

/**
 * Builds two images and an OCI image index that references both with `platform` fields, stored
 * in the layout under `indexTag`. umoci cannot write indexes, so the index blob is assembled here.
 */
export async function buildTwoPlatformIndex(
  sandbox: ToolSandbox,
  layoutDir: string,
  indexTag: string,
): Promise<{ index: Descriptor; indexBytes: Buffer; children: Descriptor[] }> {
  const platforms = ['amd64', 'arm64'];
  const children: Descriptor[] = [];
  for (const architecture of platforms) {
    const built = await buildUmociImage(sandbox, layoutDir, `${indexTag}-${architecture}`, architecture);
    children.push({
      mediaType: built.mediaType,
      digest: built.digest,
      size: built.size,
      platform: { architecture, os: 'linux' },
    });
  }
  const indexBytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: children }));
  const digest = sha256Digest(indexBytes);
  await writeFile(join(layoutDir, 'blobs', 'sha256', digest.slice('sha256:'.length)), indexBytes);
  const layoutIndex = await readLayoutIndex(layoutDir);
  const index: Descriptor = {
    mediaType: OCI_INDEX,
    digest,
    size: indexBytes.length,
    annotations: { 'org.opencontainers.image.ref.name': indexTag },
  };
  layoutIndex.manifests.push(index);
  await writeFile(join(layoutDir, 'index.json'), JSON.stringify(layoutIndex));
  return { index, indexBytes, children };
}
