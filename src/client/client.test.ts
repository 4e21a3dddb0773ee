import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { isLoopback, parseReference } from './reference.ts';
import { findCredentials } from './auth-files.ts';
import { RegistryClient, referrerDescriptor, referrersTag } from './registry-client.ts';
import { createHash } from 'node:crypto';

describe('image references', () => {
  it('parses registries, ports, tags and digests like container tools do', () => {
    assert.deepEqual(parseReference('alpine'), { registry: 'docker.io', repository: 'library/alpine' });
    assert.deepEqual(parseReference('localhost:5000/team/app:v1'), { registry: 'localhost:5000', repository: 'team/app', tag: 'v1' });
    assert.deepEqual(parseReference(`ghcr.io/org/img@sha256:${'a'.repeat(64)}`), { registry: 'ghcr.io', repository: 'org/img', digest: `sha256:${'a'.repeat(64)}` });
    assert.equal(parseReference('user/repo:tag').registry, 'docker.io');
    assert.throws(() => parseReference('Bad/Repo'), /not a valid repository/);
    assert.throws(() => parseReference('a@nope'), /not a digest/);
  });
  it('treats only loopback hosts as plain HTTP', () => {
    assert.ok(isLoopback('localhost:5000') && isLoopback('127.0.0.1:5000') && isLoopback('[::1]:5000'));
    assert.equal(isLoopback('registry.example:5000'), false);
  });
});

describe('container auth files', () => {
  it('reads containers/auth.json before ~/.docker/config.json, base64 auth and identity tokens', async () => {
    const home = await mkdtemp(join(tmpdir(), 'wharf-auth-'));
    try {
      await mkdir(join(home, 'run', 'containers'), { recursive: true });
      await mkdir(join(home, '.docker'), { recursive: true });
      await writeFile(join(home, 'run', 'containers', 'auth.json'), JSON.stringify({ auths: { 'reg.example': { auth: Buffer.from('alice:s3cret:with:colons').toString('base64') } } }));
      await writeFile(join(home, '.docker', 'config.json'), JSON.stringify({ auths: { 'reg.example': { auth: Buffer.from('bob:x').toString('base64') }, 'https://index.docker.io/v1/': { identitytoken: 'tok' } } }));
      const env = { HOME: home, XDG_RUNTIME_DIR: join(home, 'run') };
      assert.deepEqual(findCredentials('reg.example', env), { username: 'alice', password: 's3cret:with:colons' });
      assert.deepEqual(findCredentials('docker.io', env), { identityToken: 'tok' });
      assert.equal(findCredentials('other.example', env), undefined);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('registry client authentication', () => {
  it('answers a bearer challenge with basic credentials at the token realm, then retries', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
      if (req.url?.startsWith('/token')) {
        assert.equal(req.headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'T' }));
        return;
      }
      if (req.headers.authorization !== 'Bearer T') {
        const { port } = server.address() as AddressInfo;
        res.writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="test"` }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end('{"schemaVersion":2}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = new RegistryClient(`127.0.0.1:${port}`, { credentials: { username: 'u', password: 'p' } });
      const manifest = await client.getManifest('team/app', 'v1');
      assert.equal(manifest?.bytes.toString(), '{"schemaVersion":2}');
      assert.ok(seen.some((line) => line.startsWith('GET /token?service=test&scope=repository%3Ateam%2Fapp%3Apull')), seen.join('\n'));
    } finally {
      server.close();
    }
  });
});

describe('referrers tag schema descriptors', () => {
  const fetched = (document: object, mediaType = 'application/vnd.oci.image.manifest.v1+json') => {
    const bytes = Buffer.from(JSON.stringify(document));
    return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, mediaType, bytes };
  };
  it('carry artifactType (else the config media type of an image manifest), annotations, size and digest', () => {
    const withType = fetched({ schemaVersion: 2, artifactType: 'application/spdx+json', config: { mediaType: 'application/vnd.oci.empty.v1+json' }, layers: [], annotations: { a: 'b' } });
    assert.deepEqual(referrerDescriptor(withType), { mediaType: withType.mediaType, digest: withType.digest, size: withType.bytes.length, artifactType: 'application/spdx+json', annotations: { a: 'b' } });
    const configOnly = fetched({ schemaVersion: 2, config: { mediaType: 'application/vnd.cncf.notary.signature' }, layers: [] });
    assert.equal(referrerDescriptor(configOnly)['artifactType'], 'application/vnd.cncf.notary.signature');
    assert.equal('annotations' in referrerDescriptor(configOnly), false);
    const index = fetched({ schemaVersion: 2, manifests: [] }, 'application/vnd.oci.image.index.v1+json');
    assert.equal('artifactType' in referrerDescriptor(index), false);
  });
  it('are stored under the sha256-<hex> tag of the subject', () => {
    assert.equal(referrersTag(`sha256:${'ab'.repeat(32)}`), `sha256-${'ab'.repeat(32)}`);
    assert.equal(referrersTag(`sha512:${'c'.repeat(128)}`).length, 128);
  });
});

describe('referrers tag schema edge cases', () => {
  it('a referrers API error other than 404 is reported, and a fallback tag holding something else is never overwritten', async () => {
    const puts: string[] = [];
    const server = createServer((req, res) => {
      if (req.method === 'PUT') { puts.push(req.url ?? ''); res.writeHead(201).end(); return; }
      if (req.url?.includes('/referrers/')) { res.writeHead(500, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNKNOWN","message":"boom"}]}'); return; }
      // The would-be fallback tag holds an ordinary image manifest.
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end('{"schemaVersion":2,"config":{},"layers":[]}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = new RegistryClient(`127.0.0.1:${port}`);
      const subject = `sha256:${'1'.repeat(64)}`;
      await assert.rejects(client.referrers('team/app', subject), /GET referrers .*: 500/);
      const referrer = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { mediaType: 'application/vnd.oci.empty.v1+json' }, layers: [], subject: { digest: subject } }));
      await assert.rejects(client.putReferrer('team/app', referrer, 'application/vnd.oci.image.manifest.v1+json'), /is not a referrers index/);
      assert.equal(puts.length, 1, `only the referrer itself was written: ${puts.join(', ')}`);
      assert.ok(puts[0]!.includes('/manifests/sha256:'));
    } finally {
      server.close();
    }
  });
});

describe('unreachable registries', () => {
  it('name the URL and the reason when nothing listens there', async () => {
    // A port that was free a moment ago: bind, note it, close.
    const probe = createServer();
    await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
    const { port } = probe.address() as AddressInfo;
    await new Promise((done) => probe.close(done));
    const client = new RegistryClient(`127.0.0.1:${port}`, { credentials: {} });
    await assert.rejects(client.getManifest('team/app', 'v1'), (error: Error) => {
      assert.doesNotMatch(error.message, /^fetch failed$/);
      assert.match(error.message, new RegExp(`http://127\\.0\\.0\\.1:${port}/v2/team/app/manifests/v1`));
      assert.match(error.message, /ECONNREFUSED/);
      return true;
    });
  });

  it('say when TLS is spoken to a plain HTTP server', async () => {
    const server = createServer((_, res) => res.end('plain'));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as AddressInfo;
    try {
      const { fetchOrExplain } = await import('./fetch-errors.ts');
      await assert.rejects(fetchOrExplain(`https://127.0.0.1:${port}/v2/`), (error: Error) => {
        assert.match(error.message, new RegExp(`https://127\\.0\\.0\\.1:${port}/v2/`));
        assert.match(error.message, /TLS|SSL/);
        return true;
      });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
