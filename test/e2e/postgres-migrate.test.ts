// `wharf migrate --to postgres://…`: a registry that ran on SQLite moves into PostgreSQL and
// then serves the same repositories, tags, manifests (not one digest changed), referrers, blobs,
// policies and decision log, with its SQLite metadata file gone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresSkip, startPostgres, type RunningPostgres } from '../support/postgres.ts';
import { REPO_ROOT, startWharf, type RunningRegistry } from './harness.ts';
import { OCI_IMAGE_MANIFEST, pushBlob, pushSmallImage, putManifest, sha256Of } from './registry-http.ts';

const NODE = join(REPO_ROOT, 'node_modules', '.bin', 'node');

function wharf(...args: string[]): { code: number | null; out: string; err: string } {
  const result = spawnSync(NODE, [join(REPO_ROOT, 'src', 'cli', 'wharf.mjs'), ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

/** What a client sees of the registry: everything that must survive the move unchanged. */
async function snapshot(registry: RunningRegistry, subject: string): Promise<Record<string, unknown>> {
  const get = async (path: string, accept = OCI_IMAGE_MANIFEST) => {
    const response = await fetch(`${registry.url}${path}`, { headers: { accept } });
    const body = Buffer.from(await response.arrayBuffer());
    return { status: response.status, digest: response.headers.get('docker-content-digest'), sha: sha256Of(body), text: body.toString('utf8', 0, 2000) };
  };
  const catalog = await get('/v2/_catalog');
  const tags = await get('/v2/team/app/tags/list');
  const manifests = await Promise.all(['v1', 'v2', 'v3'].map((tag) => get(`/v2/team/app/manifests/${tag}`)));
  const referrers = JSON.parse((await get(`/v2/team/app/referrers/${subject}`, 'application/vnd.oci.image.index.v1+json')).text) as { manifests: unknown[] };
  const config = JSON.parse(manifests[0]!.text) as { config: { digest: string } };
  const blob = await get(`/v2/team/app/blobs/${config.config.digest}`, '*/*');
  const policies = (await (await fetch(`${registry.url}/api/v1/policies`)).json() as { name: string; version: number; revision: string }[])
    .map(({ name, version, revision }) => ({ name, version, revision }));
  const decisions = (await (await fetch(`${registry.url}/api/v1/decisions?limit=100`)).json() as { id: string; allowed: boolean }[])
    .map(({ id, allowed }) => ({ id, allowed }));
  return { catalog: catalog.text, tags: tags.text, manifests, referrers: referrers.manifests, blob, policies, decisions };
}

describe('wharf migrate --to postgres://', { skip: postgresSkip() }, () => {
  let postgres: RunningPostgres;
  let dataDir: string;
  before(async () => {
    postgres = await startPostgres();
    dataDir = await mkdtemp(join(tmpdir(), 'wharf-migrate-'));
  });
  after(async () => {
    await postgres?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('moves a SQLite registry into PostgreSQL without changing what clients see', async () => {
    // On SQLite whatever WHARF_TEST_METADATA says: that is what is migrated.
    const embedded = await startWharf({ dataDir, env: { WHARF_METADATA_POSTGRES_URL: '' } });
    let before: Record<string, unknown>;
    let subject: string;
    try {
      const v1 = await pushSmallImage(embedded.url, 'team/app', 'v1', 'one');
      await pushSmallImage(embedded.url, 'team/app', 'v2', 'two');
      await pushSmallImage(embedded.url, 'other/tool', 'stable', 'three');
      subject = v1.digest;
      const empty = await pushBlob(embedded.url, 'team/app', Buffer.from('{}'));
      const sbom = await pushBlob(embedded.url, 'team/app', Buffer.from('{"spdxVersion":"SPDX-2.3"}'));
      const referrer = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: OCI_IMAGE_MANIFEST, artifactType: 'application/spdx+json',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', ...empty }, layers: [{ mediaType: 'application/spdx+json', ...sbom }],
        subject: { mediaType: OCI_IMAGE_MANIFEST, digest: v1.digest, size: v1.size }, annotations: { 'org.example': 'sbom' },
      }));
      await putManifest(embedded.url, 'team/app', sha256Of(referrer), OCI_IMAGE_MANIFEST, referrer);
      const source = await readFile(join(REPO_ROOT, 'policies', 'no-latest', 'policy.rego'), 'utf8');
      const put = await fetch(`${embedded.url}/api/v1/policies/no-latest`, {
        method: 'PUT', body: JSON.stringify({ package: 'wharf.policies.no_latest', modules: [{ file: 'no-latest.rego', source }], binding: { points: ['push'] } }),
      });
      assert.equal(put.status, 201, await put.text());
      await new Promise((resolve) => setTimeout(resolve, 1100)); // the engine loads the new generation
      await pushSmallImage(embedded.url, 'team/app', 'v3', 'four'); // an allowed push: a decision to carry over
      before = await snapshot(embedded, subject);
      assert.deepEqual((before.manifests as { status: number }[]).map((m) => m.status), [200, 200, 200]);
      assert.equal((before.blob as { status: number }).status, 200);
      assert.equal((before.referrers as unknown[]).length, 1);
      assert.ok((before.decisions as unknown[]).length > 0, 'the decision log has entries to move');
    } finally {
      await embedded.stop();
    }

    const url = await postgres.createDatabase();
    const migrated = wharf('migrate', '--to', url, '--data', dataDir);
    assert.equal(migrated.code, 0, migrated.err);
    assert.match(migrated.out, /2 repositories, \d+ blobs, 5 manifests, 4 tags, 0 upload sessions, 1 policies \(1 versions\)/);
    const again = wharf('migrate', '--to', url, '--data', dataDir);
    assert.equal(again.code, 1);
    assert.match(again.err, /already holds a registry/);

    // Without its SQLite files, the server can only be answering from PostgreSQL.
    await rm(join(dataDir, 'metadata.db'));
    await rm(join(dataDir, 'policy.db'));
    const onPostgres = await startWharf({ dataDir, env: { WHARF_METADATA_POSTGRES_URL: url } });
    try {
      assert.deepEqual(await snapshot(onPostgres, subject), before);
      await assert.rejects(pushSmallImage(onPostgres.url, 'team/app', 'latest', 'five'), /403/);
    } finally {
      await onPostgres.stop();
    }
  });

  test('refuses a --to that is not a PostgreSQL URL, and a data folder without a registry', async () => {
    const wrong = wharf('migrate', '--to', 'mysql://db/wharf', '--data', dataDir);
    assert.equal(wrong.code, 2);
    assert.match(wrong.err, /--to must be a postgres:\/\/ or postgresql:\/\/ URL/);
    const empty = await mkdtemp(join(tmpdir(), 'wharf-migrate-empty-'));
    try {
      const nothing = wharf('migrate', '--to', await postgres.createDatabase(), '--data', empty);
      assert.equal(nothing.code, 1);
      assert.match(nothing.err, /metadata\.db does not exist: nothing to migrate/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
