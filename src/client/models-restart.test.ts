/**
 * A model push survives a registry restart in the middle of a layer: the client retries, asks the
 * registry where the upload stands, resumes from the last acknowledged chunk, and the blob
 * commits with the right digest. The pull reassembles it exactly from parallel Range streams.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/config.ts';
import { extensionsFor } from '../server/extensions.ts';
import { listen } from '../server/http-server.ts';
import { createLogger } from '../server/logger.ts';
import { createRegistryApp } from '../server/registry-app.ts';
import { RegistryClient } from './registry-client.ts';
import { pullModel, pushModel, type ProgressSink } from './models.ts';

async function startOn(dataDir: string, port: number) {
  const config = loadConfig({ env: { WHARF_LISTEN: `127.0.0.1:${port}`, WHARF_DATA: dataDir, WHARF_LOG_LEVEL: 'silent' } });
  const app = await createRegistryApp(config, createLogger(config.log.level), await extensionsFor(config));
  const server = await listen(app, config.listen.host, config.listen.port);
  return { url: server.url, async stop() { await server.stop(100); await app.close(); } };
}

describe('model push across a registry restart', () => {
  let folder: string;
  before(async () => { folder = await mkdtemp(join(tmpdir(), 'wharf-model-restart-')); });
  after(async () => { await rm(folder, { recursive: true, force: true }); });

  it('resumes from the last acknowledged chunk and commits the right digest; the pull reassembles it exactly', async () => {
    const dataDir = join(folder, 'data'), modelDir = join(folder, 'model');
    await mkdir(modelDir);
    const weights = randomBytes(6 * 1024 * 1024);
    await writeFile(join(modelDir, 'model.bin'), weights);
    await writeFile(join(modelDir, 'LICENSE'), 'MIT License\n');
    let registry = await startOn(dataDir, 0);
    const port = Number(new URL(registry.url).port);
    const client = new RegistryClient(`127.0.0.1:${port}`);
    let sent = 0, sentAfterRestart = 0, back = false, restarted: Promise<void> | undefined;
    const progress: ProgressSink = {
      start() {}, finish() {},
      advance(name, bytes) {
        if (name !== 'model.bin') return;
        sent += bytes;
        if (back) sentAfterRestart += bytes;
        // After 2 MiB are acknowledged the registry goes away, and comes back on the same port.
        if (sent >= 2 * 1024 * 1024 && !restarted) {
          restarted = (async () => {
            await registry.stop();
            await new Promise((resolve) => setTimeout(resolve, 300));
            registry = await startOn(dataDir, port);
            back = true;
          })();
        }
      },
    };
    try {
      const result = await pushModel(client, 'ml/restart', 'v1', modelDir, { chunkSize: 512 * 1024, concurrency: 1, progress, retryDelayMs: 200 });
      assert.ok(restarted, 'the registry was restarted during the push');
      await restarted;
      assert.equal(result.uploadedFiles, 2);
      assert.ok(sentAfterRestart > 0, 'chunks were sent to the restarted registry');
      assert.ok(sentAfterRestart <= weights.length - 2 * 1024 * 1024 + 512 * 1024, `resumed, not restarted from byte 0: ${sentAfterRestart} bytes after the restart`);
      // Every byte was sent once, give or take the chunk in flight when the registry stopped.
      assert.ok(result.bytesSent <= weights.length + 2 * 512 * 1024 + 64, `sent ${result.bytesSent}`);
      const digest = `sha256:${createHash('sha256').update(weights).digest('hex')}`;
      const head = await fetch(`${registry.url}/v2/ml/restart/blobs/${digest}`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      const target = join(folder, 'pulled');
      const pulled = await pullModel(client, 'ml/restart', 'v1', target, { include: ['model.bin'], partSize: 1024 * 1024, streams: 4 });
      assert.deepEqual(pulled.files.map((file) => file.status), ['downloaded']);
      assert.deepEqual(await readFile(join(target, 'model.bin')), weights);
    } finally {
      await restarted?.catch(() => undefined);
      await registry.stop();
    }
  });
});
