// A umoci-built image travels through a real registry with skopeo: copy in, inspect, list tags,
// copy back out byte for byte, sync to a second registry instance, and delete.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createToolSandbox, missingToolReason, skopeo } from './container-tools.ts';
import type { ToolSandbox } from './container-tools.ts';
import { buildUmociImage, initLayout, layoutDescriptor, readLayoutBlob } from './oci-layout.ts';
import type { Descriptor } from './oci-layout.ts';
import { startTargetRegistry } from './target-registry.ts';
import type { RunningRegistry } from './child-lifecycle.ts';

interface ImageManifest {
  config: Descriptor;
  layers: Descriptor[];
}

const plainHttp = '--tls-verify=false';

describe('skopeo with a umoci-built image', { skip: missingToolReason(['skopeo', 'umoci']) }, () => {
  let registry: RunningRegistry;
  let mirror: RunningRegistry;
  let sandbox: ToolSandbox;
  let layout: string;
  let image: Descriptor;
  let other: Descriptor;

  const ref = (tagOrDigest: string, repo = 'e2e/app'): string =>
    `docker://${registry.host}/${repo}${tagOrDigest.startsWith('sha256:') ? '@' : ':'}${tagOrDigest}`;

  before(async () => {
    sandbox = await createToolSandbox();
    [registry, mirror] = await Promise.all([startTargetRegistry(), startTargetRegistry()]);
    layout = join(sandbox.dir, 'layout');
    await initLayout(sandbox, layout);
    image = await buildUmociImage(sandbox, layout, 'v1', 'amd64');
    other = await buildUmociImage(sandbox, layout, 'other', 'amd64');
  });

  after(async () => {
    await Promise.all([registry?.stop(), mirror?.stop()]);
    await sandbox?.dispose();
  });

  test('skopeo copy pushes the layout image under two tags, and a second image', async () => {
    await skopeo(sandbox, ['copy', '--dest-tls-verify=false', `oci:${layout}:v1`, ref('v1')]);
    await skopeo(sandbox, ['copy', '--dest-tls-verify=false', `oci:${layout}:v1`, ref('v2')]);
    await skopeo(sandbox, ['copy', '--dest-tls-verify=false', `oci:${layout}:other`, ref('other')]);
  });

  test('skopeo inspect reports the pushed digest, platform and layers', async () => {
    const manifest = JSON.parse((await readLayoutBlob(layout, image.digest)).toString()) as ImageManifest;
    const inspected = JSON.parse(await skopeo(sandbox, ['inspect', plainHttp, ref('v1')])) as {
      Digest: string;
      Architecture: string;
      Os: string;
      Layers: string[];
    };
    assert.equal(inspected.Digest, image.digest);
    assert.equal(inspected.Architecture, 'amd64');
    assert.equal(inspected.Os, 'linux');
    assert.deepEqual(inspected.Layers, manifest.layers.map((layer) => layer.digest));
  });

  test('skopeo inspect --raw returns the manifest and config exactly as pushed', async () => {
    const pushedManifest = await readLayoutBlob(layout, image.digest);
    const rawManifest = await skopeo(sandbox, ['inspect', plainHttp, '--raw', ref('v1')]);
    assert.equal(rawManifest, pushedManifest.toString());
    const byDigest = await skopeo(sandbox, ['inspect', plainHttp, '--raw', ref(image.digest)]);
    assert.equal(byDigest, pushedManifest.toString());
    const manifest = JSON.parse(rawManifest) as ImageManifest;
    const rawConfig = await skopeo(sandbox, ['inspect', plainHttp, '--config', '--raw', ref('v1')]);
    assert.equal(rawConfig, (await readLayoutBlob(layout, manifest.config.digest)).toString());
  });

  test('skopeo list-tags lists every pushed tag', async () => {
    const listed = JSON.parse(await skopeo(sandbox, ['list-tags', plainHttp, `docker://${registry.host}/e2e/app`])) as {
      Tags: string[];
    };
    assert.deepEqual([...listed.Tags].sort(), ['other', 'v1', 'v2']);
  });

  test('skopeo copy back to an OCI layout reproduces every blob byte for byte', async () => {
    const back = join(sandbox.dir, 'pulled');
    await skopeo(sandbox, ['copy', '--src-tls-verify=false', ref('v1'), `oci:${back}:v1`]);
    const pulled = await layoutDescriptor(back, 'v1');
    assert.equal(pulled.digest, image.digest);
    const manifestBytes = await readLayoutBlob(back, pulled.digest);
    assert.deepEqual(manifestBytes, await readLayoutBlob(layout, image.digest));
    const manifest = JSON.parse(manifestBytes.toString()) as ImageManifest;
    for (const blob of [manifest.config, ...manifest.layers]) {
      const [original, copied] = await Promise.all([readLayoutBlob(layout, blob.digest), readLayoutBlob(back, blob.digest)]);
      assert.equal(copied.length, blob.size, `size of ${blob.digest}`);
      assert.ok(original.equals(copied), `bytes of ${blob.digest} differ after the round trip`);
    }
  });

  test('skopeo copy between repositories of one registry (cross-repository mount) keeps every byte', async () => {
    // The sandbox's blob-info cache remembers where the first push put each blob, so skopeo asks
    // for a mount from e2e/app; a registry that declines must still end with a complete copy.
    await skopeo(sandbox, ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', ref('v1'), ref('v1', 'e2e/app-copy')]);
    const raw = await skopeo(sandbox, ['inspect', plainHttp, '--raw', ref('v1', 'e2e/app-copy')]);
    assert.equal(raw, (await readLayoutBlob(layout, image.digest)).toString());
    const manifest = JSON.parse(raw) as ImageManifest;
    for (const blob of [manifest.config, ...manifest.layers]) {
      const response = await fetch(`${registry.url}/v2/e2e/app-copy/blobs/${blob.digest}`);
      const bytes = Buffer.from(await response.arrayBuffer());
      assert.equal(response.status, 200, blob.digest);
      assert.ok(bytes.equals(await readLayoutBlob(layout, blob.digest)), `bytes of ${blob.digest} in the copy`);
    }
  });

  test('skopeo sync copies the repository to a second registry instance', async () => {
    await skopeo(sandbox, [
      'sync', '--src', 'docker', '--dest', 'docker', '--src-tls-verify=false', '--dest-tls-verify=false',
      `${registry.host}/e2e/app`, `${mirror.host}/mirror`,
    ]);
    // Without --scoped, sync places the repository under the destination by its last path element.
    const mirrored = `docker://${mirror.host}/mirror/app`;
    const tags = JSON.parse(await skopeo(sandbox, ['list-tags', plainHttp, mirrored])) as { Tags: string[] };
    assert.deepEqual([...tags.Tags].sort(), ['other', 'v1', 'v2']);
    for (const [tag, expected] of [['v1', image], ['v2', image], ['other', other]] as const) {
      const raw = await skopeo(sandbox, ['inspect', plainHttp, '--raw', `${mirrored}:${tag}`]);
      assert.equal(raw, (await readLayoutBlob(layout, expected.digest)).toString(), `mirrored ${tag}`);
    }
  });

  test('skopeo delete removes the manifest; what remains stays consistent', async () => {
    await skopeo(sandbox, ['delete', plainHttp, ref('v1')]);
    await assert.rejects(skopeo(sandbox, ['inspect', plainHttp, '--raw', ref(image.digest)]), /manifest unknown|not found|404/i);
    await assert.rejects(skopeo(sandbox, ['inspect', plainHttp, '--raw', ref('v1')]), /manifest unknown|not found|404/i);
    const listed = JSON.parse(await skopeo(sandbox, ['list-tags', plainHttp, `docker://${registry.host}/e2e/app`])) as {
      Tags: string[];
    };
    assert.ok(listed.Tags.includes('other'), 'an unrelated tag must survive the delete');
    assert.ok(!listed.Tags.includes('v1'), 'the deleted tag must be gone');
    // Whether other tags of the deleted digest survive is up to the registry; a dangling one is not.
    for (const tag of listed.Tags) {
      await skopeo(sandbox, ['inspect', plainHttp, '--raw', ref(tag)]);
    }
    const otherRaw = await skopeo(sandbox, ['inspect', plainHttp, '--raw', ref('other')]);
    assert.equal(otherRaw, (await readLayoutBlob(layout, other.digest)).toString());
  });
});
