// Three `wharf serve` processes on one PostgreSQL (metadata.postgres.url) and one Ceph S3 gateway
// (storage.backend: s3), behind Debian's haproxy (round robin, health check on /readyz), driven by
// real clients through haproxy: skopeo copy/inspect/sync/delete and buildah push. An upload's
// requests land on different replicas; one replica is killed with SIGKILL in the middle of a push
// and the client's retry through haproxy completes it; afterwards every pushed manifest and blob
// is readable through every replica, the killed one restarted on its own data folder included.
//
// Authentication is on: the administrator is created with `wharf user add` in the shared
// PostgreSQL identity store, the clients log in through haproxy, and round robin sends the token
// request and the registry requests that carry the token to different replicas.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipReason, startCephS3, stopCephS3, type CephS3Start } from '../support/ceph-s3.ts';
import { postgresSkip, startPostgres, type RunningPostgres } from '../support/postgres.ts';
import { S3BlobStore } from '../../src/storage/blobs/s3-blob-store.ts';
import { basic, fetchToken } from '../support/auth-fixture.ts';
import { buildah, createToolSandbox, missingToolReason, skopeo, umoci, type ToolSandbox } from './container-tools.ts';
import { haproxyMissing, startHaproxy, type RunningHaproxy } from './haproxy.ts';
import { REPO_ROOT, startWharf, type RunningRegistry } from './harness.ts';
import { initLayout } from './oci-layout.ts';
import { sha256Of } from './registry-http.ts';

const BUCKET = 'wharf-replicas';
const PREFIX = `replicas-${randomBytes(4).toString('hex')}`;
const plainHttp = '--tls-verify=false';
const ADMIN = 'admin';
const ADMIN_PASSWORD = `replicas-${randomBytes(8).toString('hex')}`;
const creds = `${ADMIN}:${ADMIN_PASSWORD}`;
const readArgs = [plainHttp, '--creds', creds];
const pushArgs = ['--dest-tls-verify=false', '--dest-creds', creds];
const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

function required(reason: string | undefined): string | undefined {
  if (reason !== undefined && (process.env.CI === 'true' || process.env.WHARF_REQUIRE_SHARED === '1')) {
    throw new Error(`${reason} (CI=true requires it)`);
  }
  return reason;
}

const missing = required(missingToolReason(['skopeo', 'buildah', 'umoci'])) ?? haproxyMissing() ?? (postgresSkip() || undefined);
const s3: CephS3Start = missing !== undefined ? { unavailable: missing } : await startCephS3();
after(() => stopCephS3(s3));

interface Manifest {
  config?: { digest: string };
  layers?: { digest: string }[];
  manifests?: { digest: string }[];
}

describe('three Wharf replicas on one PostgreSQL and one S3 store, behind haproxy', { skip: skipReason(s3), timeout: 600_000 }, () => {
  let postgres: RunningPostgres;
  let sandbox: ToolSandbox;
  let root: string;
  let env: Record<string, string>;
  const replicas: RunningRegistry[] = [];
  const dataDirs: string[] = [];
  let proxy: RunningHaproxy;
  /** repository → tags pushed there that must still resolve at the end. */
  const pushed = new Map<string, Set<string>>();
  const remember = (repository: string, tag: string): void => {
    pushed.set(repository, (pushed.get(repository) ?? new Set()).add(tag));
  };
  const ref = (path: string): string => `docker://${proxy.host}/${path}`;

  before(async () => {
    if ('unavailable' in s3) return;
    postgres = await startPostgres();
    root = await mkdtemp(join(tmpdir(), 'wharf-replicas-'));
    // The bucket is the operator's to create; here a store that may create it does.
    const creator = new S3BlobStore({
      endpoint: s3.endpoint, region: s3.region, bucket: BUCKET, accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey,
      forcePathStyle: true, prefix: PREFIX, minPartBytes: 5 * 1024 * 1024, presignedRedirectSeconds: 0, createBucket: true,
    });
    await creator.init();
    creator.close();
    env = {
      WHARF_METADATA_POSTGRES_URL: await postgres.createDatabase(),
      WHARF_STORAGE_BACKEND: 's3', WHARF_STORAGE_S3_ENDPOINT: s3.endpoint, WHARF_STORAGE_S3_BUCKET: BUCKET,
      WHARF_STORAGE_S3_REGION: s3.region, WHARF_STORAGE_S3_ACCESS_KEY: s3.accessKey, WHARF_STORAGE_S3_SECRET_KEY: s3.secretKey,
      WHARF_STORAGE_S3_FORCE_PATH_STYLE: 'true', WHARF_STORAGE_S3_PREFIX: PREFIX, WHARF_STORAGE_S3_MIN_PART_MEBIBYTES: '5',
      WHARF_AUTH_ENABLED: 'true',
    };
    // Each replica has a data folder of its own (it holds a lock and local state).
    for (let n = 0; n < 3; n++) {
      const dir = join(root, `replica-${n}`);
      await mkdir(dir);
      dataDirs.push(dir);
    }
    // As an operator would: `wharf user add` on one replica's data folder, configured for the
    // shared database, before any replica starts, so none warns that there is no administrator.
    const added = spawnSync(join(REPO_ROOT, 'node_modules', '.bin', 'node'),
      [join(REPO_ROOT, 'src', 'cli', 'wharf.mjs'), 'user', 'add', ADMIN, '--admin', '--password-stdin', '--data-dir', dataDirs[0]!], {
        input: `${ADMIN_PASSWORD}\n`, encoding: 'utf8', timeout: 60_000, env: { ...process.env, WHARF_SERVER: '', ...env },
      });
    assert.equal(added.status, 0, added.stderr);
    replicas.push(...await Promise.all(dataDirs.map((dataDir) => startWharf({ dataDir, env }))));
    proxy = await startHaproxy(root, Object.fromEntries(replicas.map((replica, n) => [`r${n}`, replica.host])));
    sandbox = await createToolSandbox();
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all(replicas.map((replica) => replica.stop()));
    await sandbox?.dispose();
    await postgres?.stop();
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  /** An OCI layout image with one layer of `bytes` random (incompressible) bytes. */
  async function layoutImage(name: string, bytes: number): Promise<string> {
    const layout = join(sandbox.dir, `layout-${name}`);
    await initLayout(sandbox, layout);
    await umoci(sandbox, ['new', '--image', `${layout}:${name}`]);
    const payload = join(sandbox.dir, `payload-${name}.bin`);
    await writeFile(payload, randomBytes(bytes));
    await umoci(sandbox, ['insert', '--image', `${layout}:${name}`, payload, '/payload.bin']);
    return layout;
  }

  test('skopeo copy and inspect through haproxy; the upload\'s requests were served by different replicas', async () => {
    const layout = await layoutImage('v1', 256 * 1024);
    const before = proxy.requests.length;
    await skopeo(sandbox, ['copy', ...pushArgs, `oci:${layout}:v1`, ref('team/app:v1')]);
    remember('team/app', 'v1');
    const uploadRequests = proxy.requests.slice(before).filter((request) => request.path.includes('/blobs/uploads/'));
    assert.ok(uploadRequests.length >= 3, JSON.stringify(uploadRequests));
    const servers = new Set(uploadRequests.map((request) => request.server));
    assert.ok(servers.size >= 2, `every upload request went to ${[...servers].join(', ')}`);
    for (let n = 0; n < 3; n++) {
      // Each replica answers the inspect of a tag another replica stored.
      const inspected = JSON.parse(await skopeo(sandbox, ['inspect', ...readArgs, ref('team/app:v1')])) as { Digest: string };
      assert.match(inspected.Digest, /^sha256:/);
    }
    const inspectServers = new Set(proxy.requests.slice(before).filter((r) => r.path.includes('/manifests/')).map((r) => r.server));
    assert.equal(inspectServers.size, 3, `manifest reads were served by ${[...inspectServers].join(', ')}`);
    // The clients logged in through haproxy: some registry request that succeeded with a token
    // was served by another replica than the one that issued the latest token before it.
    let issuer: string | undefined;
    const crossReplica: string[] = [];
    for (const request of proxy.requests.slice(before)) {
      if (request.path.startsWith('/token')) {
        assert.equal(request.status, 200, `token request on ${request.server}`);
        issuer = request.server;
      } else if (issuer !== undefined && request.path.startsWith('/v2/team/') && request.status < 400 && request.server !== issuer) {
        crossReplica.push(`${request.method} ${request.path} on ${request.server}, token from ${issuer}`);
      }
    }
    assert.ok(crossReplica.length > 0, 'no request with a token was served by another replica than the issuer');
  });

  test('authentication is on for every replica: anonymous requests through haproxy are refused', async () => {
    for (let n = 0; n < 3; n++) {
      const response = await fetch(`${proxy.url}/v2/team/app/manifests/v1`, { headers: { accept: MANIFEST_TYPES } });
      await response.arrayBuffer();
      assert.equal(response.status, 401);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer /);
    }
    await assert.rejects(skopeo(sandbox, ['inspect', plainHttp, '--no-creds', ref('team/app:v1')]));
  });

  test('a raw chunked upload whose PATCHes go to each replica in turn completes on a third', async () => {
    const [a, b, c] = replicas as [RunningRegistry, RunningRegistry, RunningRegistry];
    // One token, issued by b, for requests that go to a, b and c.
    const issued = await fetchToken(b.url, ['repository:team/chunks:pull,push'], basic(ADMIN, ADMIN_PASSWORD));
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    const authorization = `Bearer ${issued.token!}`;
    const chunkSize = 64 * 1024;
    const body = randomBytes(4 * chunkSize);
    const started = await fetch(`${a.url}/v2/team/chunks/blobs/uploads/`, { method: 'POST', headers: { authorization } });
    assert.equal(started.status, 202, await started.text());
    let location = started.headers.get('location')!;
    for (const [n, server] of [a, b, c, a].entries()) {
      const patched = await fetch(new URL(location, server.url), {
        method: 'PATCH', body: body.subarray(n * chunkSize, (n + 1) * chunkSize),
        headers: { authorization, 'content-type': 'application/octet-stream', 'content-range': `${n * chunkSize}-${(n + 1) * chunkSize - 1}` },
      });
      assert.equal(patched.status, 202, `chunk ${n + 1} on ${server.host}: ${await patched.text()}`);
      location = patched.headers.get('location')!;
    }
    const done = new URL(location, c.url);
    done.searchParams.set('digest', sha256Of(body));
    const committed = await fetch(done, { method: 'PUT', headers: { authorization } });
    assert.equal(committed.status, 201, await committed.text());
    for (const replica of replicas) {
      const pulled = await fetch(`${replica.url}/v2/team/chunks/blobs/${sha256Of(body)}`, { headers: { authorization } });
      assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(body), replica.host);
    }
  });

  test('buildah push through haproxy', async () => {
    const source = join(sandbox.dir, 'hello.txt');
    await writeFile(source, `three replicas ${randomBytes(8).toString('hex')}\n`);
    const container = (await buildah(sandbox, ['from', '--signature-policy', sandbox.policyPath, 'scratch'])).trim();
    await buildah(sandbox, ['copy', container, source, '/hello.txt']);
    await buildah(sandbox, ['commit', '--signature-policy', sandbox.policyPath, container, 'localhost/replicas:latest']);
    await buildah(sandbox, ['rm', container]);
    for (const format of ['oci', 'v2s2']) {
      await buildah(sandbox, ['push', ...readArgs, '--signature-policy', sandbox.policyPath, '--format', format,
        'localhost/replicas:latest', ref(`team/built:${format}`)]);
      remember('team/built', format);
    }
    const raw = JSON.parse(await skopeo(sandbox, ['inspect', ...readArgs, '--raw', ref('team/built:v2s2')])) as { mediaType: string };
    assert.equal(raw.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  });

  test('skopeo sync copies a repository through haproxy, and skopeo delete removes a manifest for every replica', async () => {
    const layout = await layoutImage('v2', 64 * 1024);
    await skopeo(sandbox, ['copy', ...pushArgs, `oci:${layout}:v2`, ref('team/app:v2')]);
    await skopeo(sandbox, ['copy', ...pushArgs, `oci:${layout}:v2`, ref('team/app:doomed')]);
    await skopeo(sandbox, ['sync', '--src', 'docker', '--dest', 'docker', '--src-tls-verify=false', '--src-creds', creds, ...pushArgs,
      `${proxy.host}/team/app`, `${proxy.host}/mirror`]);
    const mirrored = JSON.parse(await skopeo(sandbox, ['list-tags', ...readArgs, ref('mirror/app')])) as { Tags: string[] };
    assert.deepEqual([...mirrored.Tags].sort(), ['doomed', 'v1', 'v2']);
    for (const tag of ['v1', 'v2']) remember('mirror/app', tag);
    remember('team/app', 'v2');

    // A manifest of its own (a different layer), so deleting it leaves the other tags intact.
    const doomedLayout = await layoutImage('doomed', 32 * 1024);
    await skopeo(sandbox, ['copy', ...pushArgs, `oci:${doomedLayout}:doomed`, ref('team/gone:x')]);
    const digest = (JSON.parse(await skopeo(sandbox, ['inspect', ...readArgs, ref('team/gone:x')])) as { Digest: string }).Digest;
    await skopeo(sandbox, ['delete', ...readArgs, ref(`team/gone@${digest}`)]);
    const reader = await fetchToken(replicas[0]!.url, ['repository:team/gone:pull'], basic(ADMIN, ADMIN_PASSWORD));
    for (const replica of replicas) {
      const response = await fetch(`${replica.url}/v2/team/gone/manifests/${digest}`, { headers: { accept: MANIFEST_TYPES, authorization: `Bearer ${reader.token!}` } });
      assert.equal(response.status, 404, replica.host);
    }
  });

  test('a replica killed with SIGKILL in the middle of a push: the client\'s retry through haproxy completes it', async () => {
    // 48 MiB of random bytes take long enough to upload that the kill lands inside the PATCH.
    const layout = await layoutImage('big', 48 * 1024 * 1024);
    const push = (): Promise<string> => skopeo(sandbox, ['copy', '--retry-times', '3', ...pushArgs, `oci:${layout}:big`, ref('team/big:v1')]);
    const pushing = push().then(() => undefined, (error: Error) => error);
    // Find the replica holding the long request: the same server in flight at two polls 100 ms apart.
    let victim: string | undefined;
    const deadline = Date.now() + 60_000;
    let previous: string[] = [];
    while (victim === undefined) {
      assert.ok(Date.now() < deadline, 'no upload request stayed in flight long enough to kill its replica');
      const now = await proxy.serversInFlight();
      victim = now.find((server) => previous.includes(server));
      previous = now;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const index = Number(/^r(\d)$/.exec(victim)?.[1]);
    assert.ok(replicas[index] !== undefined, `haproxy named ${victim} as in flight`);
    process.kill(replicas[index]!.pid, 'SIGKILL');
    const firstAttempt = await pushing;
    // skopeo's own --retry-times may or may not cover a connection cut mid-body (a 502 from
    // haproxy); a client that still failed runs the push again, as a user or CI job would.
    if (firstAttempt !== undefined) {
      console.log(`# skopeo's first push failed after the kill (${firstAttempt.message.trim().split('\n').at(-1)}); pushing again`);
      await push();
    }
    remember('team/big', 'v1');
    const afterKill = proxy.requests.filter((request) => request.path.startsWith('/v2/team/big/'));
    assert.ok(afterKill.some((request) => request.server !== victim && request.method === 'PUT' && request.status === 201), 'the push completed on a surviving replica');
    // The killed replica comes back on its own data folder (its lock was held by a dead process).
    await replicas[index]!.stop();
    replicas[index] = await startWharf({ dataDir: dataDirs[index]!, env });
  });

  test('nothing is lost: every pushed manifest and blob is readable through every replica', async () => {
    let checked = 0;
    // One token, issued by one replica, accepted by all three (the restarted one included).
    const issued = await fetchToken(replicas.at(-1)!.url, [...pushed.keys()].map((repository) => `repository:${repository}:pull`), basic(ADMIN, ADMIN_PASSWORD));
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    const authorization = `Bearer ${issued.token!}`;
    for (const replica of replicas) {
      for (const [repository, tags] of pushed) {
        for (const tag of tags) {
          const manifestResponse = await fetch(`${replica.url}/v2/${repository}/manifests/${tag}`, { headers: { accept: MANIFEST_TYPES, authorization } });
          assert.equal(manifestResponse.status, 200, `${replica.host} ${repository}:${tag}`);
          const bytes = Buffer.from(await manifestResponse.arrayBuffer());
          assert.equal(manifestResponse.headers.get('docker-content-digest'), sha256Of(bytes));
          const manifest = JSON.parse(bytes.toString()) as Manifest;
          const blobs = [manifest.config?.digest, ...(manifest.layers ?? []).map((layer) => layer.digest)].filter((d) => d !== undefined);
          assert.ok(blobs.length >= 2, `${repository}:${tag} has a config and layers`);
          for (const digest of blobs) {
            const blob = await fetch(`${replica.url}/v2/${repository}/blobs/${digest}`, { headers: { authorization } });
            assert.equal(blob.status, 200, `${replica.host} ${repository}@${digest}`);
            const hash = createHash('sha256');
            for await (const chunk of blob.body!) hash.update(chunk);
            assert.equal(`sha256:${hash.digest('hex')}`, digest, `${replica.host} ${repository}@${digest}`);
            checked++;
          }
        }
      }
    }
    assert.ok(checked >= 3 * 2 * 6, `checked ${checked} blobs`);
  });
});
