import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tuf } from './testing/run-tuf.ts';
import { startTufRegistry, repointTagInDatabase, type TufRegistry } from './testing/tuf-registry.ts';
import { pushTestImage } from '../supplychain/testing/supplychain-registry.ts';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const TUF_POLICY = `package wharf.tuf

deny contains msg if {
	input.trust.tuf.enabled
	input.artifact.tag != null
	not tuf_names_tag
	msg := sprintf("%s:%s is not the artifact TUF names for %s:%s", [input.artifact.repository, input.artifact.digest, input.artifact.repository, input.artifact.tag])
}

tuf_names_tag if {
	some target in input.trust.tuf.targets
	target.tag == input.artifact.tag
}
`;

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

    // A pull gate that wants the tag's digest to be the one TUF names (docs/policy-input.md: input.trust.tuf).
    const policy = await fetch(`${registry.url}/api/v1/policies/tuf-tags`, {
      method: 'PUT', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ package: 'wharf.tuf', modules: [{ file: 'tuf.rego', source: TUF_POLICY }], binding: { points: ['pull'], namespaces: ['team-a'] } }),
    });
    assert.equal(policy.status, 201, await policy.text());
    assert.equal((await fetch(`${registry.url}/v2/team-a/app/manifests/v1`, { headers: { accept: MANIFEST } })).status, 200);

    // Behind TUF's back: the registry's database now says v1 is another (real, pushed) manifest.
    await registry.stop();
    repointTagInDatabase(registry.dataDir, 'team-a/app', 'v1', other.digest);
    registry = await startTufRegistry({}, registry.dataDir);
    // The pull gate refuses the repointed tag…
    const pull = await fetch(`${registry.url}/v2/team-a/app/manifests/v1`, { headers: { accept: MANIFEST } });
    assert.equal(pull.status, 403);
    assert.match(await pull.text(), /not the artifact TUF names for team-a\/app:v1/);
    // …and without the gate, the client refuses it on its own.
    assert.equal((await fetch(`${registry.url}/api/v1/policies/tuf-tags`, { method: 'DELETE' })).status, 204);
    const refused = await tuf(['verify', `${registry.host}/team-a/app:v1`, '--metadata-dir', clientDir, '--json']);
    assert.equal(refused.code, 1);
    const outcome = JSON.parse(refused.out);
    assert.equal(outcome.ok, false);
    assert.equal(outcome.served.digest, other.digest);
    assert.equal(outcome.target.digest, image.digest);
  });

  it('hashed bins: a role split into 16 bins signs each target in its bin, and verify walks to it', async () => {
    const bulk = join(folder, 'bulk.json');
    assert.equal((await tuf(['keygen', bulk])).code, 0);
    const delegated = await tuf(['delegate', 'team-a', 'bulk', '--server', registry.url, '--path', 'team-a/bulk:*', '--key', bulk, '--bins', '16', '--targets-key', join(folder, 'targets1.json'), '--root', join(folder, 'team-a.root.json')]);
    assert.equal(delegated.code, 0, delegated.err);
    const pushed = [];
    for (const tag of ['a', 'b', 'c', 'd']) pushed.push(await pushTestImage(registry.url, 'team-a/bulk', tag));
    const published = await tuf(['publish', 'team-a', 'team-a/bulk:a', 'team-a/bulk:b', 'team-a/bulk:c', 'team-a/bulk:d', '--server', registry.url, '--role', 'bulk', '--key', bulk]);
    assert.equal(published.code, 0, published.err);
    const snapshot = await (await fetch(`${registry.url}/api/v1/tuf/team-a/metadata/snapshot.json`)).json() as any;
    const bins = Object.keys(snapshot.signed.meta).filter((name) => name.startsWith('bulk-bin-'));
    assert.equal(bins.length, 16);
    const bulkRole = await (await fetch(`${registry.url}/api/v1/tuf/team-a/metadata/bulk.json`)).json() as any;
    assert.deepEqual(bulkRole.signed.targets, {}, 'the role itself lists no target: its bins do');
    const verified = await tuf(['verify', `${registry.host}/team-a/bulk:c`, '--metadata-dir', join(folder, 'client'), '--json']);
    assert.equal(verified.code, 0, verified.err);
    assert.equal(JSON.parse(verified.out).served.digest, pushed[2]!.digest);
  });
});
