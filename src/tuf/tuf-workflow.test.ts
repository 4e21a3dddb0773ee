import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tuf } from './testing/run-tuf.ts';
import { startTufRegistry, repointTagInDatabase, type TufRegistry } from './testing/tuf-registry.ts';
import { pushTestImage } from '../supplychain/testing/supplychain-registry.ts';

describe('wharf tuf: init, delegate, publish, verify end to end', () => {
  let registry: TufRegistry;
  let folder: string;
  let image: { digest: string };
  let other: { digest: string };
  const saved = { ...process.env };

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'wharf-tuf-cli-'));
    process.env.XDG_CACHE_HOME = join(folder, 'cache');
    process.env.XDG_CONFIG_HOME = join(folder, 'config');
    delete process.env.WHARF_SERVER; delete process.env.WHARF_DATA; delete process.env.WHARF_USERNAME; delete process.env.WHARF_PASSWORD;
    registry = await startTufRegistry();
    image = await pushTestImage(registry.url, 'team-a/app', 'v1');
    other = await pushTestImage(registry.url, 'team-a/app', 'other');
  });
  after(async () => {
    process.env = saved;
    await registry?.dispose();
    await rm(folder, { recursive: true, force: true });
  });

  it('init makes the team keys (0600), the root and the first snapshot and timestamp', async () => {
    const result = await tuf(['init', 'team-a', '--server', registry.url, '--root-key', join(folder, 'root1.json'), '--targets-key', join(folder, 'targets1.json'), '--root-out', join(folder, 'team-a.root.json')]);
    assert.equal(result.code, 0, result.err);
    assert.equal((await stat(join(folder, 'root1.json'))).mode & 0o777, 0o600);
    const root = JSON.parse(await readFile(join(folder, 'team-a.root.json'), 'utf8'));
    assert.equal(root.signed._type, 'root');
    assert.equal(root.signed.version, 1);
    const timestamp = await (await fetch(`${registry.url}/api/v1/tuf/team-a/metadata/timestamp.json`)).json() as any;
    assert.equal(timestamp.signed._type, 'timestamp');
    assert.equal(timestamp.signed.meta['snapshot.json'].version, 1);
  });

  it('delegate + publish records the pushed tag as a target; verify passes; a repointed tag is refused', async () => {
    const ci = join(folder, 'ci.json');
    assert.equal((await tuf(['keygen', ci])).code, 0);
    const delegated = await tuf(['delegate', 'team-a', 'ci', '--server', registry.url, '--path', 'team-a/*', '--key', ci, '--targets-key', join(folder, 'targets1.json')]);
    assert.equal(delegated.code, 0, delegated.err);
    const published = await tuf(['publish', 'team-a', 'team-a/app:v1', '--server', registry.url, '--role', 'ci', '--key', ci]);
    assert.equal(published.code, 0, published.err);
    const clientDir = join(folder, 'client');
    const verified = await tuf(['verify', `${registry.host}/team-a/app:v1`, '--root', join(folder, 'team-a.root.json'), '--metadata-dir', clientDir]);
    assert.equal(verified.code, 0, verified.err);
    assert.match(verified.out, new RegExp(image.digest));

    // Behind TUF's back: the registry's database now says v1 is another (real, pushed) manifest.
    await registry.stop();
    repointTagInDatabase(registry.dataDir, 'team-a/app', 'v1', other.digest);
    registry = await startTufRegistry({}, registry.dataDir);
    const refused = await tuf(['verify', `${registry.host}/team-a/app:v1`, '--metadata-dir', clientDir, '--json']);
    assert.equal(refused.code, 1);
    const outcome = JSON.parse(refused.out);
    assert.equal(outcome.ok, false);
    assert.equal(outcome.served.digest, other.digest);
    assert.equal(outcome.target.digest, image.digest);
  });
});
