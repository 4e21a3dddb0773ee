// "Must be signed within 10 minutes": an unsigned push is stored but quarantined; a cosign
// signature pushed afterwards (tag scheme) is indexed and verified by the supply chain, and the
// policy service then lifts the quarantine.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { RegistryClient } from '../../client/registry-client.ts';
import { signImage } from '../../client/signing.ts';
import { json, pushImage, startTestRegistry, type TestRegistry } from '../../../test/support/registry-fixture.ts';

const POLICY = fileURLToPath(new URL('../../../policies/signed-within/policy.rego', import.meta.url));

async function waitForStatus(url: string, status: number, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = 0;
  while (Date.now() < deadline) {
    last = (await fetch(url)).status;
    if (last === status) return last;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return last;
}

describe('quarantine until signed', () => {
  let registry: TestRegistry;
  before(async () => { registry = await startTestRegistry(); });
  after(() => registry.close());

  it('quarantines an unsigned push and releases it when a verified signature arrives', async () => {
    const { url } = registry;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const trust = await fetch(`${url}/api/v1/trust`, {
      method: 'PUT', body: JSON.stringify({ cosign: { keys: [{ name: 'release', publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() }] } }),
    });
    assert.equal(trust.status, 200);
    const policy = await fetch(`${url}/api/v1/policies/signed-within`, {
      method: 'PUT',
      body: JSON.stringify({ package: 'wharf.policies.signed_within', modules: [{ file: 'policy.rego', source: await readFile(POLICY, 'utf8') }], binding: { points: ['push'], repositories: ['held/*'] } }),
    });
    assert.equal(policy.status, 201);

    const image = await pushImage(url, 'held/app', 'v1');
    assert.equal(image.response.status, 201, 'stored');
    const pull = await fetch(`${url}/v2/held/app/manifests/v1`);
    assert.equal(pull.status, 403);
    assert.match((await json(pull)).errors[0].message, /quarantined/);

    const host = new URL(url).host;
    const client = new RegistryClient(host);
    await signImage(client, { repository: 'held/app', digest: image.digest, size: image.size, mediaType: image.mediaType, dockerReference: `${host}/held/app` }, privateKey, { referrer: false });
    assert.equal(await waitForStatus(`${url}/v2/held/app/manifests/v1`, 200), 200, 'the quarantine was lifted');
    const signatureTag = `sha256-${image.digest.slice(7)}.sig`;
    assert.equal((await fetch(`${url}/v2/held/app/manifests/${signatureTag}`)).status, 200, 'the signature itself was never held');
    assert.deepEqual(await json(await fetch(`${url}/api/v1/quarantine`)), []);
  });

  it('keeps an artifact quarantined when its signature does not verify', async () => {
    const { url } = registry;
    const image = await pushImage(url, 'held/other', 'v1');
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const host = new URL(url).host;
    await signImage(new RegistryClient(host), { repository: 'held/other', digest: image.digest, size: image.size, mediaType: image.mediaType, dockerReference: `${host}/held/other` }, stranger, { referrer: true });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await fetch(`${url}/v2/held/other/manifests/v1`)).status, 403);
  });
});

describe('quarantine and deletion', () => {
  it('forgets the quarantine of a deleted artifact', async () => {
    const registry = await startTestRegistry();
    try {
      const hold = 'package wharf.hold\n\nquarantine contains "held" if input.artifact.subject == null\n';
      await fetch(`${registry.url}/api/v1/policies/hold`, { method: 'PUT', body: JSON.stringify({ package: 'wharf.hold', modules: [{ file: 'h.rego', source: hold }] }) });
      const image = await pushImage(registry.url, 'gone/app', 'v1');
      assert.equal((await json(await fetch(`${registry.url}/api/v1/quarantine`))).length, 1);
      assert.equal((await fetch(`${registry.url}/v2/gone/app/manifests/${image.digest}`, { method: 'DELETE' })).status, 202);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(await json(await fetch(`${registry.url}/api/v1/quarantine`)), []);
    } finally {
      await registry.close();
    }
  });
});

describe('releasing a quarantine', () => {
  const HOLD = 'package wharf.hold\n\nquarantine contains "held for review" if input.artifact.subject == null\n';
  const KEEP = 'package wharf.keep\n\nquarantine contains "held by another rule" if input.artifact.subject == null\n';
  let registry: TestRegistry;
  const put = (name: string, pkg: string, source: string) => fetch(`${registry.url}/api/v1/policies/${name}`, {
    method: 'PUT', body: JSON.stringify({ package: pkg, modules: [{ file: `${name}.rego`, source }], binding: { points: ['push'], repositories: [`${name}/*`, 'both/*'] } }),
  });
  const status = (path: string) => fetch(`${registry.url}/v2/${path}`).then((response) => response.status);
  before(async () => {
    registry = await startTestRegistry();
    assert.equal((await put('hold', 'wharf.hold', HOLD)).status, 201);
    assert.equal((await put('keep', 'wharf.keep', KEEP)).status, 201);
  });
  after(() => registry.close());

  it('releases an artifact by hand through the API', async () => {
    const image = await pushImage(registry.url, 'hold/app', 'v1');
    assert.equal(await status('hold/app/manifests/v1'), 403);
    const released = await fetch(`${registry.url}/api/v1/quarantine/hold/app@${image.digest}`, { method: 'DELETE' });
    assert.equal(released.status, 204);
    assert.equal(await status('hold/app/manifests/v1'), 200);
    const again = await fetch(`${registry.url}/api/v1/quarantine/hold/app@${image.digest}`, { method: 'DELETE' });
    assert.equal(again.status, 404);
    assert.equal((await json(again)).errors[0].code, 'NOT_FOUND');
    const malformed = await fetch(`${registry.url}/api/v1/quarantine/hold/app`, { method: 'DELETE' });
    assert.equal(malformed.status, 400);
    assert.match((await json(malformed)).errors[0].message, /REPOSITORY@DIGEST/);
  });

  it('releases what a removed policy held, and keeps what another policy still holds', async () => {
    const held = await pushImage(registry.url, 'hold/app', 'v2');
    const both = await pushImage(registry.url, 'both/app', 'v1');
    assert.equal(await status('hold/app/manifests/v2'), 403);
    assert.equal((await fetch(`${registry.url}/api/v1/policies/hold`, { method: 'DELETE' })).status, 204);
    assert.equal(await status('hold/app/manifests/v2'), 200, 'the only reason was the removed policy');
    assert.equal(await status('both/app/manifests/v1'), 403, 'the other policy still holds it');
    const remaining = await json(await fetch(`${registry.url}/api/v1/quarantine`)) as { repository: string; digest: string; reasons: { policy: string }[] }[];
    assert.deepEqual(remaining.map((entry) => [entry.repository, entry.digest, entry.reasons.map((reason) => reason.policy)]), [['both/app', both.digest, ['keep']]]);
    assert.ok(!remaining.some((entry) => entry.digest === held.digest));
  });
});
