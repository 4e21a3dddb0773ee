// Push and pull gates with real policies over HTTP, the decision log, failure modes and
// quarantine, against an in-process registry.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { errorCodes, json, pushImage, startTestRegistry, type TestRegistry } from '../../../test/support/registry-fixture.ts';

const NO_LATEST = `package wharf.policies.no_latest

deny contains {"msg": msg, "code": "TAG_LATEST", "details": {"tag": input.artifact.tag}} if {
	input.artifact.tag == "latest"
	msg := sprintf("%s: the tag 'latest' is not allowed", [input.artifact.repository])
}
`;
const REQUIRED_LABEL = `package wharf.labels

deny contains {"msg": "image needs a maintainer label", "code": "LABEL_MISSING"} if {
	not input.artifact.labels.maintainer
}
`;
const PULL_BLOCK = `package wharf.pull

deny contains "pulls of blocked/* are disabled" if {
	startswith(input.artifact.repository, "blocked/")
	input.point == "pull"
}
`;

describe('policy gates', () => {
  let registry: TestRegistry;
  let url: string;
  const putPolicy = async (name: string, body: Record<string, unknown>) => {
    const response = await fetch(`${url}/api/v1/policies/${name}`, { method: 'PUT', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    return { status: response.status, body: await json(response) };
  };
  before(async () => {
    registry = await startTestRegistry();
    url = registry.url;
  });
  after(() => registry.close());

  it('denies a push with the violations in the OCI error, and stores nothing', async () => {
    const created = await putPolicy('no-latest', { package: 'wharf.policies.no_latest', modules: [{ file: 'no-latest.rego', source: NO_LATEST }], binding: { points: ['push'], namespaces: ['team-*'] } });
    assert.deepEqual([created.status, created.body.version], [201, 1]);
    const refused = await pushImage(url, 'team-a/app', 'latest').catch((error: Error) => error);
    assert.ok(refused instanceof Error);
    assert.match(refused.message, /^manifest push failed: 403 /);
    const body = JSON.parse(refused.message.replace(/^manifest push failed: 403 /, ''));
    assert.equal(body.errors[0].code, 'DENIED');
    assert.deepEqual(body.errors[0].detail.violations, [{ policy: 'no-latest', msg: "team-a/app: the tag 'latest' is not allowed", code: 'TAG_LATEST', details: { tag: 'latest' } }]);
    assert.equal((await fetch(`${url}/v2/team-a/app/manifests/latest`)).status, 404, 'nothing stored');
    await pushImage(url, 'team-a/app', 'v1');
    await pushImage(url, 'other/app', 'latest');
  });

  it('logs every decision with its id, policies, input hash and result', async () => {
    const decisions = await json(await fetch(`${url}/api/v1/decisions?point=push&allowed=false&limit=5`));
    assert.ok(decisions.length >= 1);
    const [latest] = decisions;
    assert.equal(latest.repository, 'team-a/app');
    assert.match(latest.id, /^[0-9a-f-]{36}$/);
    assert.match(latest.inputHash, /^[0-9a-f]{64}$/);
    assert.match(latest.policies[0], /^no-latest@1:[0-9a-f]{12}$/);
    assert.deepEqual(latest.paths, ['data.wharf.policies.no_latest.deny', 'data.wharf.policies.no_latest.quarantine']);
    assert.equal(latest.result.violations[0].code, 'TAG_LATEST');
  });

  it('evaluates audit-mode policies without refusing, and reads image labels', async () => {
    await putPolicy('labels', { package: 'wharf.labels', modules: [{ file: 'labels.rego', source: REQUIRED_LABEL }], mode: 'audit', binding: { points: ['push'], repositories: ['audit/*'] } });
    await pushImage(url, 'audit/app', 'v1');
    const [decision] = await json(await fetch(`${url}/api/v1/decisions?repository=audit/app&limit=1`));
    assert.equal(decision.allowed, true);
    assert.equal(decision.result.violations[0].code, 'LABEL_MISSING');
    assert.equal(decision.result.violations[0].mode, 'audit');
  });

  it('denies pulls by policy, and applies a changed policy at once', async () => {
    await pushImage(url, 'blocked/app', 'v1');
    await putPolicy('pull-block', { package: 'wharf.pull', modules: [{ file: 'pull.rego', source: PULL_BLOCK }], binding: { points: ['pull'] } });
    const denied = await fetch(`${url}/v2/blocked/app/manifests/v1`);
    assert.equal(denied.status, 403);
    assert.match((await json(denied)).errors[0].message, /pulls of blocked\/\* are disabled/);
    assert.equal((await fetch(`${url}/v2/team-a/app/manifests/v1`)).status, 200, 'other repositories still pull');
    await putPolicy('pull-block', { package: 'wharf.pull', modules: [{ file: 'pull.rego', source: PULL_BLOCK.replaceAll('blocked/', 'nothing/') }], binding: { points: ['pull'] } });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal((await fetch(`${url}/v2/blocked/app/manifests/v1`)).status, 200, 'the new version replaced the cached decision');
  });

  it('fails closed when a policy errors, and says why', async () => {
    const conflict = 'package wharf.broken\n\nlevel := 1 if input.artifact\nlevel := 2 if input.artifact\n\ndeny contains "unreachable" if level > 5\n';
    await putPolicy('broken', { package: 'wharf.broken', modules: [{ file: 'broken.rego', source: conflict }], binding: { points: ['push'], repositories: ['fragile/*'] } });
    const broken = await pushImage(url, 'fragile/app', 'v1').catch((error: Error) => error);
    assert.ok(broken instanceof Error && /403/.test(broken.message), String(broken));
    assert.match(broken.message, /policy broken failed.*eval_conflict_error/);
    const loop = 'package wharf.slow\n\ndeny contains "never" if {\n\tsome i in numbers.range(1, 5000)\n\tsome j in numbers.range(1, 5000)\n\ti + j < 0\n}\n';
    await putPolicy('slow', { package: 'wharf.slow', modules: [{ file: 'slow.rego', source: loop }], binding: { points: ['push'], repositories: ['slow/*'] } });
    const slow = await pushImage(url, 'slow/app', 'v1').catch((error: Error) => error);
    assert.ok(slow instanceof Error && /403/.test(slow.message) && /POLICY_ERROR/.test(slow.message), String(slow));
    assert.match(String(slow), /failure mode is closed/);
  });

  it('refuses invalid policies with the file, row and column', async () => {
    const bad = await putPolicy('bad', { package: 'wharf.bad', modules: [{ file: 'bad.rego', source: 'package wharf.bad\n\ndeny contains x if {\n\tx := \n}\n' }] });
    assert.equal(bad.status, 400);
    assert.match(bad.body.errors[0].message, /^bad\.rego:\d+:\d+: rego_parse_error/);
    const noRules = await putPolicy('empty', { package: 'wharf.empty', modules: [{ file: 'e.rego', source: 'package wharf.empty\n\nallow := true\n' }] });
    assert.match(noRules.body.errors[0].message, /defines neither deny nor quarantine/);
    for (const body of [{}, { package: 'x', modules: [] }, { package: 'x', modules: [{ file: 'a' }] }, { package: 'a b', modules: [{ file: 'a', source: 'package a' }] },
      { package: 'wharf.pull', modules: [{ file: 'p.rego', source: PULL_BLOCK }], binding: { points: ['deploy'] } }]) {
      const response = await putPolicy('invalid', body);
      assert.deepEqual([response.status, response.body.errors[0].code], [400, 'BAD_REQUEST'], JSON.stringify(body));
    }
  });

  it('quarantines a push that a quarantine rule holds back: stored, but not pulled', async () => {
    const hold = 'package wharf.hold\n\nquarantine contains {"msg": "waiting for a signature", "code": "UNSIGNED"} if {\n\tcount(input.trust.signatures) == 0\n}\n';
    await putPolicy('hold', { package: 'wharf.hold', modules: [{ file: 'hold.rego', source: hold }], binding: { points: ['push'], repositories: ['held/*'] } });
    const image = await pushImage(url, 'held/app', 'v1');
    assert.equal(image.response.status, 201);
    const pull = await fetch(`${url}/v2/held/app/manifests/v1`);
    assert.equal(pull.status, 403);
    assert.match((await json(pull)).errors[0].message, /quarantined: waiting for a signature/);
    const quarantined = await json(await fetch(`${url}/api/v1/quarantine`));
    assert.deepEqual(quarantined.map((entry: { repository: string }) => entry.repository), ['held/app']);
  });

  it('gives policies the namespace facts: labels, usage, quota and budget', async () => {
    const put = await fetch(`${url}/api/v1/namespaces/costly/settings`, {
      method: 'PUT', body: JSON.stringify({ labels: { team: 'costly' }, quotaBytes: 100, monthlyBudget: 5, pricePerGiBMonth: 0.02, currency: 'EUR' }),
    });
    assert.equal(put.status, 204);
    const costCenter = 'package wharf.cost\n\ndeny contains "namespace needs a cost-center label" if {\n\tnot input.namespace.labels["cost-center"]\n}\n\ndeny contains "over quota" if {\n\tinput.namespace.usage.storageBytes + input.artifact.totalSize > input.namespace.quota.storageBytes\n}\n';
    await putPolicy('cost', { package: 'wharf.cost', modules: [{ file: 'cost.rego', source: costCenter }], binding: { points: ['push'], namespaces: ['costly'] } });
    const refused = await pushImage(url, 'costly/app', 'v1').catch((error: Error) => error);
    assert.match(String(refused), /needs a cost-center label/);
    assert.match(String(refused), /over quota/);
    const bad = await fetch(`${url}/api/v1/namespaces/costly/settings`, { method: 'PUT', body: JSON.stringify({ quotaBytes: -1 }) });
    assert.deepEqual([bad.status, await errorCodes(bad)], [400, ['BAD_REQUEST']]);
  });

  it('simulates a new policy against what is stored without enforcing it', async () => {
    const response = await fetch(`${url}/api/v1/policy-simulations`, {
      method: 'POST', body: JSON.stringify({ name: 'sim', package: 'wharf.policies.no_latest', modules: [{ file: 'no-latest.rego', source: NO_LATEST }] }),
    });
    const report = await json(response);
    assert.equal(response.status, 200);
    assert.ok(report.evaluated >= 4);
    assert.deepEqual(report.denied.map((entry: { repository: string; reference: string }) => `${entry.repository}:${entry.reference}`), ['other/app:latest']);
    assert.equal((await fetch(`${url}/v2/other/app/manifests/latest`)).status, 200, 'simulation enforces nothing');
  });
});
