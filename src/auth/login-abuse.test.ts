// Abuse of password logins: guessing in parallel bursts, stalling the registry with slow hashes,
// and telling real user names from unknown ones by how long a refusal takes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import { basic, fetchToken, startAuthRegistry, type AuthRegistry } from '../../test/support/auth-fixture.ts';
import { errorCodes, pushBlob } from '../../test/support/registry-fixture.ts';
import { hashPassword, passwordHashTrace } from './secrets.ts';

const PASSWORD = 'pass-word-123';

/** Counts the password hashes the process runs, and the most that ran at once. */
function watchPasswordHashes() {
  const seen = { started: 0, running: 0, mostAtOnce: 0 };
  const subscribers = {
    start() {
      seen.started++;
      seen.running++;
      seen.mostAtOnce = Math.max(seen.mostAtOnce, seen.running);
    },
    asyncEnd() {
      seen.running--;
    },
    end() {}, asyncStart() {}, error() {},
  };
  passwordHashTrace.subscribe(subscribers);
  return { seen, stop: () => passwordHashTrace.unsubscribe(subscribers) };
}

/** GET /v2/ with Basic credentials over a connection of its own from `localAddress` (any 127.x.y.z is loopback). */
function loginFrom(url: string, localAddress: string, username: string, password: string): Promise<number> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: target.hostname, port: target.port, path: '/v2/', localAddress, agent: false,
      headers: { authorization: basic(username, password) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('parallel login bursts', () => {
  let registry: AuthRegistry;
  before(async () => {
    registry = await startAuthRegistry();
    await registry.admin.addUser('carol', PASSWORD);
    await registry.admin.addUser('erin', PASSWORD);
  });
  after(() => registry.close());

  it('counts attempts in flight: of 120 guesses sent together at most the limit are hashed, and the right one past it is refused', async () => {
    const hashes = watchPasswordHashes();
    try {
      const guesses = Array.from({ length: 120 }, (_, i) => (i === 100 ? PASSWORD : `guess-${i}`));
      const responses = await Promise.all(guesses.map((password) => fetch(`${registry.url}/v2/`, { headers: { authorization: basic('carol', password) } })));
      const statuses = responses.map((response) => response.status);
      assert.equal(statuses[100], 429, 'the right password after the limit is refused like any other attempt');
      assert.ok(hashes.seen.started <= 10, `at most the limit of 10 attempts are hashed, not ${hashes.seen.started}`);
      assert.ok(statuses.every((status) => status === 401 || status === 429), statuses.join(','));
      assert.ok(statuses.filter((status) => status === 429).length >= 110);
      const refused = responses[119]!;
      assert.deepEqual(await errorCodes(refused), ['TOOMANYREQUESTS']);
      await Promise.all(responses.slice(0, 119).map((response) => response.body?.cancel()));
    } finally {
      hashes.stop();
    }
  });

  it('lets a burst of logins with the right password through: identical attempts in flight share one check', async () => {
    const hashes = watchPasswordHashes();
    try {
      const statuses = await Promise.all(Array.from({ length: 30 }, () =>
        fetch(`${registry.url}/v2/`, { headers: { authorization: basic('erin', PASSWORD) } }).then(async (response) => {
          await response.body?.cancel();
          return response.status;
        })));
      assert.deepEqual(new Set(statuses), new Set([200]));
      assert.equal(hashes.seen.started, 1, 'one hash for thirty identical logins');
    } finally {
      hashes.stop();
    }
  });
});

describe('slow password hashes', () => {
  let registry: AuthRegistry;
  before(async () => {
    registry = await startAuthRegistry();
    await registry.admin.addUser('root', PASSWORD, true);
    const passwordHash = await hashPassword(PASSWORD);
    for (let i = 0; i < 20; i++) await registry.store.putUser({ username: `user${i}`, passwordHash, admin: false, createdAt: new Date() });
  });
  after(() => registry.close());

  it('keep a blob pull under 500 ms while 200 wrong passwords for 20 users from 20 addresses arrive together', async () => {
    const blob = await pushBlob(registry.url, 'team-a/app', randomBytes(1024 * 1024), 'application/octet-stream', { authorization: basic('root', PASSWORD) });
    const { token } = await fetchToken(registry.url, ['repository:team-a/app:pull'], basic('root', PASSWORD));
    const pull = async () => {
      const started = performance.now();
      const response = await fetch(`${registry.url}/v2/team-a/app/blobs/${blob.digest}`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.status, 200);
      assert.equal((await response.arrayBuffer()).byteLength, blob.size);
      return performance.now() - started;
    };
    await pull();
    const hashes = watchPasswordHashes();
    try {
      // Ten attempts per user and per address: within the login limits, so they alone do not help.
      const attack = Promise.all(Array.from({ length: 200 }, (_, i) =>
        loginFrom(registry.url, `127.0.0.${2 + (i % 20)}`, `user${Math.floor(i / 10)}`, `wrong-${i}`)));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const latencies: number[] = [];
      for (let i = 0; i < 5; i++) latencies.push(await pull());
      const statuses = await attack;
      assert.ok(Math.max(...latencies) < 500, `blob pulls took ${latencies.map((ms) => Math.round(ms)).join(', ')} ms`);
      assert.ok(statuses.every((status) => status === 401 || status === 429), statuses.join(','));
      assert.ok(statuses.includes(429), 'attempts beyond the hash queue are refused at once');
      assert.equal(hashes.seen.mostAtOnce, 1, 'one password hash at a time');
    } finally {
      hashes.stop();
    }
  });
});

describe('user names cannot be told apart by timing', () => {
  let registry: AuthRegistry;
  before(async () => {
    registry = await startAuthRegistry();
    await registry.admin.addUser('frank', PASSWORD);
  });
  after(() => registry.close());

  it('hashes the password of an unknown user just as of a known one', async () => {
    const hashesFor = async (username: string) => {
      const hashes = watchPasswordHashes();
      try {
        const response = await fetch(`${registry.url}/v2/`, { headers: { authorization: basic(username, 'not-the-password') } });
        assert.equal(response.status, 401);
        return hashes.seen.started;
      } finally {
        hashes.stop();
      }
    };
    assert.equal(await hashesFor('frank'), 1);
    assert.equal(await hashesFor('nobody-of-that-name'), 1, 'an unknown user costs a hash too');
    const viaTokenEndpoint = watchPasswordHashes();
    try {
      const response = await fetch(`${registry.url}/token`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', username: 'nobody-else', password: 'x', service: 'wharf' }),
      });
      assert.equal(response.status, 400);
      assert.equal(viaTokenEndpoint.seen.started, 1, 'the password grant takes the same path');
    } finally {
      viaTokenEndpoint.stop();
    }
  });
});
