// The TUF endpoints: bad input answered in the registry's error JSON, access with authentication
// on, hashed bins, the timestamp schedule, sealed online keys, and the facts policies read.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTufRegistry, type TufRegistry } from './testing/tuf-registry.ts';
import { startAuthRegistry, basic, type AuthRegistry } from '../../test/support/auth-fixture.ts';
import { pushImage } from '../../test/support/registry-fixture.ts';
import { tuf } from './testing/run-tuf.ts';
import { pushTestImage } from '../supplychain/testing/supplychain-registry.ts';

function isolate(folder: string): () => void {
  const saved = { ...process.env };
  process.env.XDG_CACHE_HOME = join(folder, 'cache');
  process.env.XDG_CONFIG_HOME = join(folder, 'config');
  for (const name of ['WHARF_SERVER', 'WHARF_DATA', 'WHARF_USERNAME', 'WHARF_PASSWORD', 'WHARF_CONFIG']) delete process.env[name];
  return () => { process.env = saved; };
}

async function errorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
  const body = await response.json() as { errors: { code: string; message: string }[] };
  return { status: response.status, code: body.errors[0]!.code, message: body.errors[0]!.message };
}

describe('TUF API: bad input gets a clear error, never a 500', () => {
  let registry: TufRegistry;
  let folder: string;
  let restore: () => void;
  const post = (path: string, body: string) => fetch(`${registry.url}/api/v1/tuf/${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'wharf-tuf-api-'));
    restore = isolate(folder);
    registry = await startTufRegistry();
    await pushTestImage(registry.url, 'team-a/app', 'v1');
    await pushTestImage(registry.url, 'team-a/lib', 'v1');
  });
  after(async () => {
    restore();
    await registry.dispose();
    await rm(folder, { recursive: true, force: true });
  });

  it('refuses targets before init, non-JSON, wrong metadata types, bad names and unknown files', async () => {
    const unsigned = { signed: { _type: 'targets', spec_version: '1.0.31', version: 1, expires: '2099-01-01T00:00:00Z', targets: {} }, signatures: [] };
    const beforeInit = await errorOf(await post('team-a/publish', JSON.stringify({ targets: { targets: unsigned } })));
    assert.deepEqual([beforeInit.status, beforeInit.code], [404, 'NOT_FOUND']);
    assert.match(beforeInit.message, /no TUF repository yet: run `wharf tuf init team-a`/);
    const malformed = await errorOf(await post('team-a/publish', JSON.stringify({ targets: { targets: { signed: { _type: 'targets' }, signatures: [] } } })));
    assert.deepEqual([malformed.status, malformed.code], [400, 'BAD_REQUEST']);
    assert.match(malformed.message, /targets metadata is not valid TUF metadata/);
    const notJson = await errorOf(await post('team-a/publish', '{'));
    assert.deepEqual([notJson.status, notJson.code], [400, 'BAD_REQUEST']);
    const wrongType = await errorOf(await post('team-a/publish', JSON.stringify({ root: { signed: { _type: 'targets' }, signatures: [] } })));
    assert.match(wrongType.message, /root is not root metadata/);
    const empty = await errorOf(await post('team-a/publish', '{}'));
    assert.match(empty.message, /nothing to publish/);
    const badRole = await errorOf(await post('team-a/publish', JSON.stringify({ targets: { 'Bad/Role': {} } })));
    assert.match(badRole.message, /not a role name/);
    const badNamespace = await errorOf(await fetch(`${registry.url}/api/v1/tuf/Team_A/metadata/timestamp.json`));
    assert.deepEqual([badNamespace.status, badNamespace.code], [400, 'NAME_INVALID']);
    const missing = await errorOf(await fetch(`${registry.url}/api/v1/tuf/team-a/metadata/timestamp.json`));
    assert.deepEqual([missing.status, missing.code], [404, 'NOT_FOUND']);
    const weird = await errorOf(await fetch(`${registry.url}/api/v1/tuf/team-a/metadata/..%2Froot.json`));
    assert.equal(weird.status, 404);
    const rotate = await errorOf(await post('team-a/online-keys?rotate=root', ''));
    assert.deepEqual([rotate.status, rotate.code], [400, 'BAD_REQUEST']);
    const method = await fetch(`${registry.url}/api/v1/tuf/team-a/publish`);
    assert.equal(method.status, 405);
  });

  it('refuses targets outside the namespace or the delegated paths, and versions that are not newer', async () => {
    const server = ['--server', registry.url];
    const key = (name: string) => join(folder, `${name}.json`);
    assert.equal((await tuf(['init', 'team-a', ...server, '--root-key', key('root'), '--targets-key', key('targets'), '--root-out', join(folder, 'root.json')])).code, 0);
    assert.equal((await tuf(['keygen', key('app')])).code, 0);
    assert.equal((await tuf(['delegate', 'team-a', 'app', ...server, '--path', 'team-a/app:*', '--key', key('app'), '--targets-key', key('targets')])).code, 0);
    // The app role signs team-a/lib:v1 by hand, which its delegation does not cover.
    const out = join(folder, 'batch.json');
    assert.equal((await tuf(['publish', 'team-a', 'team-a/app:v1', ...server, '--role', 'app', '--key', key('app'), '--out', out])).code, 0);
    const batch = JSON.parse(await readFile(out, 'utf8'));
    const published = await post('team-a/publish', JSON.stringify(batch));
    assert.equal(published.status, 200, await published.clone().text());
    const again = await errorOf(await post('team-a/publish', JSON.stringify(batch)));
    assert.deepEqual([again.status, again.code], [409, 'CONFLICT']);
    assert.match(again.message, /not newer than the published version/);

    // The CLI refuses a path the role is not delegated…
    await assert.rejects(tuf(['publish', 'team-a', 'team-a/lib:v1', ...server, '--role', 'app', '--key', key('app')]), /team-a\/lib:v1 is not among the paths delegated to app \(team-a\/app:\*\)/);
    // …and the registry refuses one signed by hand.
    const target = batch.targets.app.signed.targets['team-a/app:v1'];
    batch.targets.app.signed.targets['team-a/lib:v1'] = target;
    batch.targets.app.signed.version += 1;
    batch.targets.app.signatures = [];
    await writeFile(out, JSON.stringify(batch));
    assert.equal((await tuf(['sign', out, '--key', key('app')])).code, 0);
    const stray = await errorOf(await post('team-a/publish', await readFile(out, 'utf8')));
    assert.deepEqual([stray.status, stray.code], [400, 'BAD_REQUEST']);
    assert.match(stray.message, /target "team-a\/lib:v1" is not among the paths delegated to app/);
    // Signed by a key the delegation does not name.
    delete batch.targets.app.signed.targets['team-a/lib:v1'];
    batch.targets.app.signatures = [];
    await writeFile(out, JSON.stringify(batch));
    assert.equal((await tuf(['sign', out, '--key', key('targets')])).code, 0);
    const forged = await errorOf(await post('team-a/publish', await readFile(out, 'utf8')));
    assert.match(forged.message, /app metadata version 3 is not signed by a threshold of app's keys/);
    // A namespace without a TUF repository takes nothing.
    const outside = await errorOf(await post('other/publish', JSON.stringify({ targets: { targets: batch.targets.app } })));
    assert.equal(outside.status, 404);
  });
});

describe('TUF API with authentication on', () => {
  let registry: AuthRegistry;
  let folder: string;
  let restore: () => void;
  const PASSWORD = 'pass-word-123';
  const as = (user: string) => { process.env.WHARF_USERNAME = user; process.env.WHARF_PASSWORD = PASSWORD; };
  const key = (name: string) => join(folder, `${name}.json`);

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'wharf-tuf-auth-'));
    restore = isolate(folder);
    registry = await startAuthRegistry();
    await registry.admin.addUser('root', PASSWORD, true);
    for (const role of ['reader', 'writer']) {
      await registry.admin.addUser(role, PASSWORD);
      await registry.admin.setMembership('team-a', { kind: 'user', name: role }, role);
    }
    await registry.admin.addUser('outsider', PASSWORD);
    await pushImage(registry.url, 'team-a/app', 'v1', {}, { authorization: basic('root', PASSWORD) });
    as('root');
    const server = ['--server', registry.url];
    assert.equal((await tuf(['init', 'team-a', ...server, '--root-key', key('root'), '--targets-key', key('targets'), '--root-out', join(folder, 'root.json')])).code, 0);
    assert.equal((await tuf(['keygen', key('ci')])).code, 0);
    assert.equal((await tuf(['delegate', 'team-a', 'ci', ...server, '--path', 'team-a/*', '--key', key('ci'), '--targets-key', key('targets')])).code, 0);
  });
  after(async () => {
    restore();
    await registry.close();
    await rm(folder, { recursive: true, force: true });
  });

  it('reading metadata needs pull access to the namespace', async () => {
    const url = `${registry.url}/api/v1/tuf/team-a/metadata/timestamp.json`;
    assert.equal((await fetch(url)).status, 401);
    assert.deepEqual((await errorOf(await fetch(url, { headers: { authorization: basic('outsider', PASSWORD) } }))).code, 'DENIED');
    assert.equal((await fetch(url, { headers: { authorization: basic('reader', PASSWORD) } })).status, 200);
  });

  it('online keys and the timestamp are for administrators; a delegated role publishes with push access only', async () => {
    for (const path of ['online-keys', 'timestamp']) {
      const response = await fetch(`${registry.url}/api/v1/tuf/team-a/${path}`, { method: 'POST', headers: { authorization: basic('writer', PASSWORD) } });
      assert.equal(response.status, 403, path);
    }
    const outsider = await fetch(`${registry.url}/api/v1/tuf/team-a/publish`, { method: 'POST', body: '{}', headers: { authorization: basic('outsider', PASSWORD) } });
    assert.deepEqual([outsider.status, (await errorOf(outsider)).message], [403, 'no access to namespace team-a']);
    const server = ['--server', registry.url];
    as('reader');
    await assert.rejects(tuf(['publish', 'team-a', 'team-a/app:v1', ...server, '--role', 'ci', '--key', key('ci')]), /no push access to team-a\/app/);
    as('writer');
    const published = await tuf(['publish', 'team-a', 'team-a/app:v1', ...server, '--role', 'ci', '--key', key('ci')]);
    assert.equal(published.code, 0, published.err);
    // Top-level metadata stays the administrators' even for a writer holding the targets key.
    await assert.rejects(tuf(['delegate', 'team-a', 'other', ...server, '--path', 'team-a/x:*', '--key', key('ci'), '--targets-key', key('targets')]), /not an administrator/);
  });

  it('verify fetches metadata and the manifest with the caller\'s credentials', async () => {
    as('reader');
    const verified = await tuf(['verify', `${new URL(registry.url).host}/team-a/app:v1`, '--root', join(folder, 'root.json'), '--metadata-dir', join(folder, 'reader-client')]);
    assert.equal(verified.code, 0, verified.err);
    as('outsider');
    const refused = await tuf(['verify', `${new URL(registry.url).host}/team-a/app:v1`, '--root', join(folder, 'root.json'), '--metadata-dir', join(folder, 'outsider-client')]);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /HTTP 403/);
  });
});
