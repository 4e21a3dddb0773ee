// The admission webhook with TUF: a policy on input.trust.tuf admits a workload whose tag is the
// artifact the namespace's TUF targets name, and refuses it once the tag is repointed behind TUF's back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repointTagInDatabase, startTufRegistry, type TufRegistry } from './testing/tuf-registry.ts';
import { tuf } from './testing/run-tuf.ts';
import { pushTestImage } from '../supplychain/testing/supplychain-registry.ts';

const HOST = 'registry.example.test';
const POLICY = `package wharf.tuf_admission

deny contains msg if {
	not input.trust.tuf.enabled
	msg := sprintf("%s has no TUF repository", [input.artifact.namespace])
}

deny contains msg if {
	input.trust.tuf.enabled
	not tuf_names_tag
	msg := sprintf("%s:%s is not the artifact TUF names", [input.artifact.repository, input.artifact.tag])
}

tuf_names_tag if {
	some target in input.trust.tuf.targets
	target.tag == input.artifact.tag
}
`;

function review(image: string) {
  return {
    apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
    request: { uid: 'tuf-1', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', namespace: 'prod', name: 'web', userInfo: { username: 'alice' }, object: { spec: { containers: [{ name: 'web', image }] } }, dryRun: false },
  };
}

describe('admission with TUF', () => {
  let registry: TufRegistry;
  let folder: string;
  let other: { digest: string };
  const saved = { ...process.env };
  const env = { WHARF_ADMISSION_REGISTRY_HOSTS: HOST };
  const admit = async (image: string) => {
    const response = await fetch(`${registry.url}/admission/validate`, { method: 'POST', body: JSON.stringify(review(image)), headers: { 'content-type': 'application/json' } });
    assert.equal(response.status, 200);
    return (await response.json() as { response: { allowed: boolean; status?: { message?: string } } }).response;
  };

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'wharf-tuf-admission-'));
    process.env.XDG_CACHE_HOME = join(folder, 'cache');
    process.env.XDG_CONFIG_HOME = join(folder, 'config');
    for (const name of ['WHARF_SERVER', 'WHARF_DATA', 'WHARF_USERNAME', 'WHARF_PASSWORD']) delete process.env[name];
    registry = await startTufRegistry(env);
    await pushTestImage(registry.url, 'team-a/app', 'v1');
    other = await pushTestImage(registry.url, 'team-a/app', 'v2');
    await pushTestImage(registry.url, 'team-b/app', 'v1');
    const key = (name: string) => join(folder, `${name}.json`);
    const server = ['--server', registry.url];
    assert.equal((await tuf(['init', 'team-a', ...server, '--root-key', key('root'), '--targets-key', key('targets'), '--root-out', join(folder, 'root.json')])).code, 0);
    assert.equal((await tuf(['publish', 'team-a', 'team-a/app:v1', ...server, '--role', 'targets', '--key', key('targets')])).code, 0);
    const put = await fetch(`${registry.url}/api/v1/policies/tuf-admission`, {
      method: 'PUT', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ package: 'wharf.tuf_admission', modules: [{ file: 'tuf.rego', source: POLICY }], binding: { points: ['admission'] } }),
    });
    assert.equal(put.status, 201, await put.text());
  });
  after(async () => {
    process.env = saved;
    await registry?.dispose();
    await rm(folder, { recursive: true, force: true });
  });

  it('admits the tag TUF names, and refuses tags TUF does not name or namespaces without TUF', async () => {
    assert.equal((await admit(`${HOST}/team-a/app:v1`)).allowed, true);
    const unnamed = await admit(`${HOST}/team-a/app:v2`);
    assert.equal(unnamed.allowed, false);
    assert.match(unnamed.status!.message!, /team-a\/app:v2 is not the artifact TUF names/);
    assert.match((await admit(`${HOST}/team-b/app:v1`)).status!.message!, /team-b has no TUF repository/);
  });

  it('refuses a tag repointed in the registry\'s database behind TUF\'s back', async () => {
    await registry.stop();
    repointTagInDatabase(registry.dataDir, 'team-a/app', 'v1', other.digest);
    registry = await startTufRegistry(env, registry.dataDir);
    const refused = await admit(`${HOST}/team-a/app:v1`);
    assert.equal(refused.allowed, false);
    assert.match(refused.status!.message!, /team-a\/app:v1 is not the artifact TUF names/);
  });
});
