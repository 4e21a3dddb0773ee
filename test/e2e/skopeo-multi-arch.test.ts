// A two-platform OCI image index (two umoci images, assembled into an index with `platform`
// fields) copied in and out with `skopeo copy --multi-arch all`, then read back per platform.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createToolSandbox, missingToolReason, skopeo } from './container-tools.ts';
import type { ToolSandbox } from './container-tools.ts';
import { buildTwoPlatformIndex, initLayout, layoutDescriptor, OCI_INDEX, readLayoutBlob } from './oci-layout.ts';
import type { Descriptor } from './oci-layout.ts';
import { startTargetRegistry } from './target-registry.ts';
import type { RunningRegistry } from './child-lifecycle.ts';

const plainHttp = '--tls-verify=false';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

describe('skopeo with a two-platform image index', { skip: missingToolReason(['skopeo', 'umoci']) }, () => {
  let registry: RunningRegistry;
  let sandbox: ToolSandbox;
  let layout: string;
  let built: { index: Descriptor; indexBytes: Buffer; children: Descriptor[] };
  let remote: string;

  before(async () => {
    sandbox = await createToolSandbox();
    registry = await startTargetRegistry();
    layout = join(sandbox.dir, 'layout');
    await initLayout(sandbox, layout);
    built = await buildTwoPlatformIndex(sandbox, layout, 'multi');
    remote = `docker://${registry.host}/e2e/multi`;
  });

  after(async () => {
    await registry?.stop();
    await sandbox?.dispose();
  });

  test('skopeo copy --multi-arch all pushes the index and both platform images', async () => {
    await skopeo(sandbox, ['copy', '--multi-arch', 'all', '--dest-tls-verify=false', `oci:${layout}:multi`, `${remote}:latest`]);
    const rawIndex = await skopeo(sandbox, ['inspect', plainHttp, '--raw', `${remote}:latest`]);
    assert.equal(rawIndex, built.indexBytes.toString(), 'the index must come back exactly as pushed');
  });

  test('the registry serves the index with its media type and digest', async () => {
    const response = await fetch(`${registry.url}/v2/e2e/multi/manifests/latest`, {
      headers: { Accept: `${OCI_INDEX}, application/vnd.oci.image.manifest.v1+json` },
    });
    const body = Buffer.from(await response.arrayBuffer());
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), OCI_INDEX);
    assert.equal(response.headers.get('docker-content-digest'), built.index.digest);
    assert.ok(body.equals(built.indexBytes));
  });

  test('each platform manifest is readable by digest and selected by platform', async () => {
    for (const child of built.children) {
      const raw = await skopeo(sandbox, ['inspect', plainHttp, '--raw', `${remote}@${child.digest}`]);
      assert.equal(raw, (await readLayoutBlob(layout, child.digest)).toString());
      const architecture = child.platform!.architecture;
      const inspected = JSON.parse(
        await skopeo(sandbox, ['--override-arch', architecture, '--override-os', 'linux', 'inspect', plainHttp, `${remote}:latest`]),
      ) as { Digest: string; Architecture: string; Layers: string[] };
      const manifest = JSON.parse(raw) as { layers: Descriptor[] };
      assert.equal(inspected.Architecture, architecture);
      // skopeo reports the digest it resolved the tag to (the index); the layers show which child it chose.
      assert.equal(inspected.Digest, built.index.digest);
      assert.deepEqual(inspected.Layers, manifest.layers.map((layer) => layer.digest), `platform ${architecture} layers`);
    }
  });

  test('skopeo copy --format v2s2 converts the index into a Docker manifest list the registry serves', async () => {
    await skopeo(sandbox, ['copy', '--multi-arch', 'all', '--format', 'v2s2', '--dest-tls-verify=false', `oci:${layout}:multi`, `${remote}:docker`]);
    const response = await fetch(`${registry.url}/v2/e2e/multi/manifests/docker`, {
      headers: { Accept: `${DOCKER_LIST}, ${DOCKER_MANIFEST}` },
    });
    const list = (await response.json()) as { mediaType: string; manifests: Descriptor[] };
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), DOCKER_LIST);
    assert.equal(list.mediaType, DOCKER_LIST);
    assert.deepEqual(list.manifests.map((entry) => entry.platform?.architecture).sort(), ['amd64', 'arm64']);
    for (const entry of list.manifests) {
      assert.equal(entry.mediaType, DOCKER_MANIFEST);
      const child = JSON.parse(await skopeo(sandbox, ['inspect', plainHttp, '--raw', `${remote}@${entry.digest}`])) as { mediaType: string };
      assert.equal(child.mediaType, DOCKER_MANIFEST);
    }
  });

  test('skopeo copy --multi-arch all back to a layout reproduces the index and every image', async () => {
    const back = join(sandbox.dir, 'pulled');
    await skopeo(sandbox, ['copy', '--multi-arch', 'all', '--src-tls-verify=false', `${remote}:latest`, `oci:${back}:multi`]);
    const pulled = await layoutDescriptor(back, 'multi');
    assert.equal(pulled.digest, built.index.digest);
    assert.ok((await readLayoutBlob(back, pulled.digest)).equals(built.indexBytes));
    for (const child of built.children) {
      const manifestBytes = await readLayoutBlob(back, child.digest);
      assert.ok(manifestBytes.equals(await readLayoutBlob(layout, child.digest)), `manifest ${child.digest}`);
      const manifest = JSON.parse(manifestBytes.toString()) as { config: Descriptor; layers: Descriptor[] };
      for (const blob of [manifest.config, ...manifest.layers]) {
        assert.ok((await readLayoutBlob(back, blob.digest)).equals(await readLayoutBlob(layout, blob.digest)), blob.digest);
      }
    }
  });
});
