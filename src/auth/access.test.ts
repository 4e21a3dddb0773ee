import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { covers, parseScope } from './access.ts';
import { claimMatches } from './oidc.ts';
import { actionsFromGrants, grantCovers } from './identity.ts';
import { parseClaimRule, parseGrants, AdminInputError } from './identity-admin.ts';
import { LoginLimiter } from './login-limiter.ts';
import { hashPassword, newSecret, secretDigest, secretMatches, verifyPassword } from './secrets.ts';

describe('scopes', () => {
  it('parses repository and catalog scopes, expanding *', () => {
    assert.deepEqual(parseScope('repository:team-a/app:pull,push'), { type: 'repository', name: 'team-a/app', actions: ['pull', 'push'] });
    assert.deepEqual(parseScope('repository:team-a/app:*'), { type: 'repository', name: 'team-a/app', actions: ['pull', 'push', 'delete'] });
    assert.deepEqual(parseScope('registry:catalog:*'), { type: 'registry', name: 'catalog', actions: ['*'] });
  });

  it('refuses traversal, wildcards in names, injected commas and unknown actions', () => {
    for (const scope of [
      'repository:team-a/../team-b/app:pull', 'repository:*:pull', 'repository:team-b/*:pull', 'repository:team-a/app:pull,admin',
      'repository:team-a/app:pull,repository:team-b/app:push', 'repository::pull', 'repository:Team/app:pull', 'registry:catalog:pull',
      'registry:other:*', 'repo:team-a/app:pull', 'repository:team-a/app:', 'team-a/app', '',
    ]) assert.equal(parseScope(scope), undefined, scope);
  });

  it('never throws and never grants a name that is not a valid repository', () => {
    fc.assert(fc.property(fc.string(), (scope) => {
      const parsed = parseScope(scope);
      if (parsed?.type === 'repository') assert.match(parsed.name, /^[a-z0-9._/-]+$/);
    }));
  });

  it('checks that granted access covers what is needed', () => {
    const granted = [{ type: 'repository' as const, name: 'a/b', actions: ['pull'] }];
    assert.equal(covers(granted, { type: 'repository', name: 'a/b', actions: ['pull'] }), true);
    assert.equal(covers(granted, { type: 'repository', name: 'a/b', actions: ['pull', 'push'] }), false);
    assert.equal(covers(granted, { type: 'repository', name: 'a/c', actions: ['pull'] }), false);
  });
});

describe('grants', () => {
  it('matches exact repositories and prefixes ending in /*', () => {
    assert.equal(grantCovers('team-a/*', 'team-a/app'), true);
    assert.equal(grantCovers('team-a/*', 'team-a/deep/app'), true);
    assert.equal(grantCovers('team-a/*', 'team-ab/app'), false);
    assert.equal(grantCovers('team-a/app', 'team-a/app2'), false);
    assert.deepEqual(actionsFromGrants([{ repositories: 'a/*', actions: ['pull'] }, { repositories: 'a/x', actions: ['push'] }], 'a/x'), ['pull', 'push']);
  });

  it('parses grants and claim rules from the command line, refusing bad ones', () => {
    assert.deepEqual(parseGrants('team-a/*:pull,push;team-b/app:pull'), [
      { repositories: 'team-a/*', actions: ['pull', 'push'] }, { repositories: 'team-b/app', actions: ['pull'] },
    ]);
    assert.deepEqual(parseClaimRule('sub=repo:org/app:*, ref=refs/heads/main => team-a/*:push'), {
      claims: { sub: 'repo:org/app:*', ref: 'refs/heads/main' }, grants: [{ repositories: 'team-a/*', actions: ['push'] }],
    });
    for (const bad of ['team-a:fly', '../x:pull', 'Team/*:pull', ':pull', 'a/**:pull']) assert.throws(() => parseGrants(bad), AdminInputError, bad);
    assert.throws(() => parseClaimRule('sub=x'), AdminInputError);
    assert.throws(() => parseClaimRule(' => a/b:pull'), AdminInputError);
  });

  it('matches claims exactly or by glob', () => {
    assert.equal(claimMatches('repo:org/app:ref:refs/heads/main', 'repo:org/app:*'), true);
    assert.equal(claimMatches('repo:org/app2:x', 'repo:org/app:*'), false);
    assert.equal(claimMatches('system:serviceaccount:ci:builder', 'system:serviceaccount:ci:builder'), true);
    assert.equal(claimMatches(undefined, '*'), false);
    assert.equal(claimMatches('a.b', 'a?b'), false, 'only * is special');
  });
});

describe('secrets', () => {
  it('hashes passwords with scrypt and verifies them', async () => {
    const stored = await hashPassword('correct horse');
    assert.match(stored, /^scrypt\$32768\$8\$1\$/);
    assert.equal(await verifyPassword('correct horse', stored), true);
    assert.equal(await verifyPassword('wrong horse', stored), false);
    assert.equal(await verifyPassword('x', 'garbage'), false);
  });

  it('stores robot secrets as digests and compares them in constant time', () => {
    const secret = newSecret();
    assert.equal(secretMatches(secret, secretDigest(secret)), true);
    assert.equal(secretMatches(`${secret}x`, secretDigest(secret)), false);
    assert.equal(secretMatches(secret, 'not-hex'), false);
  });
});

describe('login limiter', () => {
  const fail = (limiter: LoginLimiter, account: string | undefined, address: string, at: number) => limiter.tryReserve(account, address, at)!.failed(at);
  /** True when an attempt may start now; the probe's reservation is given back. */
  const allowed = (limiter: LoginLimiter, account: string | undefined, address: string, now: number) => {
    const attempt = limiter.tryReserve(account, address, now);
    attempt?.release();
    return attempt !== undefined;
  };

  it('blocks an account or an address after repeated failures, for the window only', () => {
    const limiter = new LoginLimiter(3, 1000);
    for (let i = 0; i < 3; i++) fail(limiter, 'alice', '10.0.0.1', 0);
    assert.equal(allowed(limiter, 'alice', '10.0.0.9', 10), false, 'per account');
    assert.equal(allowed(limiter, 'bob', '10.0.0.1', 10), true, 'an address allows more failures than an account');
    for (let i = 0; i < 12; i++) fail(limiter, undefined, '10.0.0.1', 0);
    assert.equal(allowed(limiter, 'bob', '10.0.0.1', 10), false, 'per address');
    assert.equal(allowed(limiter, undefined, '10.0.0.1', 10), false, 'robots and OIDC are limited per address');
    assert.equal(allowed(limiter, 'bob', '10.0.0.9', 10), true);
    assert.equal(allowed(limiter, 'alice', '10.0.0.1', 1001), true, 'the window passes');
  });

  it('counts attempts in flight, and gives back the reservation of one that succeeds', () => {
    const limiter = new LoginLimiter(3, 1000);
    const inFlight = [1, 2, 3].map(() => limiter.tryReserve('carol', '10.0.0.1', 0));
    assert.ok(inFlight.every((attempt) => attempt !== undefined));
    assert.equal(limiter.tryReserve('carol', '10.0.0.2', 0), undefined, 'three unfinished attempts use up the account');
    inFlight[0]!.release();
    inFlight[0]!.failed(0);
    assert.equal(allowed(limiter, 'carol', '10.0.0.2', 0), true, 'a success gives its attempt back, once');
    inFlight[1]!.failed(0);
    inFlight[2]!.failed(0);
    fail(limiter, 'carol', '10.0.0.3', 0);
    assert.equal(allowed(limiter, 'carol', '10.0.0.2', 0), false, 'failures stay counted');
  });
});
