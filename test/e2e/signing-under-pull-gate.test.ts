// Signing, verifying and reading SBOMs with the real `wharf sign|verify|attach|sbom` commands while a
// trust policy guards pulls (authentication on). Signatures and SBOMs are judged with their subject,
// never on their own (they are not signed themselves), and a caller who may push to a repository
// reads its manifests past the pull gate and any quarantine, as signing needs to.
import { describe, it, before, after, mock } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attachCommand, keygenCommand, sbomCommand, signCommand, verifyCommand } from '../../src/cli/supplychain.ts';
import { basic, fetchToken, startAuthRegistry, type AuthRegistry } from '../support/auth-fixture.ts';
import { pushImage } from '../support/registry-fixture.ts';

const POLICIES = fileURLToPath(new URL('../../policies/', import.meta.url));
const PASSWORD = 'a long enough password';
const ADMIN = basic('root', PASSWORD);
const SIGNER = basic('signer', PASSWORD);
const READER = basic('reader', PASSWORD);

const SBOM = JSON.stringify({
  bomFormat: 'CycloneDX', specVersion: '1.5', version: 1,
  components: [{ type: 'library', name: 'left-pad', version: '1.3.0', purl: 'pkg:npm/left-pad@1.3.0', licenses: [{ license: { id: 'MIT' } }] }],
});

/** Runs a CLI command with its output captured, as the given user (through a container auth file). */
async function as(folder: string, host: string, user: string, command: (argv: string[]) => Promise<number>, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const authFile = join(folder, `${user}-auth.json`);
  await writeFile(authFile, JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${PASSWORD}`).toString('base64') } } }));
  const saved = process.env['REGISTRY_AUTH_FILE'];
  process.env['REGISTRY_AUTH_FILE'] = authFile;
  const out: string[] = [];
  const err: string[] = [];
  const log = mock.method(console, 'log', (...args: unknown[]) => { out.push(args.join(' ')); });
  const error = mock.method(console, 'error', (...args: unknown[]) => { err.push(args.join(' ')); });
  try {
    const code = await command(argv).catch((failure: Error) => { err.push(failure.message); return 2; });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mock.restore();
    error.mock.restore();
    if (saved === undefined) delete process.env['REGISTRY_AUTH_FILE']; else process.env['REGISTRY_AUTH_FILE'] = saved;
  }
}

async function eventually(probe: () => Promise<number>, wanted: number, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (last !== wanted && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    last = await probe();
  }
  return last;
}

async function setUp(registry: AuthRegistry, folder: string, policy: string, params: Record<string, unknown>, points: string[]): Promise<void> {
  await registry.admin.addUser('root', PASSWORD, true);
  await registry.admin.addUser('signer', PASSWORD);
  await registry.admin.setMembership('team', { kind: 'user', name: 'signer' }, 'writer');
  await registry.admin.addUser('reader', PASSWORD);
  await registry.admin.setMembership('team', { kind: 'user', name: 'reader' }, 'reader');
  const trust = await fetch(`${registry.url}/api/v1/trust`, {
    method: 'PUT', headers: { authorization: ADMIN },
    body: JSON.stringify({ cosign: { keys: [{ name: 'release', publicKey: await readFile(join(folder, 'release.pub'), 'utf8') }] } }),
  });
  assert.equal(trust.status, 200, await trust.text());
  const source = await readFile(join(POLICIES, policy, 'policy.rego'), 'utf8');
  const stored = await fetch(`${registry.url}/api/v1/policies/${policy}`, {
    method: 'PUT', headers: { authorization: ADMIN },
    body: JSON.stringify({
      package: `wharf.policies.${policy.replaceAll('-', '_')}`, modules: [{ file: 'policy.rego', source }],
      data: { wharf: { params: { [policy.replaceAll('-', '_')]: params } } }, binding: { points, repositories: ['team/*'] },
    }),
  });
  assert.equal(stored.status, 201, await stored.text());
}

describe('supply-chain commands under a signed-by-key pull gate, authentication on', () => {
  let registry: AuthRegistry;
  let folder: string;
  let host: string;
  const savedPassword = process.env['COSIGN_PASSWORD'];
  const pull = (reference: string, authorization: string) => fetch(`${registry.url}/v2/team/app/manifests/${reference}`, {
    headers: { authorization, accept: 'application/vnd.oci.image.manifest.v1+json' },
  }).then(async (response) => { await response.arrayBuffer(); return response.status; });

  before(async () => {
    process.env['COSIGN_PASSWORD'] = 'correct horse';
    folder = await mkdtemp(join(tmpdir(), 'wharf-gate-sign-'));
    registry = await startAuthRegistry();
    host = new URL(registry.url).host;
    assert.equal((await as(folder, host, 'nobody', keygenCommand, ['--output-key-prefix', join(folder, 'release')])).code, 0);
    assert.equal((await as(folder, host, 'nobody', keygenCommand, ['--output-key-prefix', join(folder, 'stranger')])).code, 0);
    await setUp(registry, folder, 'signed-by-key', { signers: ['release'] }, ['pull']);
  });
  after(async () => {
    if (savedPassword === undefined) delete process.env['COSIGN_PASSWORD']; else process.env['COSIGN_PASSWORD'] = savedPassword;
    await registry?.close();
    await rm(folder, { recursive: true, force: true });
  });

  it('signs, verifies and lists SBOMs of a gated image; readers pull it once it is signed', async () => {
    const image = await pushImage(registry.url, 'team/app', 'v1', {}, { authorization: SIGNER });
    assert.equal(await pull('v1', READER), 403, 'unsigned: the gate refuses readers');

    const signed = await as(folder, host, 'signer', signCommand, [`${host}/team/app:v1`, '--key', join(folder, 'release.key')]);
    assert.equal(signed.code, 0, `wharf sign: ${signed.err}`);
    assert.equal(await eventually(() => pull('v1', READER), 200), 200, 'signed by the trusted key: readers may pull');

    const signatureTag = `sha256-${image.digest.slice(7)}.sig`;
    assert.equal(await pull(signatureTag, READER), 200, 'the signature manifest is read with its subject, not judged as unsigned');
    const verified = await as(folder, host, 'reader', verifyCommand, [`${host}/team/app:v1`, '--key', join(folder, 'release.pub')]);
    assert.equal(verified.code, 0, `wharf verify: ${verified.err}${verified.out}`);
    assert.match(verified.out, /VERIFIED/);

    await writeFile(join(folder, 'sbom.json'), SBOM);
    const attached = await as(folder, host, 'signer', attachCommand, ['sbom', `${host}/team/app:v1`, join(folder, 'sbom.json')]);
    assert.equal(attached.code, 0, `wharf attach sbom: ${attached.err}`);
    const listed = await as(folder, host, 'reader', sbomCommand, [`${host}/team/app:v1`]);
    assert.equal(listed.code, 0, `wharf sbom: ${listed.err}${listed.out}`);
    assert.match(listed.out, /left-pad\s+1\.3\.0/);
  });

  it('keeps the signature of a refused image readable, and lets a caller with push access read the image', async () => {
    const image = await pushImage(registry.url, 'team/app', 'other', {}, { authorization: SIGNER });
    const signed = await as(folder, host, 'signer', signCommand, [`${host}/team/app:other`, '--key', join(folder, 'stranger.key')]);
    assert.equal(signed.code, 0, `wharf sign: ${signed.err}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await pull('other', READER), 403, 'signed by an untrusted key: still refused to readers');
    const signatureTag = `sha256-${image.digest.slice(7)}.sig`;
    const signatureDigest = (await fetch(`${registry.url}/v2/team/app/manifests/${signatureTag}`, { method: 'HEAD', headers: { authorization: SIGNER } })).headers.get('docker-content-digest')!;
    // Read by digest, the manifest does not say what it is attached to; the decision must not stick to its tag.
    await pull(signatureDigest, READER);
    assert.equal(await pull(signatureTag, READER), 200, 'its signature stays readable, so anyone can see why');
    assert.equal(await pull('other', SIGNER), 200, 'a caller who may push reads past the pull gate');
    // What counts is the access the request carries: a token scoped to pull only is a consumer's.
    const pullOnly = await fetchToken(registry.url, ['repository:team/app:pull'], SIGNER);
    assert.equal(await pull('other', `Bearer ${pullOnly.token}`), 403);
    const pushScoped = await fetchToken(registry.url, ['repository:team/app:pull,push'], SIGNER);
    assert.equal(await pull('other', `Bearer ${pushScoped.token}`), 200);
    const readerAsking = await fetchToken(registry.url, ['repository:team/app:pull,push'], READER);
    assert.equal(await pull('other', `Bearer ${readerAsking.token}`), 403, 'a reader is not granted push by asking');
  });
});

describe('signing a quarantined image (signed-within), authentication on', () => {
  let registry: AuthRegistry;
  let folder: string;
  let host: string;
  const savedPassword = process.env['COSIGN_PASSWORD'];

  before(async () => {
    process.env['COSIGN_PASSWORD'] = 'correct horse';
    folder = await mkdtemp(join(tmpdir(), 'wharf-quarantine-sign-'));
    registry = await startAuthRegistry();
    host = new URL(registry.url).host;
    assert.equal((await as(folder, host, 'nobody', keygenCommand, ['--output-key-prefix', join(folder, 'release')])).code, 0);
    await setUp(registry, folder, 'signed-within', { windowMinutes: 10 }, ['push']);
  });
  after(async () => {
    if (savedPassword === undefined) delete process.env['COSIGN_PASSWORD']; else process.env['COSIGN_PASSWORD'] = savedPassword;
    await registry?.close();
    await rm(folder, { recursive: true, force: true });
  });

  it('signs the quarantined image, which lifts the quarantine', async () => {
    await pushImage(registry.url, 'team/app', 'v1', {}, { authorization: SIGNER });
    const pull = () => fetch(`${registry.url}/v2/team/app/manifests/v1`, { headers: { authorization: READER } }).then((response) => response.status);
    assert.equal(await pull(), 403, 'quarantined');
    const signed = await as(folder, host, 'signer', signCommand, [`${host}/team/app:v1`, '--key', join(folder, 'release.key')]);
    assert.equal(signed.code, 0, `wharf sign: ${signed.err}`);
    assert.equal(await eventually(pull, 200), 200, 'the signature lifted the quarantine');
  });
});
