// `wharf policy simulate` and POST /api/v1/policy-simulations judge what is stored exactly as
// enforcement would: at every point the policy is bound to, with the same input (supply-chain facts,
// the real push time), and the command line answers what the API answers.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RegistryClient } from '../../client/registry-client.ts';
import { signImage } from '../../client/signing.ts';
import { json, pushImage, startTestRegistry, type TestRegistry } from '../../../test/support/registry-fixture.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const SIGNED_BY_KEY = join(ROOT, 'policies', 'signed-by-key', 'policy.rego');
const PULL_ONLY = 'package sim.pullonly\n\ndeny contains "no pulls from frozen/*" if {\n\tinput.point == "pull"\n\tstartswith(input.artifact.repository, "frozen/")\n}\n';
const STALE = 'package sim.stale\n\ndeny contains "pushed more than a second ago" if {\n\ttime.parse_rfc3339_ns(input.artifact.pushedAt) < time.parse_rfc3339_ns(input.now) - 1000000000\n}\n';

type Report = { evaluated: number; points: string[]; denied: { point: string; repository: string; reference: string; digest: string }[]; quarantined: unknown[]; errors: string[] };

describe('policy simulation', () => {
  let registry: TestRegistry;
  let work: string;
  let signedDigest: string;
  const simulate = async (body: Record<string, unknown>): Promise<Report> => {
    const response = await fetch(`${registry.url}/api/v1/policy-simulations`, { method: 'POST', body: JSON.stringify(body) });
    assert.equal(response.status, 200);
    return json(response);
  };
  const cli = (...args: string[]): Report => {
    const result = spawnSync(NODE, [join(ROOT, 'src', 'cli', 'main.ts'), 'policy', 'simulate', ...args, '--json', '--data', registry.dataDir], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 0, result.stderr);
    return JSON.parse(result.stdout);
  };
  const targets = (report: Report) => report.denied.map((entry) => `${entry.point} ${entry.repository}:${entry.reference}`).sort();

  before(async () => {
    registry = await startTestRegistry();
    work = await mkdtemp(join(tmpdir(), 'wharf-simulate-'));
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const trust = await fetch(`${registry.url}/api/v1/trust`, {
      method: 'PUT', body: JSON.stringify({ cosign: { keys: [{ name: 'release', publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() }] } }),
    });
    assert.equal(trust.status, 200);
    const signed = await pushImage(registry.url, 'frozen/app', 'signed');
    signedDigest = signed.digest;
    await pushImage(registry.url, 'frozen/app', 'unsigned');
    const host = new URL(registry.url).host;
    await signImage(new RegistryClient(host), { repository: 'frozen/app', digest: signed.digest, size: signed.size, mediaType: signed.mediaType, dockerReference: `${host}/frozen/app` }, privateKey, { referrer: true });
    // The supply chain indexes the signature in the background.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const document = await json(await fetch(`${registry.url}/api/v1/repositories/frozen/app/manifests/${signed.digest}/trust`));
      if (document.signatures?.some((signature: { verified: boolean }) => signature.verified)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await mkdir(join(work, 'pull-only'));
    await writeFile(join(work, 'pull-only', 'policy.rego'), PULL_ONLY);
    await mkdir(join(work, 'stale'));
    await writeFile(join(work, 'stale', 'policy.rego'), STALE);
    await writeFile(join(work, 'signers.json'), JSON.stringify({ wharf: { params: { signed_by_key: { signers: ['release'] } } } }));
  });
  after(async () => {
    await registry.close();
    await rm(work, { recursive: true, force: true });
  });

  it('judges a pull-only policy at the pull point, as enforcement does', async () => {
    const report = await simulate({ name: 'sim', package: 'sim.pullonly', modules: [{ file: 'p.rego', source: PULL_ONLY }], binding: { points: ['pull'] } });
    assert.deepEqual(report.points, ['pull']);
    const tagged = targets(report).filter((target) => !target.includes(':sha256:'));
    assert.deepEqual(tagged, ['pull frozen/app:signed', 'pull frozen/app:unsigned']);
    assert.ok(targets(report).some((target) => target.includes(':sha256:')), 'the signature is judged too, as a pull of it would be');
    const put = await fetch(`${registry.url}/api/v1/policies/pull-only`, { method: 'PUT', body: JSON.stringify({ package: 'sim.pullonly', modules: [{ file: 'p.rego', source: PULL_ONLY }], binding: { points: ['pull'] } }) });
    assert.equal(put.status, 201);
    assert.equal((await fetch(`${registry.url}/v2/frozen/app/manifests/unsigned`)).status, 403, 'enforcement agrees');
    assert.equal((await fetch(`${registry.url}/api/v1/policies/pull-only`, { method: 'DELETE' })).status, 204);
  });

  it('keeps the time an artifact was pushed', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const report = await simulate({ name: 'sim', package: 'sim.stale', modules: [{ file: 's.rego', source: STALE }], binding: { points: ['push'] } });
    assert.ok(report.denied.some((entry) => entry.reference === 'unsigned'), 'the artifacts were pushed over a second ago');
  });

  it('answers on the command line what the API answers, supply-chain facts included', async () => {
    const source = await readFile(SIGNED_BY_KEY, 'utf8');
    const body = {
      name: 'sim', package: 'wharf.policies.signed_by_key', modules: [{ file: 'policy.rego', source }],
      data: { wharf: { params: { signed_by_key: { signers: ['release'] } } } }, binding: { points: ['push', 'pull'] },
    };
    const api = await simulate(body);
    assert.ok(!api.denied.some((entry) => entry.digest === signedDigest), 'the signed image passes');
    assert.deepEqual(targets(api), ['pull frozen/app:unsigned', 'push frozen/app:unsigned']);
    const offline = cli(SIGNED_BY_KEY, '--package', 'wharf.policies.signed_by_key', '--data-file', join(work, 'signers.json'), '--point', 'push', '--point', 'pull');
    assert.deepEqual(targets(offline), targets(api));
    assert.equal(offline.evaluated, api.evaluated);
    assert.deepEqual(cli(join(work, 'pull-only'), '--package', 'sim.pullonly', '--point', 'pull').points, ['pull']);
  });
});
