// Token lifecycle over HTTP: refresh tokens, key rotation, JWKS from a URL.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basic, fetchToken, startAuthRegistry, testIssuer, type AuthRegistry } from '../../test/support/auth-fixture.ts';
import { pushImage } from '../../test/support/registry-fixture.ts';

const PASSWORD = 'pass-word-123';
const form = (fields: Record<string, string>) => ({
  method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields),
});

describe('tokens', () => {
  let registry: AuthRegistry;
  let url: string;
  before(async () => {
    registry = await startAuthRegistry();
    url = registry.url;
    await registry.admin.addUser('root', PASSWORD, true);
    await registry.admin.addUser('bob', PASSWORD);
    await registry.admin.setMembership('bobs', { kind: 'user', name: 'bob' }, 'maintainer');
    await pushImage(url, 'bobs/app', 'v1', {}, { authorization: basic('root', PASSWORD) });
  });
  after(() => registry.close());

  it('issues refresh tokens for offline access and ends them when the password changes', async () => {
    const first = await fetch(`${url}/token`, form({ grant_type: 'password', username: 'bob', password: PASSWORD, access_type: 'offline', scope: 'repository:bobs/app:pull', service: 'wharf', client_id: 'test' }));
    assert.equal(first.status, 200);
    const { refresh_token, access_token, token_type, scope } = await first.json() as Record<string, string>;
    assert.ok(refresh_token && access_token);
    assert.equal(token_type, 'Bearer');
    assert.equal(scope, 'repository:bobs/app:pull');
    const refreshed = await fetch(`${url}/token`, form({ grant_type: 'refresh_token', refresh_token: refresh_token!, scope: 'repository:bobs/app:pull,push', service: 'wharf' }));
    assert.equal(refreshed.status, 200);
    const viaGet = await fetchToken(url, ['repository:bobs/app:pull'], basic('bob', PASSWORD));
    assert.equal(viaGet.body.refresh_token, undefined, 'no refresh token unless asked for');
    await registry.admin.setPassword('bob', 'new-password-456');
    const afterChange = await fetch(`${url}/token`, form({ grant_type: 'refresh_token', refresh_token: refresh_token!, service: 'wharf' }));
    assert.equal(afterChange.status, 400);
    assert.equal((await afterChange.json() as { error: string }).error, 'invalid_grant');
    await registry.admin.setPassword('bob', PASSWORD);
  });

  it('refuses unknown grant types and wrong passwords in the OAuth2 shape', async () => {
    const unknown = await fetch(`${url}/token`, form({ grant_type: 'client_credentials' }));
    assert.deepEqual([unknown.status, (await unknown.json() as { error: string }).error], [400, 'unsupported_grant_type']);
    const wrong = await fetch(`${url}/token`, form({ grant_type: 'password', username: 'bob', password: 'nope' }));
    assert.deepEqual([wrong.status, (await wrong.json() as { error: string }).error], [400, 'invalid_grant']);
  });

  it('keeps tokens of a rotated key valid and signs new ones with the new key', async () => {
    const before = await fetchToken(url, ['repository:bobs/app:pull'], basic('bob', PASSWORD));
    const rotated = await fetch(`${url}/api/v1/token-keys/rotate`, { method: 'POST', headers: { authorization: basic('root', PASSWORD) } });
    assert.equal(rotated.status, 201);
    const { kid } = await rotated.json() as { kid: string };
    const after = await fetchToken(url, ['repository:bobs/app:pull'], basic('bob', PASSWORD));
    const kidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid;
    assert.equal(kidOf(after.token!), kid);
    assert.notEqual(kidOf(before.token!), kid);
    for (const token of [before.token!, after.token!]) {
      assert.equal((await fetch(`${url}/v2/bobs/app/manifests/v1`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    }
  });

  it('verifies OIDC tokens against a JWKS fetched from a URL', async () => {
    const issuer = await testIssuer('https://ci.local.test');
    const jwksServer: Server = createServer((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(issuer.jwks));
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    try {
      const port = (jwksServer.address() as AddressInfo).port;
      await registry.admin.addIssuer({
        name: 'remote', issuer: issuer.issuer, audience: 'wharf', jwksUrl: `http://127.0.0.1:${port}/jwks`,
        rules: [{ claims: { sub: 'job-*' }, grants: [{ repositories: 'bobs/*', actions: ['pull'] }] }],
      });
      const token = await issuer.mint({ sub: 'job-42' });
      assert.equal((await fetch(`${url}/v2/bobs/app/manifests/v1`, { headers: { authorization: basic('oidc', token) } })).status, 200);
    } finally {
      jwksServer.close();
    }
  });
});
