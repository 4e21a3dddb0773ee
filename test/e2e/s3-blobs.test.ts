// Wharf with its blobs in a real S3 store (Ceph RGW from ../shared/s3): skopeo pushes an image
// whose layer spans several multipart parts, inspects it and pulls it back byte for byte, from a
// server that streams blobs and from one that redirects blob GETs to presigned URLs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { skipReason, startCephS3, stopCephS3, type CephS3Start } from '../support/ceph-s3.ts';
import { S3BlobStore } from '../../src/storage/blobs/s3-blob-store.ts';
import { createToolSandbox, missingToolReason, skopeo, umoci, type ToolSandbox } from './container-tools.ts';
import { startWharf, type RunningRegistry } from './harness.ts';
import { initLayout, layoutDescriptor, readLayoutBlob, type Descriptor } from './oci-layout.ts';

interface ImageManifest {
  config: Descriptor;
  layers: Descriptor[];
}

const BUCKET = 'wharf-e2e';
const PREFIX = `e2e-${randomBytes(4).toString('hex')}`;

const tools = missingToolReason(['skopeo', 'umoci']);
const s3: CephS3Start = tools ? { unavailable: tools } : await startCephS3();
after(() => stopCephS3(s3));

describe('skopeo against Wharf with S3 blob storage', { skip: tools ?? skipReason(s3) }, () => {
  let streaming: RunningRegistry;
  let redirecting: RunningRegistry;
  let sandbox: ToolSandbox;
  let layout: string;
  let image: Descriptor;

  const s3Env = (redirectSeconds: number): Record<string, string> => {
    if ('unavailable' in s3) throw new Error(s3.unavailable);
    return {
      WHARF_STORAGE_BACKEND: 's3', WHARF_STORAGE_S3_ENDPOINT: s3.endpoint, WHARF_STORAGE_S3_BUCKET: BUCKET,
      WHARF_STORAGE_S3_REGION: s3.region, WHARF_STORAGE_S3_ACCESS_KEY: s3.accessKey, WHARF_STORAGE_S3_SECRET_KEY: s3.secretKey,
      WHARF_STORAGE_S3_FORCE_PATH_STYLE: 'true', WHARF_STORAGE_S3_PREFIX: PREFIX, WHARF_STORAGE_S3_MIN_PART_MEBIBYTES: '5',
      WHARF_STORAGE_S3_PRESIGNED_REDIRECT_SECONDS: String(redirectSeconds),
    };
  };

  before(async () => {
    if ('unavailable' in s3) return;
    // The bucket is the operator's to create; here a store that may create it does.
    const creator = new S3BlobStore({
      endpoint: s3.endpoint, region: s3.region, bucket: BUCKET, accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey,
      forcePathStyle: true, prefix: PREFIX, minPartBytes: 5 * 1024 * 1024, presignedRedirectSeconds: 0, createBucket: true,
    });
    await creator.init();
    creator.close();
    sandbox = await createToolSandbox();
    [streaming, redirecting] = await Promise.all([startWharf({ env: s3Env(0) }), startWharf({ env: s3Env(300) })]);
    layout = join(sandbox.dir, 'layout');
    await initLayout(sandbox, layout);
    // A layer of random (incompressible) bytes: 13 MiB make three parts of 5 MiB minimum.
    await umoci(sandbox, ['new', '--image', `${layout}:big`]);
    const payload = join(sandbox.dir, 'payload.bin');
    await writeFile(payload, randomBytes(13 * 1024 * 1024));
    await umoci(sandbox, ['insert', '--image', `${layout}:big`, payload, '/payload.bin']);
    await umoci(sandbox, ['config', '--image', `${layout}:big`, '--os', 'linux', '--architecture', 'amd64']);
    image = await layoutDescriptor(layout, 'big');
  });

  after(async () => {
    await Promise.all([streaming?.stop(), redirecting?.stop()]);
    await sandbox?.dispose();
  });

  const ref = (registry: RunningRegistry, tagOrDigest: string) =>
    `docker://${registry.host}/e2e/s3${tagOrDigest.startsWith('sha256:') ? '@' : ':'}${tagOrDigest}`;

  async function assertPullsBack(registry: RunningRegistry, name: string): Promise<void> {
    const back = join(sandbox.dir, name);
    await skopeo(sandbox, ['copy', '--src-tls-verify=false', ref(registry, 'v1'), `oci:${back}:v1`]);
    assert.equal((await layoutDescriptor(back, 'v1')).digest, image.digest);
    const manifest = JSON.parse((await readLayoutBlob(back, image.digest)).toString()) as ImageManifest;
    for (const blob of [manifest.config, ...manifest.layers]) {
      const [original, copied] = await Promise.all([readLayoutBlob(layout, blob.digest), readLayoutBlob(back, blob.digest)]);
      assert.ok(original.equals(copied), `bytes of ${blob.digest} differ after the round trip`);
    }
  }

  test('skopeo copy pushes an image with a multi-part layer, and inspect reports it', async () => {
    await skopeo(sandbox, ['copy', '--dest-tls-verify=false', `oci:${layout}:big`, ref(streaming, 'v1')]);
    const inspected = JSON.parse(await skopeo(sandbox, ['inspect', '--tls-verify=false', ref(streaming, 'v1')])) as { Digest: string; Layers: string[] };
    assert.equal(inspected.Digest, image.digest);
    const manifest = JSON.parse((await readLayoutBlob(layout, image.digest)).toString()) as ImageManifest;
    assert.deepEqual(inspected.Layers, manifest.layers.map((layer) => layer.digest));
    assert.ok(manifest.layers[0]!.size > 10 * 1024 * 1024, 'the layer spans several parts');
    // The blobs went to S3, not to the data folder.
    const local = await readdir(join(streaming.dataDir, 'blobs'), { recursive: true }).catch(() => [] as string[]);
    assert.ok(!local.some((entry) => entry.includes(manifest.layers[0]!.digest.slice(7))), 'the layer is not on the local disk');
  });

  test('skopeo copy pulls every blob back byte for byte, streamed by the registry', async () => {
    await assertPullsBack(streaming, 'pulled-streamed');
  });

  test('with presigned redirects, blob GETs answer 307 to the object store and skopeo follows them', async () => {
    // The second server shares the bucket: its push finds every blob there already.
    await skopeo(sandbox, ['copy', '--dest-tls-verify=false', `oci:${layout}:big`, ref(redirecting, 'v1')]);
    const manifest = JSON.parse((await readLayoutBlob(layout, image.digest)).toString()) as ImageManifest;
    const layer = manifest.layers[0]!;
    const answer = await fetch(`${redirecting.url}/v2/e2e/s3/blobs/${layer.digest}`, { redirect: 'manual' });
    assert.equal(answer.status, 307);
    const location = answer.headers.get('location') ?? '';
    assert.ok(location.startsWith(('unavailable' in s3 ? '' : s3.endpoint) + '/'), location);
    const ranged = await fetch(`${redirecting.url}/v2/e2e/s3/blobs/${layer.digest}`, { headers: { range: 'bytes=5242870-5242889' } });
    assert.equal(ranged.status, 206);
    assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), (await readLayoutBlob(layout, layer.digest)).subarray(5242870, 5242890));
    await assertPullsBack(redirecting, 'pulled-redirected');
  });
});
