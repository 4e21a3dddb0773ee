// Attacks on authentication and authorization, each of which must be refused.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createPrivateKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { accessOf, basic, fetchToken, startAuthRegistry, testIssuer, type AuthRegistry } from '../../test/support/auth-fixture.ts';
import { errorCodes, pushBlob, pushImage } from '../../test/support/registry-fixture.ts';

const PASSWORD = 'pass-word-123';

describe('attacks', () => {
  let registry: AuthRegistry;
  let url: string;
  let issuer: Awaited<ReturnType<typeof testIssuer>>;
  const get = (path: string, authorization?: string) => fetch(`${url}${path}`, { headers: authorization ? { authorization } : {} });
  const bearer = (token: string) => `Bearer ${token}`;

  before(async () => {
    registry = await startAuthRegistry({ WHARF_AUTH_MAX_FAILED_LOGINS: '5' });
    url = registry.url;
    await registry.admin.addUser('root', PASSWORD, true);
    await registry.admin.addUser('alice', PASSWORD);
    await registry.admin.setMembership('team-a', { kind: 'user', name: 'alice' }, 'writer');
    await registry.admin.addUser('mallory', PASSWORD);
    const root = basic('root', PASSWORD);
    await pushImage(url, 'team-a/app', 'v1', {}, { authorization: root });
    await pushImage(url, 'team-b/app', 'v1', {}, { authorization: root });
    issuer = await testIssuer('https://ci.example.test');
    await registry.admin.addIssuer({
      name: 'ci', issuer: issuer.issuer, audience: 'wharf', jwks: issuer.jwks,
      rules: [{ claims: { repository: 'org/app', ref: 'refs/heads/main' }, grants: [{ repositories: 'team-a/*', actions: ['pull', 'push'] }] }],
    });
  });
  after(() => registry.close());

  it('challenges an anonymous request with the token realm and the scope it needs', async () => {
    const response = await get('/v2/team-a/app/manifests/v1');
    assert.equal(response.status, 401);
    assert.deepEqual(await errorCodes(response), ['UNAUTHORIZED']);
    assert.equal(response.headers.get('www-authenticate'), `Bearer realm="${url}/token",service="wharf",scope="repository:team-a/app:pull"`);
    const base = await get('/v2/');
    assert.equal(base.status, 401);
    assert.match(base.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
  });

  it('refuses a token for repository A on repository B', async () => {
    const { token } = await fetchToken(url, ['repository:team-a/app:pull'], basic('alice', PASSWORD));
    assert.equal((await get('/v2/team-a/app/manifests/v1', bearer(token!))).status, 200);
    const other = await get('/v2/team-b/app/manifests/v1', bearer(token!));
    assert.equal(other.status, 401);
    assert.match(other.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
  });

  it('grants only the intersection of what was asked and what is allowed', async () => {
    const { token } = await fetchToken(url, ['repository:team-a/app:pull,push,delete', 'repository:team-b/app:pull', 'registry:catalog:*'], basic('alice', PASSWORD));
    assert.deepEqual(accessOf(token!), [{ type: 'repository', name: 'team-a/app', actions: ['pull', 'push'] }]);
  });

  it('grants nothing for scopes with .., wildcards or injected commas', async () => {
    const scopes = ['repository:team-a/../team-b/app:pull', 'repository:*:pull', 'repository:team-b/*:pull',
      'repository:team-a/app:pull,repository:team-b/app:push', 'repository:team-a/app:pull,admin'];
    for (const scope of scopes) {
      const { token } = await fetchToken(url, [scope], basic('root', PASSWORD));
      assert.deepEqual(accessOf(token!), [], scope);
    }
  });

  it('refuses an expired token, one signed by another key, alg none, and a tampered payload', async () => {
    const { token } = await fetchToken(url, ['repository:team-a/app:pull'], basic('alice', PASSWORD));
    const [header, payload] = token!.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const kid = JSON.parse(Buffer.from(header!, 'base64url').toString()).kid;
    const [current] = await registry.store.listSigningKeys();
    const sign = (body: Record<string, unknown>, key = createPrivateKey(current!.privateKeyPem)) =>
      new SignJWT(body).setProtectedHeader({ alg: 'ES256', kid }).sign(key);
    const now = Math.floor(Date.now() / 1000);
    const expired = await sign({ ...claims, iat: now - 3600, nbf: now - 3600, exp: now - 1800 });
    const otherKey = await sign(claims, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const tamperedClaims = { ...claims, access: [{ type: 'repository', name: 'team-b/app', actions: ['pull'] }] };
    const tampered = `${header}.${Buffer.from(JSON.stringify(tamperedClaims)).toString('base64url')}.${token!.split('.')[2]}`;
    const wrongAudience = await sign({ ...claims, aud: 'another-service' });
    for (const [name, bad] of Object.entries({ expired, otherKey, none, tampered, wrongAudience, garbage: 'not.a.jwt' })) {
      const target = name === 'tampered' ? '/v2/team-b/app/manifests/v1' : '/v2/team-a/app/manifests/v1';
      const response = await get(target, bearer(bad));
      assert.equal(response.status, 401, name);
      assert.match(response.headers.get('www-authenticate') ?? '', /error="invalid_token"/, name);
    }
  });

  it('refuses wrong passwords, and rate-limits repeated failures per account', async () => {
    assert.equal((await get('/v2/team-a/app/manifests/v1', basic('alice', 'wrong'))).status, 401);
    for (let i = 0; i < 6; i++) await get('/v2/', basic('mallory', `guess-${i}`));
    const throttled = await get('/v2/', basic('mallory', PASSWORD));
    assert.equal(throttled.status, 429, 'even the right password is refused while throttled');
    assert.deepEqual(await errorCodes(throttled), ['TOOMANYREQUESTS']);
    const token = await fetchToken(url, [], basic('mallory', PASSWORD));
    assert.equal(token.status, 429);
  });

  it('exchanges an OIDC token for a registry token, and refuses wrong issuer, audience or expiry', async () => {
    const good = await issuer.mint({ sub: 'repo:org/app:ref:refs/heads/main', repository: 'org/app', ref: 'refs/heads/main' });
    const exchanged = await fetch(`${url}/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: good, scope: 'repository:team-a/app:pull,push', service: 'wharf' }),
    });
    assert.equal(exchanged.status, 200);
    const { access_token } = await exchanged.json() as { access_token: string };
    assert.deepEqual(accessOf(access_token), [{ type: 'repository', name: 'team-a/app', actions: ['pull', 'push'] }]);
    assert.equal((await get('/v2/team-a/app/manifests/v1', basic('oidc', good))).status, 200, 'Basic with username oidc');

    const stranger = await testIssuer('https://evil.example.test');
    const cases = {
      wrongIssuer: await stranger.mint({ sub: 'x', repository: 'org/app', ref: 'refs/heads/main' }),
      spoofedIssuer: await stranger.mint({ sub: 'x', repository: 'org/app', ref: 'refs/heads/main' }, { iss: issuer.issuer }),
      wrongAudience: await issuer.mint({ sub: 'x', repository: 'org/app', ref: 'refs/heads/main' }, { audience: 'other' }),
      expired: await issuer.mint({ sub: 'x', repository: 'org/app', ref: 'refs/heads/main' }, { expiresIn: -120 }),
      noMatchingRule: await issuer.mint({ sub: 'x', repository: 'org/other', ref: 'refs/heads/main' }),
    };
    for (const [name, token] of Object.entries(cases)) {
      assert.equal((await get('/v2/team-a/app/manifests/v1', basic('oidc', token))).status, 401, name);
    }
  });

  it('refuses a revoked robot, including tokens it obtained before', async () => {
    const robot = await registry.admin.createRobot('ci', [{ repositories: 'team-a/*', actions: ['pull'] }]);
    const { token } = await fetchToken(url, ['repository:team-a/app:pull'], basic(robot.username, robot.secret));
    assert.equal((await get('/v2/team-a/app/manifests/v1', bearer(token!))).status, 200);
    assert.equal((await get('/v2/team-a/app/manifests/v1', basic(robot.username, robot.secret))).status, 200);
    assert.ok((await registry.store.getRobot('ci'))?.lastUsedAt, 'last use is recorded');
    await registry.admin.revokeRobot('ci');
    assert.equal((await get('/v2/team-a/app/manifests/v1', basic(robot.username, robot.secret))).status, 401);
    assert.equal((await get('/v2/team-a/app/manifests/v1', bearer(token!))).status, 401);
    assert.equal((await fetchToken(url, ['repository:team-a/app:pull'], basic(robot.username, robot.secret))).status, 401);
  });

  it('refuses the token of a deleted user to a new user created under the same name', async () => {
    await registry.admin.addUser('dave', PASSWORD);
    await registry.admin.setMembership('team-a', { kind: 'user', name: 'dave' }, 'reader');
    const { token } = await fetchToken(url, ['repository:team-a/app:pull'], basic('dave', PASSWORD));
    assert.equal((await get('/v2/team-a/app/manifests/v1', bearer(token!))).status, 200);
    await registry.admin.removeUser('dave');
    await registry.admin.addUser('dave', 'another-password-456');
    const replayed = await get('/v2/team-a/app/manifests/v1', bearer(token!));
    assert.equal(replayed.status, 401, 'the token names the deleted account, not the name');
    assert.match(replayed.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    const fresh = await fetchToken(url, ['repository:team-a/app:pull'], basic('dave', 'another-password-456'));
    assert.deepEqual(accessOf(fresh.token!), [], 'the new dave has none of the old one\'s roles');
  });

  it('refuses registry tokens of an OIDC issuer once the issuer is removed', async () => {
    const other = await testIssuer('https://ci-2.example.test');
    await registry.admin.addIssuer({
      name: 'ci-2', issuer: other.issuer, audience: 'wharf', jwks: other.jwks,
      rules: [{ claims: { repository: 'org/app' }, grants: [{ repositories: 'team-a/*', actions: ['pull'] }] }],
    });
    const exchanged = await fetch(`${url}/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: await other.mint({ sub: 'job', repository: 'org/app' }), scope: 'repository:team-a/app:pull', service: 'wharf' }),
    });
    const { access_token } = await exchanged.json() as { access_token: string };
    assert.equal((await get('/v2/team-a/app/manifests/v1', bearer(access_token))).status, 200);
    await registry.store.deleteIssuer('ci-2');
    assert.equal((await get('/v2/team-a/app/manifests/v1', bearer(access_token))).status, 401);
  });

  it('does not let a blob of another namespace be read or mounted by digest', async () => {
    const secret = await pushBlob(url, 'team-b/app', 'team-b secret', 'application/octet-stream', { authorization: basic('root', PASSWORD) });
    const alice = basic('alice', PASSWORD);
    const read = await get(`/v2/team-a/app/blobs/${secret.digest}`, alice);
    assert.deepEqual([read.status, await errorCodes(read)], [404, ['BLOB_UNKNOWN']]);
    const mount = await fetch(`${url}/v2/team-a/app/blobs/uploads/?mount=${secret.digest}&from=team-b/app`, { method: 'POST', headers: { authorization: alice } });
    assert.equal(mount.status, 202, 'no pull access to the source: an upload, not a mount');
    assert.equal((await get(`/v2/team-a/app/blobs/${secret.digest}`, alice)).status, 404);
  });

  it('records allow and deny decisions on writes in the audit trail, without secrets', async () => {
    await fetch(`${url}/v2/team-b/app/blobs/uploads/`, { method: 'POST', headers: { authorization: basic('alice', PASSWORD) } });
    const events = await registry.store.listAudit({ limit: 50, identity: 'user:alice' });
    const denied = events.find((event) => !event.allowed && event.resource === 'team-b/app');
    assert.ok(denied, 'a denied push is audited');
    assert.match(denied.action, /POST/);
    assert.ok(events.every((event) => !JSON.stringify(event).includes(PASSWORD)));
  });

  it('keeps the management API for administrators', async () => {
    const list = (authorization?: string) => get('/api/v1/users', authorization);
    assert.equal((await list()).status, 401);
    assert.equal((await list(basic('alice', PASSWORD))).status, 403);
    const asRoot = await list(basic('root', PASSWORD));
    assert.equal(asRoot.status, 200);
    assert.ok(!JSON.stringify(await asRoot.json()).includes('scrypt'), 'no password hashes');
    const create = await fetch(`${url}/api/v1/robots`, {
      method: 'POST', headers: { authorization: basic('root', PASSWORD), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'api-bot', grants: [{ repositories: 'team-a/*', actions: ['pull'] }], expiresInSeconds: 3600 }),
    });
    assert.equal(create.status, 201);
    const created = await create.json() as { username: string; secret: string };
    assert.equal((await get('/v2/team-a/app/manifests/v1', basic(created.username, created.secret))).status, 200);
    const bad = await fetch(`${url}/api/v1/robots`, { method: 'POST', headers: { authorization: basic('root', PASSWORD) }, body: '{"name":"x","grants":[null]}' });
    assert.deepEqual([bad.status, await errorCodes(bad)], [400, ['BAD_REQUEST']]);
  });
});

describe('admission behind authentication', () => {
  it('refuses anonymous admission reviews and serves those of a robot with the admission capability', async () => {
    const registry = await startAuthRegistry({ WHARF_ADMISSION_REGISTRY_HOSTS: 'registry.example.test' });
    try {
      const robot = await registry.admin.createRobot('cluster', [{ repositories: 'team-a/*', actions: ['pull'] }], undefined, ['admission']);
      const review = JSON.stringify({
        apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
        request: { uid: 'u', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', userInfo: { username: 'k' }, object: { spec: { containers: [{ name: 'c', image: 'registry.example.test/team-a/app:v1' }] } } },
      });
      const anonymous = await fetch(`${registry.url}/admission/mutate`, { method: 'POST', body: review });
      assert.equal(anonymous.status, 401, 'no tag-to-digest answers for strangers');
      const robotAnswer = await fetch(`${registry.url}/admission/validate`, { method: 'POST', body: review, headers: { authorization: basic(robot.username, robot.secret) } });
      assert.equal(robotAnswer.status, 200);
    } finally {
      await registry.close();
    }
  });
});
