// Every role × action × (own namespace, other namespace), through Basic auth on /v2/ and through
// the token endpoint, against a real in-process registry with authentication on.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { accessOf, basic, fetchToken, startAuthRegistry, type AuthRegistry } from '../../test/support/auth-fixture.ts';
import { pushImage } from '../../test/support/registry-fixture.ts';

const PASSWORD = 'pass-word-123';
const ACTIONS = ['pull', 'push', 'delete'] as const;
type Action = (typeof ACTIONS)[number];

const EXPECTED: Record<string, Record<'own' | 'other', Action[]>> = {
  reader: { own: ['pull'], other: [] },
  writer: { own: ['pull', 'push'], other: [] },
  maintainer: { own: ['pull', 'push', 'delete'], other: [] },
  admin: { own: ['pull', 'push', 'delete'], other: [] },
  'global-admin': { own: ['pull', 'push', 'delete'], other: ['pull', 'push', 'delete'] },
  'no-role': { own: [], other: [] },
};

async function attempt(url: string, authorization: string, repository: string, action: Action): Promise<number> {
  const headers = { authorization };
  const response = action === 'pull'
    ? await fetch(`${url}/v2/${repository}/manifests/v1`, { headers })
    : action === 'push'
      ? await fetch(`${url}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers })
      : await fetch(`${url}/v2/${repository}/manifests/no-such-tag`, { method: 'DELETE', headers });
  await response.arrayBuffer();
  return response.status;
}

describe('access matrix', () => {
  let registry: AuthRegistry;
  before(async () => {
    registry = await startAuthRegistry();
    await registry.admin.addUser('root', PASSWORD, true);
    for (const role of ['reader', 'writer', 'maintainer', 'admin']) {
      await registry.admin.addUser(role, PASSWORD);
      await registry.admin.setMembership('own', { kind: 'user', name: role }, role);
    }
    await registry.admin.addUser('global-admin', PASSWORD, true);
    await registry.admin.addUser('no-role', PASSWORD);
    const root = basic('root', PASSWORD);
    for (const repository of ['own/app', 'other/app']) await pushImage(registry.url, repository, 'v1', {}, { authorization: root });
  });
  after(() => registry.close());

  for (const [user, expected] of Object.entries(EXPECTED)) {
    for (const namespace of ['own', 'other'] as const) {
      it(`${user} in the ${namespace} namespace may ${expected[namespace].join(', ') || 'nothing'}`, async () => {
        const repository = `${namespace}/app`;
        for (const action of ACTIONS) {
          const status = await attempt(registry.url, basic(user, PASSWORD), repository, action);
          const allowed = expected[namespace].includes(action);
          if (allowed) assert.notEqual(status, 403, `${user} ${action} ${repository}`);
          else assert.equal(status, 403, `${user} ${action} ${repository} must be denied`);
        }
        const { token } = await fetchToken(registry.url, [`repository:${repository}:pull,push,delete`], basic(user, PASSWORD));
        const granted = accessOf(token!).flatMap((entry) => entry.actions);
        assert.deepEqual(granted, expected[namespace], `token grants of ${user} on ${repository}`);
      });
    }
  }

  it('roles given to a team apply to its members', async () => {
    await registry.admin.addUser('member', PASSWORD);
    await registry.admin.createTeam('builders');
    await registry.admin.addTeamMember('builders', 'member');
    await registry.admin.setMembership('own', { kind: 'team', name: 'builders' }, 'writer');
    assert.notEqual(await attempt(registry.url, basic('member', PASSWORD), 'own/app', 'push'), 403);
    assert.equal(await attempt(registry.url, basic('member', PASSWORD), 'own/app', 'delete'), 403);
  });

  it('lists the catalog only for administrators', async () => {
    const asRoot = await fetch(`${registry.url}/v2/_catalog`, { headers: { authorization: basic('root', PASSWORD) } });
    assert.equal(asRoot.status, 200);
    const asReader = await fetch(`${registry.url}/v2/_catalog`, { headers: { authorization: basic('reader', PASSWORD) } });
    assert.equal(asReader.status, 403);
  });
});
