// kill -9 in the middle of uploads and manifest pushes must leave nothing half-written visible:
// after a restart every tag resolves to a complete manifest whose content is all there, a
// one-shot upload's leftovers are gone, and a chunked upload resumes where its bytes ended.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWharf } from './harness.ts';
import { targetRegistryKind } from './target-registry.ts';

const skip = targetRegistryKind() === 'wharf' ? false : 'crash recovery is a property of Wharf itself';
const sha256 = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** Sends the head of a body and never the rest, so the request is in flight when the server dies. */
function startStalledRequest(url: string, method: string, path: string, total: number, sent: Buffer, headers: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const req = request({ host: target.hostname, port: target.port, method, path, headers: { 'content-length': total, ...headers } });
    req.on('error', () => undefined);
    req.write(sent, () => setTimeout(resolve, 150));
  });
}

async function pushImage(url: string, repository: string, tag: string, n: number): Promise<void> {
  const config = Buffer.from(JSON.stringify({ n }));
  const layer = Buffer.from(`layer ${n} `.repeat(2000));
  for (const blob of [config, layer]) {
    await fetch(`${url}/v2/${repository}/blobs/uploads/?digest=${sha256(blob)}`, { method: 'POST', body: blob });
  }
  const manifest = JSON.stringify({
    schemaVersion: 2, mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
  });
  await fetch(`${url}/v2/${repository}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'content-type': OCI_MANIFEST } });
}

describe('crash safety', { skip }, () => {
  it('survives kill -9 during uploads and manifest pushes without exposing partial content', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'wharf-crash-'));
    try {
      let wharf = await startWharf({ dataDir });
      // A chunked upload with 3 bytes committed to its session.
      const started = await fetch(`${wharf.url}/v2/crash/app/blobs/uploads/`, { method: 'POST' });
      const location = started.headers.get('location')!;
      await fetch(`${wharf.url}${location}`, { method: 'PATCH', body: 'abc' });
      // A one-shot upload and a chunk that are half sent when the server dies.
      const big = Buffer.alloc(4 * 1024 * 1024, 7);
      await startStalledRequest(wharf.url, 'POST', `/v2/crash/app/blobs/uploads/?digest=${sha256(big)}`, big.length, big.subarray(0, 1024 * 1024));
      await startStalledRequest(wharf.url, 'PATCH', location, 1000, Buffer.alloc(400, 1), { 'content-range': '3-1002' });
      // Manifest pushes racing with the kill.
      const pushes = Array.from({ length: 30 }, (_, n) => pushImage(wharf.url, 'crash/images', `t${n}`, n).catch(() => undefined));
      await new Promise((resolve) => setTimeout(resolve, 60));
      process.kill(wharf.pid, 'SIGKILL');
      await Promise.all(pushes);
      await wharf.stop();

      wharf = await startWharf({ dataDir });
      try {
        assert.equal((await fetch(`${wharf.url}/v2/crash/app/blobs/${sha256(big)}`, { method: 'HEAD' })).status, 404);
        const status = await fetch(`${wharf.url}${location}`);
        assert.equal(status.status, 204, 'the chunked session survives the crash');
        const range = status.headers.get('range')!;
        const size = Number(range.split('-')[1]) + 1;
        // Whatever the server kept is a prefix of what was sent; resume right after it.
        const sent = Buffer.concat([Buffer.from('abc'), Buffer.alloc(400, 1)]);
        assert.ok(size >= 3 && size <= sent.length, `resumable offset ${size}`);
        const rest = Buffer.from('-the-rest');
        const whole = Buffer.concat([sent.subarray(0, size), rest]);
        const done = await fetch(`${wharf.url}${location}?digest=${sha256(whole)}`, {
          method: 'PUT', body: rest, headers: { 'content-range': `${size}-${size + rest.length - 1}` },
        });
        assert.equal(done.status, 201, 'the resumed upload completes with the right digest');

        const staged = await readdir(join(dataDir, 'blobs', '_uploads'));
        assert.deepEqual(staged, [], 'the one-shot upload left nothing staged after restart');

        const tags = await fetch(`${wharf.url}/v2/crash/images/tags/list`);
        const names = tags.status === 200 ? ((await tags.json()) as { tags: string[] }).tags : [];
        for (const tag of names) {
          const manifest = await fetch(`${wharf.url}/v2/crash/images/manifests/${tag}`);
          assert.equal(manifest.status, 200, tag);
          const bytes = Buffer.from(await manifest.arrayBuffer());
          assert.equal(manifest.headers.get('docker-content-digest'), sha256(bytes));
          const parsed = JSON.parse(bytes.toString()) as { config: { digest: string }; layers: { digest: string }[] };
          for (const blob of [parsed.config, ...parsed.layers]) {
            const content = await fetch(`${wharf.url}/v2/crash/images/blobs/${blob.digest}`);
            assert.equal(content.status, 200);
            assert.equal(sha256(Buffer.from(await content.arrayBuffer())), blob.digest, 'a referenced blob is complete');
          }
        }
      } finally {
        await wharf.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
