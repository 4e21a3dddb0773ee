// `wharf policy push|list|rm|decisions|simulate|quarantine` and `wharf namespace` as a user runs
// them, against the data folder of a running registry.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pushImage, startTestRegistry, type TestRegistry } from '../../test/support/registry-fixture.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const NO_LATEST = 'package team.nolatest\n\ndeny contains "latest is not allowed" if input.artifact.tag == "latest"\n';

describe('wharf policy administration', () => {
  let registry: TestRegistry;
  let work: string;
  const wharf = (...args: string[]) => {
    const result = spawnSync(NODE, [join(ROOT, 'src', 'cli', 'main.ts'), ...args, '--data', registry.dataDir], { encoding: 'utf8', timeout: 30_000 });
    return { code: result.status, out: result.stdout, err: result.stderr };
  };
  before(async () => {
    registry = await startTestRegistry();
    work = await mkdtemp(join(tmpdir(), 'wharf-policy-cli-'));
    await mkdir(join(work, 'policy'));
    await writeFile(join(work, 'policy', 'nolatest.rego'), NO_LATEST);
    await writeFile(join(work, 'policy', 'nolatest_test.rego'), 'package team.nolatest\n\ntest_ok if true\n');
    await pushImage(registry.url, 'team/app', 'latest');
    await pushImage(registry.url, 'team/app', 'v1');
  });
  after(async () => {
    await registry.close();
    await rm(work, { recursive: true, force: true });
  });

  it('simulates a policy against stored content before it is enforced', () => {
    const result = wharf('policy', 'simulate', join(work, 'policy'), '--package', 'team.nolatest');
    assert.equal(result.code, 0, result.err);
    assert.match(result.out, /evaluated 2 stored artifacts.*1 would be denied/);
    assert.match(result.out, /DENY team\/app:latest {2}latest is not allowed/);
  });

  it('pushes a policy that the running server enforces, lists it, and shows its decisions', async () => {
    const pushed = wharf('policy', 'push', join(work, 'policy'), '--name', 'no-latest', '--package', 'team.nolatest', '--point', 'push', '--namespace', 'team');
    assert.equal(pushed.code, 0, pushed.err);
    assert.match(pushed.out, /policy no-latest version 1/);
    assert.match(wharf('policy', 'list').out, /no-latest\s+1\s+enforce\s+push\s+team\.nolatest\s+ns:team/);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await assert.rejects(pushImage(registry.url, 'team/app', 'latest'), /403/);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the server writes its decision log in batches
    const decisions = wharf('policy', 'decisions', '--denied', '--json');
    assert.equal(JSON.parse(decisions.out)[0].result.violations[0].msg, 'latest is not allowed');
    assert.equal(wharf('policy', 'rm', 'no-latest').code, 0);
    assert.match(wharf('policy', 'list').out, /\(none\)/);
  });

  it('pushes a policy again under the name of one it removed', () => {
    const push = () => wharf('policy', 'push', join(work, 'policy'), '--name', 'reused', '--package', 'team.nolatest', '--namespace', 'nobody');
    assert.equal(push().code, 0);
    assert.equal(wharf('policy', 'rm', 'reused').code, 0);
    const again = push();
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /policy reused version 2/);
    assert.equal(wharf('policy', 'rm', 'reused').code, 0);
  });

  it('releases a quarantined artifact, and the running server lets it be pulled', async () => {
    const hold = 'package team.hold\n\nquarantine contains "held for review" if input.artifact.subject == null\n';
    const stored = await fetch(`${registry.url}/api/v1/policies/hold`, { method: 'PUT', body: JSON.stringify({ package: 'team.hold', modules: [{ file: 'hold.rego', source: hold }], binding: { repositories: ['held/*'] } }) });
    assert.equal(stored.status, 201);
    const image = await pushImage(registry.url, 'held/app', 'v1');
    assert.equal((await fetch(`${registry.url}/v2/held/app/manifests/v1`)).status, 403);
    assert.match(wharf('policy', 'quarantine').out, new RegExp(`held/app\\s+${image.digest}`));
    const released = wharf('policy', 'quarantine', 'release', `held/app@${image.digest}`);
    assert.equal(released.code, 0, released.err);
    assert.match(released.out, /released held\/app@sha256:/);
    const deadline = Date.now() + 5000;
    let status = 0;
    while (Date.now() < deadline && (status = (await fetch(`${registry.url}/v2/held/app/manifests/v1`)).status) !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(status, 200, 'the server saw the release');
    const again = wharf('policy', 'quarantine', 'release', `held/app@${image.digest}`);
    assert.equal(again.code, 1);
    assert.match(again.err, /is not quarantined/);
    assert.equal(wharf('policy', 'quarantine', 'release', 'held/app').code, 1);
    // Removing the policy that quarantined an artifact releases it too.
    await pushImage(registry.url, 'held/app', 'v2');
    assert.equal((await fetch(`${registry.url}/v2/held/app/manifests/v2`)).status, 403);
    assert.equal(wharf('policy', 'rm', 'hold').code, 0);
    const until = Date.now() + 5000;
    while (Date.now() < until && (status = (await fetch(`${registry.url}/v2/held/app/manifests/v2`)).status) !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(status, 200, 'wharf policy rm released what the policy held');
  });

  it('keeps namespace facts for policies', () => {
    assert.equal(wharf('namespace', 'set', 'team', '--label', 'cost-center=cc-7', '--quota', '10GiB', '--budget', '25', '--price', '0.02', '--currency', 'EUR').code, 0);
    assert.deepEqual(JSON.parse(wharf('namespace', 'show', 'team').out), {
      labels: { 'cost-center': 'cc-7' }, quotaBytes: 10 * 1024 ** 3, monthlyBudget: 25, pricePerGiBMonth: 0.02, currency: 'EUR',
    });
  });

  it('reports bad input with the file and line, without a stack trace', async () => {
    await writeFile(join(work, 'broken.rego'), 'package team.broken\n\ndeny contains x if {\n\tx :=\n}\n');
    const cases: [string[], RegExp][] = [
      [['policy', 'push', join(work, 'broken.rego'), '--name', 'b', '--package', 'team.broken'], /broken\.rego:\d+:\d+: rego_parse_error/],
      [['policy', 'push', join(work, 'policy'), '--name', 'Bad Name', '--package', 'team.nolatest'], /invalid policy name/],
      [['policy', 'push', join(work, 'missing'), '--name', 'x', '--package', 'a'], /no such file or folder/],
      [['policy', 'push', '--from-oci', 'team/app:v1', '--name', 'x', '--package', 'a'], /no OPA bundle layer/],
      [['policy', 'push', join(work, 'policy'), '--name', 'x', '--package', 'team.nolatest', '--point', 'deploy'], /unknown enforcement point/],
      [['policy', 'rm', 'ghost'], /no policy ghost/],
      [['namespace', 'set', 'team', '--quota', 'lots'], /--quota takes a size/],
    ];
    for (const [args, message] of cases) {
      const result = wharf(...args);
      assert.equal(result.code, 1, args.join(' '));
      assert.match(result.err, message);
      assert.ok(!result.err.includes('    at '), 'no stack trace');
    }
  });
});
