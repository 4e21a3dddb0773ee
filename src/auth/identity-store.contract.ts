/**
 * The guarantees of IdentityStore, as tests any implementation runs:
 * `describeIdentityStore('sqlite', async () => ({ store, cleanup }))`.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { IdentityStore } from './identity-store.ts';

export interface IdentityStoreFixture {
  readonly store: IdentityStore;
  cleanup(): Promise<void>;
}

const user = (username: string, admin = false) => ({ username, passwordHash: `scrypt$hash-of-${username}`, admin, createdAt: new Date(1_800_000_000_000) });

export function describeIdentityStore(name: string, make: () => Promise<IdentityStoreFixture>): void {
  describe(`IdentityStore contract: ${name}`, () => {
    let fixture: IdentityStoreFixture;
    let store: IdentityStore;
    beforeEach(async () => {
      fixture = await make();
      store = fixture.store;
      await store.migrate();
    });
    afterEach(() => fixture.cleanup());

    it('keeps users, and deleting one removes its memberships and refresh tokens', async () => {
      assert.equal(await store.hasPrincipals(), false);
      await store.putUser(user('alice'));
      await store.putUser({ ...user('alice'), admin: true });
      assert.equal((await store.getUser('alice'))?.admin, true);
      assert.equal(await store.hasPrincipals(), true);
      await store.setMembership({ namespace: 'team-a', principal: { kind: 'user', name: 'alice' }, role: 'writer' });
      await store.putRefreshToken('digest', 'user:alice', new Date(Date.now() + 60_000));
      assert.equal(await store.deleteUser('alice'), true);
      assert.deepEqual(await store.listMemberships(), []);
      assert.equal(await store.getRefreshToken('digest', new Date()), undefined);
      assert.equal(await store.deleteUser('alice'), false);
    });

    it('gives each account an id that updates keep and a re-created account does not share', async () => {
      await store.putUser(user('carol'));
      const first = (await store.getUser('carol'))!.id;
      assert.ok(first);
      await store.putUser({ ...user('carol'), admin: true });
      assert.equal((await store.getUser('carol'))?.id, first);
      await store.deleteUser('carol');
      await store.putUser(user('carol'));
      assert.notEqual((await store.getUser('carol'))?.id, first);
      await store.putRobot({ name: 'ci', secretHash: 'ab', grants: [{ repositories: 'a/*', actions: ['pull'] }], createdAt: new Date() });
      const robot = (await store.getRobot('ci'))!.id;
      assert.ok(robot && robot !== first);
      await store.putRobot({ name: 'ci', secretHash: 'cd', grants: [{ repositories: 'a/*', actions: ['pull'] }], createdAt: new Date() });
      assert.equal((await store.getRobot('ci'))?.id, robot);
    });

    it('applies a team\'s memberships to its members, the stronger role kept by callers', async () => {
      await store.putUser(user('bob'));
      await store.createTeam('devs');
      await store.addTeamMember('devs', 'bob');
      await store.setMembership({ namespace: 'team-a', principal: { kind: 'team', name: 'devs' }, role: 'reader' });
      await store.setMembership({ namespace: 'team-a', principal: { kind: 'user', name: 'bob' }, role: 'maintainer' });
      assert.deepEqual((await store.membershipsOf('bob')).map((m) => m.role).sort(), ['maintainer', 'reader']);
      assert.deepEqual(await store.teamsOf('bob'), ['devs']);
      assert.equal(await store.removeTeamMember('devs', 'bob'), true);
      assert.deepEqual((await store.membershipsOf('bob')).map((m) => m.role), ['maintainer']);
      assert.equal(await store.deleteTeam('devs'), true);
      assert.deepEqual(await store.listMemberships('team-a'), [{ namespace: 'team-a', principal: { kind: 'user', name: 'bob' }, role: 'maintainer' }]);
    });

    it('revokes robots once and records their last use', async () => {
      await store.putRobot({ name: 'ci', secretHash: 'ab', grants: [{ repositories: 'a/*', actions: ['pull'] }], createdAt: new Date() });
      await store.touchRobot('ci', new Date(1_800_000_000_000));
      assert.equal((await store.getRobot('ci'))?.lastUsedAt?.getTime(), 1_800_000_000_000);
      assert.equal(await store.revokeRobot('ci', new Date()), true);
      assert.equal(await store.revokeRobot('ci', new Date()), false);
      assert.ok((await store.getRobot('ci'))?.revokedAt);
    });

    it('expires refresh tokens and keeps issuers, signing keys and the audit trail', async () => {
      await store.putRefreshToken('old', 'user:x', new Date(Date.now() - 1));
      assert.equal(await store.getRefreshToken('old', new Date()), undefined);
      await store.putIssuer({ name: 'ci', issuer: 'https://ci', audience: 'wharf', jwksUrl: 'https://ci/jwks', rules: [{ claims: { sub: 'x' }, grants: [] }] });
      assert.equal((await store.listIssuers())[0]?.jwksUrl, 'https://ci/jwks');
      assert.equal(await store.deleteIssuer('ci'), true);
      await store.addSigningKey({ kid: 'k1', algorithm: 'ES256', privateKeyPem: 'pem', createdAt: new Date() });
      await store.retireSigningKey('k1', new Date());
      assert.ok((await store.listSigningKeys())[0]?.retiredAt);
      for (const allowed of [true, false]) {
        await store.appendAudit({ time: new Date(), identity: 'user:x', action: 'PUT push', resource: 'a/b', allowed, reason: allowed ? 'granted' : 'not granted' });
      }
      assert.deepEqual((await store.listAudit({ limit: 10 })).map((e) => e.allowed), [false, true]);
      assert.deepEqual((await store.listAudit({ limit: 10, allowed: true })).length, 1);
    });
  });
}
