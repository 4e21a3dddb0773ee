// Wharf with its registry metadata in PostgreSQL (metadata.postgres.url): skopeo's round trip on
// one server, then two servers on the same database, where a tag moved or a manifest deleted on
// one is seen by the other at once (its tag cache hears of it through LISTEN/NOTIFY).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { postgresSkip, startPostgres, type RunningPostgres } from '../support/postgres.ts';
import { createToolSandbox, missingToolReason, skopeo, type ToolSandbox } from './container-tools.ts';
import { REPO_ROOT, startWharf, type RunningRegistry } from './harness.ts';
import { buildUmociImage, initLayout, readLayoutBlob, layoutDescriptor, type Descriptor } from './oci-layout.ts';
import { OCI_IMAGE_MANIFEST, pushSmallImage, putManifest, sha256Of } from './registry-http.ts';

const plainHttp = '--tls-verify=false';

async function tagsInDatabase(url: string, repository: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT t.name FROM tags t JOIN repositories r ON r.id = t.repository_id
      WHERE r.name = $1 ORDER BY t.name`, [repository]);
    return rows.map((row) => row.name as string);
  } finally {
    await client.end();
  }
}

async function digestOfTag(registry: RunningRegistry, repository: string, tag: string): Promise<string | undefined> {
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD', headers: { accept: OCI_IMAGE_MANIFEST }, signal: AbortSignal.timeout(10_000),
  });
  if (response.status === 404) return undefined;
  assert.equal(response.status, 200, `HEAD ${repository}:${tag}`);
  return response.headers.get('docker-content-digest') ?? undefined;
}

/** Milliseconds until `registry` resolves the tag to `expected` (undefined: gone), polling; fails after 5 s. */
async function msUntilSeen(registry: RunningRegistry, repository: string, tag: string, expected: string | undefined, since: number): Promise<number> {
  for (;;) {
    if ((await digestOfTag(registry, repository, tag)) === expected) return performance.now() - since;
    if (performance.now() - since > 5000) assert.fail(`${registry.url} still does not resolve ${repository}:${tag} to ${expected ?? 'nothing'} after 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('Wharf on PostgreSQL metadata', { skip: postgresSkip() }, () => {
  let postgres: RunningPostgres;
  before(async () => {
    postgres = await startPostgres();
  });
  after(() => postgres?.stop());

  describe('skopeo round trip', { skip: missingToolReason(['skopeo', 'umoci']) }, () => {
    let databaseUrl: string;
    let registry: RunningRegistry;
    let sandbox: ToolSandbox;
    let layout: string;
    let image: Descriptor;
    const ref = (tag: string) => `docker://${registry.host}/pg/app:${tag}`;

    before(async () => {
      databaseUrl = await postgres.createDatabase();
      sandbox = await createToolSandbox();
      registry = await startWharf({ env: { WHARF_METADATA_POSTGRES_URL: databaseUrl } });
      layout = join(sandbox.dir, 'layout');
      await initLayout(sandbox, layout);
      image = await buildUmociImage(sandbox, layout, 'v1', 'amd64');
    });
    after(async () => {
      await registry?.stop();
      await sandbox?.dispose();
    });

    test('skopeo copy, inspect and copy back; the tags live in PostgreSQL', async () => {
      await skopeo(sandbox, ['copy', '--dest-tls-verify=false', `oci:${layout}:v1`, ref('v1')]);
      await skopeo(sandbox, ['copy', '--dest-tls-verify=false', `oci:${layout}:v1`, ref('stable')]);
      const inspected = JSON.parse(await skopeo(sandbox, ['inspect', plainHttp, ref('v1')])) as { Digest: string };
      assert.equal(inspected.Digest, image.digest);
      assert.equal(await skopeo(sandbox, ['inspect', plainHttp, '--raw', ref('stable')]), (await readLayoutBlob(layout, image.digest)).toString());
      const back = join(sandbox.dir, 'pulled');
      await skopeo(sandbox, ['copy', '--src-tls-verify=false', ref('v1'), `oci:${back}:v1`]);
      assert.equal((await layoutDescriptor(back, 'v1')).digest, image.digest);
      const listed = JSON.parse(await skopeo(sandbox, ['list-tags', plainHttp, `docker://${registry.host}/pg/app`])) as { Tags: string[] };
      assert.deepEqual(listed.Tags.sort(), ['stable', 'v1']);
      assert.deepEqual(await tagsInDatabase(databaseUrl, 'pg/app'), ['stable', 'v1']);
    });

    test('skopeo delete removes the manifest for every reader of the database', async () => {
      await skopeo(sandbox, ['delete', plainHttp, ref('v1')]);
      await assert.rejects(skopeo(sandbox, ['inspect', plainHttp, '--raw', ref('stable')]), /manifest unknown|not found|404/i);
      assert.deepEqual(await tagsInDatabase(databaseUrl, 'pg/app'), []);
    });
  });

  test('a server whose PostgreSQL cannot be reached stops at start, naming the key and the address but not the password', async () => {
    const url = `postgres://wharf:s3cret-password@127.0.0.1:${postgres.port}/no_such_database`;
    await assert.rejects(startWharf({ env: { WHARF_METADATA_POSTGRES_URL: url } }), (error: Error) => {
      assert.match(error.message, /exited before ready/);
      assert.ok(error.message.includes(`PostgreSQL at 127.0.0.1:${postgres.port}/no_such_database (metadata.postgres.url)`), error.message);
      assert.match(error.message, /database "no_such_database" does not exist/);
      assert.doesNotMatch(error.message, /s3cret-password/);
      return true;
    });
  });

  test('while PostgreSQL is down, requests get 503 UNAVAILABLE with Retry-After (clients retry), not 500', async () => {
    // A cluster of its own, stopped under the running server.
    const doomed = await startPostgres();
    let registry: RunningRegistry | undefined;
    try {
      registry = await startWharf({ env: { WHARF_METADATA_POSTGRES_URL: await doomed.createDatabase() } });
      const pushed = await pushSmallImage(registry.url, 'team/app', 'v1', 'outage');
      await doomed.stop();
      for (const path of [`/v2/team/app/manifests/${pushed.digest}`, '/v2/team/app/tags/list', '/v2/_catalog']) {
        const response = await fetch(`${registry.url}${path}`, { headers: { accept: OCI_IMAGE_MANIFEST } });
        const body = await response.json() as { errors: { code: string }[] };
        assert.equal(response.status, 503, path);
        assert.equal(response.headers.get('retry-after'), '1', path);
        assert.deepEqual(body.errors.map((error) => error.code), ['UNAVAILABLE'], path);
      }
      assert.equal((await fetch(`${registry.url}/readyz`)).status, 503);
    } finally {
      await registry?.stop();
      await doomed.stop();
    }
  });

  // The filesystem blob store belongs to one process (a replica starting purges the staged data
  // it finds without a session); a blob folder shared here stands in for a shared blob store, to
  // show that the upload service continues on one replica what another started.
  test('an upload\'s chunks go to different replicas sharing a blob store, and it completes on another', async () => {
    const url = await postgres.createDatabase();
    const root = await mkdtemp(join(tmpdir(), 'wharf-shared-blobs-'));
    const servers: RunningRegistry[] = [];
    try {
      await mkdir(join(root, 'blobs'));
      for (const name of ['a', 'b']) {
        await mkdir(join(root, name));
        await symlink(join(root, 'blobs'), join(root, name, 'blobs'));
        servers.push(await startWharf({ dataDir: join(root, name), env: { WHARF_METADATA_POSTGRES_URL: url } }));
      }
      const [a, b] = servers as [RunningRegistry, RunningRegistry];
      const body = Buffer.from(Array.from({ length: 3 * 64 * 1024 }, (_, n) => (n * 31) % 251));
      const started = await fetch(`${a.url}/v2/team/app/blobs/uploads/`, { method: 'POST' });
      assert.equal(started.status, 202);
      let location = started.headers.get('location')!;
      // Chunk 1 to A, chunk 2 to B, chunk 3 to A again (its running hash is now behind: it must notice).
      for (const [n, server] of [a, b, a].entries()) {
        const chunk = body.subarray(n * 64 * 1024, (n + 1) * 64 * 1024);
        const patched = await fetch(new URL(location, server.url), {
          method: 'PATCH', body: chunk,
          headers: { 'content-type': 'application/octet-stream', 'content-range': `${n * 64 * 1024}-${(n + 1) * 64 * 1024 - 1}` },
        });
        assert.equal(patched.status, 202, `chunk ${n + 1}: ${await patched.text()}`);
        location = patched.headers.get('location')!;
      }
      const status = await fetch(new URL(location, b.url));
      assert.equal(status.headers.get('range'), `0-${body.length - 1}`);
      const done = new URL(location, b.url);
      done.searchParams.set('digest', sha256Of(body));
      const committed = await fetch(done, { method: 'PUT' });
      assert.equal(committed.status, 201, await committed.text());
      const pulled = await fetch(`${a.url}/v2/team/app/blobs/${sha256Of(body)}`);
      assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(body));
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
      await rm(root, { recursive: true, force: true });
    }
  });

  describe('two servers on one database', () => {
    let first: RunningRegistry;
    let second: RunningRegistry;
    before(async () => {
      const url = await postgres.createDatabase();
      // Each has its own data folder (it holds local state and, with other stores, a lock); the
      // tags and manifests they serve come from the shared database.
      [first, second] = await Promise.all([
        startWharf({ env: { WHARF_METADATA_POSTGRES_URL: url } }),
        startWharf({ env: { WHARF_METADATA_POSTGRES_URL: url } }),
      ]);
    });
    after(async () => {
      await Promise.all([first?.stop(), second?.stop()]);
    });

    test('a tag moved on one is served by the other within 100 ms, though it had the old one cached', async () => {
      const repository = 'team/app';
      const images = [];
      for (let n = 0; n < 6; n++) images.push(await pushSmallImage(first.url, repository, `build-${n}`, `seed-${n}`));
      await putManifest(first.url, repository, 'latest', OCI_IMAGE_MANIFEST, images[0]!.bytes);
      const latencies: number[] = [];
      for (let n = 1; n < images.length; n++) {
        // The second server resolves the tag (and caches it) before it moves.
        assert.equal(await digestOfTag(second, repository, 'latest'), images[n - 1]!.digest);
        assert.equal(await digestOfTag(second, repository, 'latest'), images[n - 1]!.digest);
        await putManifest(first.url, repository, 'latest', OCI_IMAGE_MANIFEST, images[n]!.bytes);
        latencies.push(await msUntilSeen(second, repository, 'latest', images[n]!.digest, performance.now()));
      }
      // The median, so one scheduling hiccup on a shared machine does not decide the outcome.
      const median = latencies.sort((a, b) => a - b)[Math.floor(latencies.length / 2)]!;
      assert.ok(median < 100, `tag moves took ${latencies.map((ms) => ms.toFixed(1)).join(', ')} ms to reach the other server`);
    });

    test('a manifest deleted on one is gone from the other, with the tags that pointed at it', async () => {
      const repository = 'team/delete';
      const pushed = await pushSmallImage(first.url, repository, 'v1', 'delete-me');
      assert.equal(await digestOfTag(second, repository, 'v1'), pushed.digest);
      const deleted = await fetch(`${first.url}/v2/${repository}/manifests/${pushed.digest}`, { method: 'DELETE' });
      assert.equal(deleted.status, 202);
      const ms = await msUntilSeen(second, repository, 'v1', undefined, performance.now());
      assert.ok(ms < 1000, `took ${ms.toFixed(1)} ms`);
    });

    test('a policy put through one is listed and enforced by the other', async () => {
      const source = await readFile(join(REPO_ROOT, 'policies', 'no-latest', 'policy.rego'), 'utf8');
      const put = await fetch(`${first.url}/api/v1/policies/no-latest`, {
        method: 'PUT',
        body: JSON.stringify({ package: 'wharf.policies.no_latest', modules: [{ file: 'no-latest.rego', source }], binding: { points: ['push'] } }),
      });
      assert.equal(put.status, 201, await put.text());
      const listed = await (await fetch(`${second.url}/api/v1/policies`)).json() as { name: string; version: number }[];
      assert.deepEqual(listed.map((policy) => [policy.name, policy.version]), [['no-latest', 1]]);
      // The other replica reloads its policies when it sees the store's generation change.
      const deadline = performance.now() + 10_000;
      for (;;) {
        const pushed = await pushSmallImage(second.url, 'team/policed', 'latest', 'policed').then(() => 'accepted', (error: Error) => error.message);
        if (pushed.includes('DENIED') || pushed.includes('403')) break;
        assert.ok(performance.now() < deadline, `the second server still accepts :latest 10 s after the policy was put on the first (${pushed})`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
  });
});
