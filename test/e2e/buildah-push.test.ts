// An image built from scratch with buildah (from, copy, config, commit) is pushed with
// `buildah push` in OCI and Docker schema 2 formats, then pulled with skopeo and unpacked by umoci
// to prove the registry handed back the very file that went in.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildah, createToolSandbox, missingToolReason, skopeo, umoci } from './container-tools.ts';
import type { ToolSandbox } from './container-tools.ts';
import { OCI_MANIFEST } from './oci-layout.ts';
import { startTargetRegistry } from './target-registry.ts';
import type { RunningRegistry } from './child-lifecycle.ts';

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const plainHttp = '--tls-verify=false';

describe('buildah push of an image built from scratch', { skip: missingToolReason(['buildah', 'skopeo', 'umoci']) }, () => {
  let registry: RunningRegistry;
  let sandbox: ToolSandbox;
  let fileContent: string;
  const localImage = 'localhost/wharf-e2e-scratch:latest';

  before(async () => {
    sandbox = await createToolSandbox();
    registry = await startTargetRegistry();
    fileContent = `built from scratch ${randomBytes(16).toString('hex')}\n`;
    const source = join(sandbox.dir, 'hello.txt');
    await writeFile(source, fileContent);
    // `from scratch` needs no pull; copy/commit need no container runtime, so no isolation flags.
    const container = (await buildah(sandbox, ['from', '--signature-policy', sandbox.policyPath, 'scratch'])).trim();
    await buildah(sandbox, ['copy', container, source, '/hello.txt']);
    await buildah(sandbox, ['config', '--cmd', '/hello.txt', '--label', 'org.example.e2e=wharf', container]);
    await buildah(sandbox, ['commit', '--signature-policy', sandbox.policyPath, container, localImage]);
    await buildah(sandbox, ['rm', container]);
  });

  after(async () => {
    await registry?.stop();
    await sandbox?.dispose();
  });

  const pushAs = async (format: 'oci' | 'v2s2', tag: string): Promise<void> => {
    await buildah(sandbox, [
      'push', plainHttp, '--signature-policy', sandbox.policyPath, '--format', format,
      localImage, `docker://${registry.host}/e2e/scratch:${tag}`,
    ]);
  };

  const pulledFile = async (tag: string): Promise<string> => {
    const layout = join(sandbox.dir, `pulled-${tag}`);
    await skopeo(sandbox, ['copy', '--src-tls-verify=false', `docker://${registry.host}/e2e/scratch:${tag}`, `oci:${layout}:${tag}`]);
    const bundle = join(sandbox.dir, `bundle-${tag}`);
    await umoci(sandbox, ['unpack', '--image', `${layout}:${tag}`, bundle]);
    return readFile(join(bundle, 'rootfs', 'hello.txt'), 'utf8');
  };

  for (const [format, tag, mediaType] of [['oci', 'oci', OCI_MANIFEST], ['v2s2', 'docker', DOCKER_MANIFEST]] as const) {
    test(`buildah push --format ${format} stores a ${mediaType} manifest`, async () => {
      await pushAs(format, tag);
      const raw = await skopeo(sandbox, ['inspect', plainHttp, '--raw', `docker://${registry.host}/e2e/scratch:${tag}`]);
      assert.equal((JSON.parse(raw) as { mediaType?: string }).mediaType, mediaType);
      const inspected = JSON.parse(
        await skopeo(sandbox, ['inspect', plainHttp, `docker://${registry.host}/e2e/scratch:${tag}`]),
      ) as { Labels: Record<string, string> | null };
      assert.equal(inspected.Labels?.['org.example.e2e'], 'wharf');
    });

    test(`the ${format} image pulled with skopeo contains the copied file`, async () => {
      assert.equal(await pulledFile(tag), fileContent);
    });
  }

  test('both pushes are listed as tags of the repository', async () => {
    const listed = JSON.parse(
      await skopeo(sandbox, ['list-tags', plainHttp, `docker://${registry.host}/e2e/scratch`]),
    ) as { Tags: string[] };
    assert.deepEqual([...listed.Tags].sort(), ['docker', 'oci']);
  });
});
