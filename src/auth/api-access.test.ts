// Who may read and call what on the management API (/api/v1/) and admission (/admission/), with
// authentication on. The routes are walked from the registry's own declarations
// (RegistryApp.apiRoutes), so a route added later is covered by these tests without editing them.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { basic, fetchToken, startAuthRegistry, type AuthRegistry } from '../../test/support/auth-fixture.ts';
import { errorCodes, json, pushImage, sha256 } from '../../test/support/registry-fixture.ts';
import { routePath, type ApiRoute } from '../server/api-routes.ts';
import { policyDatabasePath } from '../policy/service/policy-extension.ts';
import { SqlitePolicyStore } from '../policy/service/sqlite-policy-store.ts';

const PASSWORD = 'pass-word-123';
const SECRET_REPOSITORY = 'team-b/secret';
const MISSING_DIGEST = sha256('a manifest nobody pushed');
const NO_LATEST = `package wharf.policies.no_latest

deny contains {"msg": "no latest", "code": "TAG_LATEST"} if {
	input.artifact.tag == "latest"
}
`;

function admissionReview(image: string): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
    request: {
      uid: 'review-1', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', userInfo: { username: 'kube' },
      object: { spec: { containers: [{ name: 'main', image }] } },
    },
  });
}

describe('management API access', () => {
  let registry: AuthRegistry;
  let secretDigest: string;
  const root = basic('root', PASSWORD);
  const alice = basic('alice', PASSWORD);
  const bob = basic('bob', PASSWORD);
  let appPuller: string;
  let clusterWithoutCapability: string;
  let admissionRobot: string;

  const call = async (route: ApiRoute, path: string, authorization?: string) => {
    const body = route.method === 'PUT' || route.method === 'POST' ? '{}' : undefined;
    const response = await fetch(`${registry.url}${path}`, { method: route.method, body, headers: authorization ? { authorization } : {} });
    const codes = response.status >= 400 ? await errorCodes(response) : (await response.arrayBuffer(), []);
    return { status: response.status, codes };
  };
  /** A concrete path for a route; the repository is one the callers under test may not pull. */
  const pathFor = (route: ApiRoute, digest = secretDigest) => routePath(route, new Proxy({}, {
    get: (_, name) => (name === 'repository' ? SECRET_REPOSITORY : name === 'digest' ? digest : 'team-b'),
  }));

  before(async () => {
    registry = await startAuthRegistry({ WHARF_ADMISSION_REGISTRY_HOSTS: 'registry.example.test' });
    await registry.admin.addUser('root', PASSWORD, true);
    await registry.admin.addUser('alice', PASSWORD);
    await registry.admin.setMembership('team-a', { kind: 'user', name: 'alice' }, 'reader');
    await registry.admin.addUser('bob', PASSWORD);
    await registry.admin.setMembership('team-b', { kind: 'user', name: 'bob' }, 'reader');
    const puller = await registry.admin.createRobot('app-puller', [{ repositories: 'ns/app', actions: ['pull'] }]);
    appPuller = basic(puller.username, puller.secret);
    const cluster = await registry.admin.createRobot('cluster', [{ repositories: 'team-a/*', actions: ['pull'] }]);
    clusterWithoutCapability = basic(cluster.username, cluster.secret);
    const admission = await registry.admin.createRobot('admission', [], undefined, ['admission']);
    admissionRobot = basic(admission.username, admission.secret);
    const policy = await fetch(`${registry.url}/api/v1/policies/no-latest`, {
      method: 'PUT', headers: { authorization: root },
      body: JSON.stringify({ package: 'wharf.policies.no_latest', modules: [{ file: 'no-latest.rego', source: NO_LATEST }], binding: { points: ['push'], namespaces: ['team-*'] } }),
    });
    assert.equal(policy.status, 201);
    secretDigest = (await pushImage(registry.url, SECRET_REPOSITORY, 'v1', {}, { authorization: root })).digest;
    await pushImage(registry.url, 'team-a/app', 'v1', {}, { authorization: root });
  });
  after(() => registry.close());

  it('declares the routes it serves, the trust document among those naming a repository', () => {
    const naming = registry.app.apiRoutes.filter((route) => route.path.includes('{repository}'));
    assert.ok(naming.some((route) => route.path === '/api/v1/repositories/{repository}/manifests/{digest}/trust'), JSON.stringify(naming));
    assert.ok(registry.app.apiRoutes.some((route) => route.path.startsWith('/api/v1/users')), 'identity routes are declared');
    assert.ok(registry.app.apiRoutes.some((route) => route.path.startsWith('/admission/')), 'admission routes are declared');
  });

  it('refuses every route naming a repository to callers without pull access, the same way whether the digest exists or not', async () => {
    const naming = registry.app.apiRoutes.filter((route) => route.path.includes('{repository}'));
    const { token } = await fetchToken(registry.url, ['repository:team-a/app:pull'], alice);
    const callers: [string, string, number, string][] = [
      ['a reader of team-a (Basic)', alice, 403, 'DENIED'],
      ['a robot with only ns/app:pull', appPuller, 403, 'DENIED'],
      ['a token of a reader of team-a', `Bearer ${token}`, 401, 'UNAUTHORIZED'],
    ];
    for (const route of naming) {
      for (const [who, authorization, status, code] of callers) {
        const existing = await call(route, pathFor(route), authorization);
        const missing = await call(route, pathFor(route, MISSING_DIGEST), authorization);
        assert.deepEqual(existing, { status, codes: [code] }, `${route.method} ${route.path} as ${who}`);
        assert.deepEqual(missing, existing, `${route.method} ${route.path} as ${who}: a missing digest answers as an existing one`);
      }
    }
  });

  it('serves the trust document to callers who may pull the repository', async () => {
    const route = registry.app.apiRoutes.find((candidate) => candidate.path.endsWith('/trust') && candidate.path.includes('{repository}'))!;
    assert.equal((await call(route, pathFor(route), bob)).status, 200, 'a reader of team-b');
    assert.equal((await call(route, pathFor(route), root)).status, 200, 'an administrator');
    assert.deepEqual(await call(route, pathFor(route, MISSING_DIGEST), bob), { status: 404, codes: ['NOT_FOUND'] });
    const { token } = await fetchToken(registry.url, [`repository:${SECRET_REPOSITORY}:pull`], bob);
    assert.equal((await call(route, pathFor(route), `Bearer ${token}`)).status, 200, 'a token carrying the pull scope');
  });

  it('keeps every administrator route for administrators', async () => {
    const adminRoutes = registry.app.apiRoutes.filter((route) => route.access === 'admin');
    for (const path of ['/api/v1/policies', '/api/v1/policies/{name}', '/api/v1/trust', '/api/v1/audit', '/api/v1/users', '/api/v1/teams', '/api/v1/robots', '/api/v1/issuers', '/api/v1/namespaces/{namespace}/members', '/api/v1/namespaces/{namespace}/settings']) {
      assert.ok(adminRoutes.some((route) => route.method === 'GET' && route.path === path), `GET ${path} is for administrators`);
    }
    for (const route of adminRoutes) {
      for (const [who, authorization] of [['alice', alice], ['a robot', appPuller], ['the admission robot', admissionRobot]]) {
        assert.deepEqual(await call(route, pathFor(route), authorization), { status: 403, codes: ['DENIED'] }, `${route.method} ${route.path} as ${who}`);
      }
      assert.equal((await call(route, pathFor(route))).status, 401, `${route.method} ${route.path} anonymously`);
    }
    assert.equal((await call({ method: 'GET', path: '/api/v1/policies', access: 'admin' }, '/api/v1/policies', root)).status, 200);
  });

  it('keeps paths nobody declared for administrators', async () => {
    const route: ApiRoute = { method: 'GET', path: '/api/v1/no-such-thing', access: 'admin' };
    assert.deepEqual(await call(route, route.path, alice), { status: 403, codes: ['DENIED'] });
    assert.deepEqual(await call(route, route.path, root), { status: 404, codes: ['NOT_FOUND'] });
  });

  it('lists decisions only about repositories the caller may pull', async () => {
    const repositories = async (authorization: string, query = '') => {
      const response = await fetch(`${registry.url}/api/v1/decisions${query}`, { headers: { authorization } });
      assert.equal(response.status, 200);
      return new Set((await json(response) as { repository?: string }[]).map((decision) => decision.repository));
    };
    assert.deepEqual(await repositories(root), new Set(['team-a/app', SECRET_REPOSITORY]));
    assert.deepEqual(await repositories(alice), new Set(['team-a/app']));
    assert.deepEqual(await repositories(bob), new Set([SECRET_REPOSITORY]));
    assert.deepEqual(await repositories(appPuller), new Set());
    for (const repository of [SECRET_REPOSITORY, 'team-b/never-pushed']) {
      const asked = await fetch(`${registry.url}/api/v1/decisions?repository=${repository}`, { headers: { authorization: alice } });
      assert.deepEqual([asked.status, await errorCodes(asked)], [403, ['DENIED']], `alice asking for ${repository}`);
    }
  });

  it('lists quarantined artifacts only of repositories the caller may pull', async () => {
    // Quarantine is what the signed-within policy decides; the store is written directly, as the service would.
    const store = new SqlitePolicyStore(policyDatabasePath(registry.dataDir));
    try {
      await store.setQuarantine('team-a/app', sha256('a'), [{ msg: 'unsigned', code: 'UNSIGNED' }]);
      await store.setQuarantine(SECRET_REPOSITORY, secretDigest, [{ msg: 'unsigned', code: 'UNSIGNED' }]);
    } finally {
      await store.close();
    }
    const repositories = async (authorization: string) => {
      const response = await fetch(`${registry.url}/api/v1/quarantine`, { headers: { authorization } });
      assert.equal(response.status, 200);
      return (await json(response) as { repository: string }[]).map((entry) => entry.repository).sort();
    };
    assert.deepEqual(await repositories(root), ['team-a/app', SECRET_REPOSITORY]);
    assert.deepEqual(await repositories(alice), ['team-a/app']);
    assert.deepEqual(await repositories(appPuller), []);
  });

  it('answers admission reviews only for administrators and identities with the admission capability', async () => {
    const review = admissionReview(`registry.example.test/${SECRET_REPOSITORY}:v1`);
    const mutate = (authorization?: string) => fetch(`${registry.url}/admission/mutate`, { method: 'POST', body: review, headers: authorization ? { authorization } : {} });
    assert.equal((await mutate()).status, 401);
    for (const [who, authorization] of [['alice', alice], ['bob', bob], ['a robot without the capability', clusterWithoutCapability]]) {
      const refused = await mutate(authorization);
      assert.deepEqual([refused.status, await errorCodes(refused)], [403, ['DENIED']], who);
    }
    for (const authorization of [admissionRobot, root]) {
      const answered = await mutate(authorization);
      assert.equal(answered.status, 200);
      const { response } = await answered.json() as { response: { allowed: boolean; patch?: string } };
      assert.equal(response.allowed, true);
      assert.match(Buffer.from(response.patch!, 'base64').toString(), new RegExp(secretDigest));
    }
    const validate = await fetch(`${registry.url}/admission/validate`, { method: 'POST', body: review, headers: { authorization: alice } });
    assert.equal(validate.status, 403);
  });
});
