import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, envName, loadConfig } from './config.ts';

async function withFile(text: string, run: (path: string) => void | Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-config-'));
  try {
    const path = join(dir, 'wharf.yaml');
    await writeFile(path, text);
    await run(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('configuration', () => {
  it('defaults to loopback port 5000 and ./wharf-data', () => {
    const config = loadConfig();
    assert.deepEqual(config.listen, { host: '127.0.0.1', port: 5000 });
    assert.equal(config.data, './wharf-data');
    assert.equal(config.limits.maxManifestBytes, 4 * 1024 * 1024);
  });

  it('names environment variables after the key path', () => {
    assert.equal(envName('limits.maxManifestBytes'), 'WHARF_LIMITS_MAX_MANIFEST_BYTES');
    assert.equal(envName('listen'), 'WHARF_LISTEN');
  });

  it('layers file < environment < flags', async () => {
    await withFile('listen: 127.0.0.1:6000\ndata: /from/file\nlog:\n  level: warn\nlimits:\n  maxManifestBytes: 2048\n', (file) => {
      const config = loadConfig({ file, env: { WHARF_DATA: '/from/env', WHARF_LOG_LEVEL: 'error' }, flags: { 'log.level': 'debug' } });
      assert.deepEqual(config.listen, { host: '127.0.0.1', port: 6000 });
      assert.equal(config.data, '/from/env');
      assert.equal(config.log.level, 'debug');
      assert.equal(config.limits.maxManifestBytes, 2048);
    });
  });

  it('parses IPv6 listen addresses', () => {
    assert.deepEqual(loadConfig({ flags: { listen: '[::1]:5001' } }).listen, { host: '::1', port: 5001 });
  });

  it('names the key and the reason for an invalid value', async () => {
    const cases: [() => unknown, RegExp][] = [
      [() => loadConfig({ flags: { listen: 'nohost' } }), /config key listen \(from --listen\): "nohost" is not HOST:PORT/],
      [() => loadConfig({ flags: { listen: '127.0.0.1:70000' } }), /config key listen/],
      [() => loadConfig({ env: { WHARF_LOG_LEVEL: 'loud' } }), /config key log\.level \(from WHARF_LOG_LEVEL\): must be one of/],
      // The flag the user typed, not a made-up `--log.level`.
      [() => loadConfig({ flags: { 'log.level': 'loud' } }), /config key log\.level \(from --log-level\): must be one of/],
      [() => loadConfig({ flags: { data: '' } }), /config key data \(from --data-dir\)/],
      [() => loadConfig({ env: { WHARF_LIMITS_MAX_MANIFEST_BYTES: '12' } }), /limits\.maxManifestBytes.*at least 1024/],
      [() => loadConfig({ file: '/nonexistent/wharf.yaml' }), /cannot read config file/],
    ];
    for (const [load, message] of cases) assert.throws(load, (error: Error) => error instanceof ConfigError && message.test(error.message));
    await withFile('listen: [oops\n', (file) => assert.throws(() => loadConfig({ file }), /invalid YAML/));
    await withFile('lisen: 127.0.0.1:1\n', (file) => assert.throws(() => loadConfig({ file }), /config key lisen: unknown key/));
    await withFile('limits:\n  maxManifestBytes: lots\n', (file) => assert.throws(() => loadConfig({ file }), /config key limits\.maxManifestBytes \(from .*wharf\.yaml\)/));
    await withFile('- a\n- b\n', (file) => assert.throws(() => loadConfig({ file }), /top level must be a mapping/));
  });
  it('keeps blobs on the filesystem by default and reads the S3 settings from a file and the environment', async () => {
    assert.equal(loadConfig().storage.backend, 'filesystem');
    await withFile('storage:\n  backend: s3\n  s3:\n    endpoint: http://127.0.0.1:9000\n    bucket: blobs\n    forcePathStyle: true\n    presignedRedirectSeconds: 600\n', (file) => {
      const config = loadConfig({ file, env: { WHARF_STORAGE_S3_ACCESS_KEY: 'id', WHARF_STORAGE_S3_SECRET_KEY: 'secret' } });
      assert.deepEqual(config.storage.s3, {
        endpoint: 'http://127.0.0.1:9000', bucket: 'blobs', region: 'us-east-1', accessKey: 'id', secretKey: 'secret',
        forcePathStyle: true, prefix: '', minPartMebibytes: 8, presignedRedirectSeconds: 600,
      });
      assert.equal(config.storage.backend, 's3');
    });
  });

  it('refuses S3 storage without a bucket, half a key pair, or parts under 5 MiB', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ WHARF_STORAGE_BACKEND: 's3' }, /storage\.s3\.bucket: required/],
      [{ WHARF_STORAGE_BACKEND: 's3', WHARF_STORAGE_S3_BUCKET: 'b', WHARF_STORAGE_S3_ACCESS_KEY: 'id' }, /accessKey\/storage\.s3\.secretKey: give both/],
      [{ WHARF_STORAGE_S3_MIN_PART_MEBIBYTES: '4' }, /storage\.s3\.minPartMebibytes.*at least 5/],
      [{ WHARF_STORAGE_BACKEND: 'gcs' }, /storage\.backend.*must be one of filesystem, s3/],
    ];
    for (const [env, message] of cases) assert.throws(() => loadConfig({ env }), (error: Error) => error instanceof ConfigError && message.test(error.message));
  });
});
