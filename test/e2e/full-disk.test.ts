// A full disk must be an answer, not a hang: uploads and manifest pushes get 507 with an OCI error
// naming the condition, staged bytes are freed, /readyz reports "storage full at <path>", the log
// says what happened, and everything works again once space is freed. Runs on a small tmpfs and a
// small loop-mounted ext4, each through the page cache and with direct I/O on (ext4 takes O_DIRECT;
// tmpfs does on recent kernels, and falls back to the page cache on older ones).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { listen, type RunningServer } from '../../src/server/http-server.ts';
import { createRegistryApp, type RegistryApp } from '../../src/server/registry-app.ts';
import type { FilesystemBlobStore } from '../../src/storage/blobs/filesystem-blob-store.ts';
import { OCI_MANIFEST, pushBlob, sha256 } from '../support/registry-fixture.ts';
import { fillUp, mountSmallFilesystem, mountUnavailable, type FilesystemKind, type SmallFilesystem } from '../support/small-filesystem.ts';

const unavailable = await mountUnavailable();
const MiB = 1024 * 1024;
/** Long enough for a slow shared machine, short enough that a hang fails the test instead of stalling it. */
const ANSWER_WITHIN_MS = 15_000;

interface Setup {
  readonly kind: FilesystemKind;
  readonly directIO: boolean;
}

const setups: Setup[] = [
  { kind: 'tmpfs', directIO: false }, { kind: 'tmpfs', directIO: true }, { kind: 'ext4', directIO: false }, { kind: 'ext4', directIO: true },
];

for (const { kind, directIO } of setups) {
  describe(`a full disk (${kind}, direct I/O ${directIO ? 'on' : 'off'})`, { skip: unavailable, timeout: 120_000 }, () => {
    let fs: SmallFilesystem;
    let app: RegistryApp;
    let server: RunningServer;
    let url: string;
    let idleBuffers: number | undefined;
    const logs: string[] = [];
    const blobsDir = () => join(fs.dir, 'data', 'blobs');

    before(async () => {
      fs = await mountSmallFilesystem(kind, 16);
      const config = loadConfig({ env: { WHARF_LISTEN: '127.0.0.1:0', WHARF_DATA: join(fs.dir, 'data'), WHARF_STORAGE_DIRECT_IO: String(directIO) } });
      const sink = new Writable({ write(chunk, _encoding, done) { logs.push(String(chunk)); done(); } });
      app = await createRegistryApp(config, pino({ level: 'warn', base: undefined }, sink), []);
      server = await listen(app, config.listen.host, config.listen.port);
      url = server.url;
      // ext4 takes O_DIRECT, so large bodies go through the direct appender (tmpfs does too on recent kernels).
      const directBuffers = (app.deps.blobs as FilesystemBlobStore).directBuffers;
      if (!directIO) assert.equal(directBuffers, undefined);
      if (directIO && kind === 'ext4') assert.ok(directBuffers, 'direct I/O is in use on ext4');
      idleBuffers = directBuffers?.available;
    });
    after(async () => {
      await server?.stop(1000);
      await app?.close();
      await fs?.unmount();
    });

    const readyz = async () => {
      const response = await fetch(`${url}/readyz`);
      return { status: response.status, body: await response.text() };
    };

    it('answers blob uploads with 507, frees their bytes, reports it on /readyz, and accepts uploads once space is freed', async () => {
      assert.equal((await readyz()).status, 200);
      const free = await fillUp(fs, 3 * MiB);
      const freeBefore = await fs.freeBytes();
      const body = randomBytes(5 * MiB);
      const digest = sha256(body);

      const monolithic = await fetch(`${url}/v2/full/app/blobs/uploads/?digest=${digest}`, {
        method: 'POST', body, signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
      });
      await expectInsufficientStorage(monolithic);

      const session = await fetch(`${url}/v2/full/app/blobs/uploads/`, { method: 'POST' });
      assert.equal(session.status, 202);
      const location = session.headers.get('location')!;
      const chunk = await fetch(`${url}${location}`, {
        method: 'PATCH', body, headers: { 'content-range': `0-${body.length - 1}` }, signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
      });
      await expectInsufficientStorage(chunk);

      // Nothing staged is left holding the space: the one-shot upload is gone, the session is back at 0.
      const staged = await readdir(join(blobsDir(), '_uploads'));
      for (const name of staged) assert.equal((await stat(join(blobsDir(), '_uploads', name))).size, 0, `staged ${name}`);
      assert.ok((await fs.freeBytes()) >= freeBefore - 256 * 1024, 'the failed uploads freed what they wrote');
      const status = await fetch(`${url}${location}`);
      assert.equal(status.status, 204, 'the chunked session survives and can be resumed');
      const pool = (app.deps.blobs as FilesystemBlobStore).directBuffers;
      for (let waited = 0; pool && pool.available !== idleBuffers && waited < 100; waited++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(pool?.available, idleBuffers, 'the failed direct writes gave their aligned buffers back');

      const notReady = await readyz();
      assert.equal(notReady.status, 503);
      assert.match(notReady.body, new RegExp(`storage full at ${escape(fs.dir)}`));
      assert.ok(logs.some((line) => /storage full/.test(line) && /ENOSPC|no space/i.test(line)), `the log names the condition:\n${logs.join('')}`);

      await free();
      assert.equal((await readyz()).status, 200, 'ready again once space is freed');
      await pushBlob(url, 'full/app', body);
      const pulled = await fetch(`${url}/v2/full/app/blobs/${digest}`);
      assert.equal(pulled.status, 200);
      assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(body));
      const other = randomBytes(3 * MiB);
      const resumed = await fetch(`${url}${location}?digest=${sha256(other)}`, { method: 'PUT', body: other, headers: { 'content-range': `0-${other.length - 1}` } });
      assert.equal(resumed.status, 201, await resumed.text());
    });

    it('answers a manifest push with 507 and the real cause, not a masked rollback error, and accepts it once space is freed', async () => {
      const config = await pushBlob(url, 'full/images', JSON.stringify({ architecture: 'amd64', os: 'linux' }), 'application/vnd.oci.image.config.v1+json');
      const layer = await pushBlob(url, 'full/images', randomBytes(1024), 'application/vnd.oci.image.layer.v1.tar');
      // Large enough that SQLite must grow its files to store it.
      const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer],
        annotations: { padding: randomBytes(1536 * 1024).toString('base64') },
      }));
      const logsBefore = logs.length;
      const free = await fillUp(fs, 0);
      try {
        const put = () => fetch(`${url}/v2/full/images/manifests/v1`, {
          method: 'PUT', body: manifest, headers: { 'content-type': OCI_MANIFEST }, signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
        });
        await expectInsufficientStorage(await put());
        const logged = logs.slice(logsBefore).join('');
        assert.doesNotMatch(logged, /cannot rollback/);
        assert.match(logged, /storage full/);
        const notReady = await readyz();
        assert.equal(notReady.status, 503);
        assert.match(notReady.body, /storage full at /);
        await free();
        assert.equal((await readyz()).status, 200);
        const stored = await put();
        assert.equal(stored.status, 201, await stored.text());
        const pulled = await fetch(`${url}/v2/full/images/manifests/v1`, { headers: { accept: OCI_MANIFEST } });
        assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(manifest));
      } finally {
        await free().catch(() => undefined);
      }
    });
  });
}

async function expectInsufficientStorage(response: Response): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, 507, text);
  const body = JSON.parse(text) as { errors: { code: string; message: string }[] };
  assert.equal(body.errors.length, 1);
  assert.match(body.errors[0]!.message, /storage is full|no space/i);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
