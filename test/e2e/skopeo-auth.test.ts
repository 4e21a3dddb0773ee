// Real clients against a Wharf with authentication on: skopeo with a user (login), a robot
// (--creds) and an OIDC token (username oidc, and a registry token from the token exchange),
// allowed where granted and refused where not; the exposure check; TLS.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityAdmin } from '../../src/auth/identity-admin.ts';
import { identityStoreOf, testIssuer } from '../support/auth-fixture.ts';
import { buildah, createToolSandbox, missingToolReason, skopeo, type ToolSandbox } from './container-tools.ts';
import { REPO_ROOT, startWharf, type RunningRegistry } from './harness.ts';
import { buildUmociImage, initLayout } from './oci-layout.ts';
import { targetRegistryKind } from './target-registry.ts';

const skip = targetRegistryKind() !== 'wharf' ? 'authentication is Wharf\'s own' : missingToolReason(['skopeo', 'umoci', 'buildah']) ?? false;
const PASSWORD = 'alice-password';

describe('skopeo with authentication', { skip }, () => {
  let sandbox: ToolSandbox;
  let wharf: RunningRegistry;
  let dataDir: string;
  let layout: string;
  let robot: { username: string; secret: string };
  let issuer: Awaited<ReturnType<typeof testIssuer>>;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wharf-auth-e2e-'));
    // The store the server will read (PostgreSQL under npm run test:scale).
    const store = await identityStoreOf(dataDir);
    await store.migrate();
    const admin = new IdentityAdmin(store);
    await admin.addUser('alice', PASSWORD);
    await admin.setMembership('team-a', { kind: 'user', name: 'alice' }, 'writer');
    robot = await admin.createRobot('ci', [{ repositories: 'team-a/*', actions: ['pull', 'push'] }]);
    issuer = await testIssuer('https://kubernetes.default.svc');
    await admin.addIssuer({
      name: 'cluster', issuer: issuer.issuer, audience: 'wharf', jwks: issuer.jwks,
      rules: [{ claims: { sub: 'system:serviceaccount:ci:*' }, grants: [{ repositories: 'team-a/*', actions: ['pull', 'push'] }] }],
    });
    await store.close();
    wharf = await startWharf({ dataDir, env: { WHARF_AUTH_ENABLED: 'true' } });
    sandbox = await createToolSandbox();
    layout = join(sandbox.dir, 'layout');
    await initLayout(sandbox, layout);
    await buildUmociImage(sandbox, layout, 'v1', 'amd64');
  });
  after(async () => {
    await wharf?.stop();
    await sandbox?.dispose();
    await rm(dataDir, { recursive: true, force: true });
  });

  const push = (repository: string, creds: string[]) =>
    skopeo(sandbox, ['copy', '--dest-tls-verify=false', ...creds, `oci:${layout}:v1`, `docker://${wharf.host}/${repository}`]);
  const inspect = (repository: string, creds: string[]) =>
    skopeo(sandbox, ['inspect', '--tls-verify=false', ...creds, `docker://${wharf.host}/${repository}`]);

  it('refuses anonymous pushes', async () => {
    await assert.rejects(push('team-a/anon:v1', []), /unauthorized|authentication required/i);
  });

  it('lets a logged-in user push where granted, and refuses elsewhere', async () => {
    await skopeo(sandbox, ['login', '--tls-verify=false', '-u', 'alice', '-p', PASSWORD, wharf.host]);
    await push('team-a/app:v1', []);
    const inspected = JSON.parse(await inspect('team-a/app:v1', []));
    assert.ok(inspected.Digest.startsWith('sha256:'));
    await assert.rejects(push('team-b/app:v1', []), /denied|unauthorized/i);
    await skopeo(sandbox, ['logout', wharf.host]);
    await assert.rejects(skopeo(sandbox, ['login', '--tls-verify=false', '-u', 'alice', '-p', 'wrong-password', wharf.host]), /unauthorized|invalid/i);
  });

  it('accepts buildah login and refuses a wrong password', async () => {
    await buildah(sandbox, ['login', '--tls-verify=false', '-u', 'alice', '-p', PASSWORD, wharf.host]);
    await assert.rejects(buildah(sandbox, ['login', '--tls-verify=false', '-u', 'alice', '-p', 'not-the-password', wharf.host]), /unauthorized|invalid/i);
  });

  it('lets a robot push and pull with --creds within its grants only', async () => {
    const creds = `${robot.username}:${robot.secret}`;
    await push('team-a/robot:v1', ['--dest-creds', creds]);
    await inspect('team-a/robot:v1', ['--creds', creds]);
    await assert.rejects(inspect('team-b/app:v1', ['--creds', creds]), /denied|unauthorized/i);
  });

  it('lets a Kubernetes service account push with its OIDC token, directly and exchanged', async () => {
    const serviceAccount = await issuer.mint({ sub: 'system:serviceaccount:ci:builder', 'kubernetes.io': { namespace: 'ci', serviceaccount: { name: 'builder' } } });
    await push('team-a/oidc:v1', ['--dest-creds', `oidc:${serviceAccount}`]);
    const exchange = await fetch(`${wharf.url}/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: serviceAccount, scope: 'repository:team-a/oidc:pull', service: 'wharf' }),
    });
    const { access_token } = await exchange.json() as { access_token: string };
    await inspect('team-a/oidc:v1', ['--registry-token', access_token]);
    const stranger = await issuer.mint({ sub: 'system:serviceaccount:other:intruder' });
    await assert.rejects(push('team-a/oidc:v2', ['--dest-creds', `oidc:${stranger}`]), /unauthorized|denied/i);
  });

  it('never writes a password, secret or token to its log', () => {
    const log = wharf.stderrTail();
    assert.match(log, /"audit"/, 'the log was captured');
    for (const secret of [PASSWORD, robot.secret, 'eyJ']) assert.ok(!log.includes(secret), `log contains ${secret.slice(0, 4)}…`);
  });
});

describe('secure by default', { skip: targetRegistryKind() === 'wharf' ? false : 'about the Wharf process' }, () => {
  it('refuses to serve anonymous access on a non-loopback address, and says how to proceed', () => {
    const result = spawnSync(join(REPO_ROOT, 'node_modules', '.bin', 'node'), [join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'serve', '--listen', '0.0.0.0:0', '--data', join(tmpdir(), 'never-created')], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /not a loopback address.*auth\.enabled.*--allow-anonymous/s);
  });

  it('serves HTTPS with --tls-cert and --tls-key', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'wharf-tls-'));
    try {
      try {
        execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
          '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
      } catch {
        t.skip('openssl is not installed');
        return;
      }
      const wharf = await startWharf({ extraArgs: ['--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')] });
      try {
        const ca = await readFile(join(dir, 'cert.pem'));
        const status = await new Promise<number>((resolve, reject) => {
          request(`${wharf.url}/v2/`, { ca }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject).end();
        });
        assert.equal(status, 200);
      } finally {
        await wharf.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
