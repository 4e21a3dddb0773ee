// The identity administration commands, run as a user would: a child process on a data folder.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE = join(ROOT, 'node_modules', '.bin', 'node');

describe('wharf user|team|member|robot|issuer', () => {
  let data: string;
  const wharf = (args: string[], input?: string) => {
    const result = spawnSync(NODE, [join(ROOT, 'src', 'cli', 'main.ts'), ...args, '--data', data], { input, encoding: 'utf8', timeout: 30_000 });
    return { code: result.status, out: result.stdout, err: result.stderr };
  };
  before(async () => { data = await mkdtemp(join(tmpdir(), 'wharf-cli-')); });
  after(() => rm(data, { recursive: true, force: true }));

  it('adds users, teams and memberships and lists them', () => {
    assert.equal(wharf(['user', 'add', 'admin', '--admin', '--password-stdin'], 'admin-password\n').code, 0);
    assert.equal(wharf(['user', 'add', 'dev', '--password-stdin'], 'dev-password\n').code, 0);
    assert.equal(wharf(['team', 'create', 'devs']).code, 0);
    assert.equal(wharf(['team', 'add', 'devs', 'dev']).code, 0);
    assert.equal(wharf(['member', 'set', 'team-a', '--team', 'devs', 'writer']).code, 0);
    const users = JSON.parse(wharf(['user', 'list', '--json']).out);
    assert.deepEqual(users.map((u: { username: string; admin: boolean }) => [u.username, u.admin]), [['admin', true], ['dev', false]]);
    assert.match(wharf(['member', 'list']).out, /team-a\s+devs\s+writer/);
    assert.equal(wharf(['user', 'passwd', 'dev', '--password-stdin'], 'another-password\n').code, 0);
  });

  it('creates a robot whose secret is printed once and revokes it', () => {
    const created = JSON.parse(wharf(['robot', 'create', 'ci', '--grant', 'team-a/*:pull,push', '--expires', '30', '--json']).out);
    assert.equal(created.username, 'robot$ci');
    assert.ok(created.secret.length >= 40);
    const listed = wharf(['robot', 'list']).out;
    assert.ok(listed.includes('team-a/*:pull,push') && !listed.includes(created.secret));
    assert.equal(wharf(['robot', 'revoke', 'ci']).code, 0);
    assert.notEqual(JSON.parse(wharf(['robot', 'list', '--json']).out)[0].revoked, '');
  });

  it('creates a robot with the admission capability and no repository grants', () => {
    const created = JSON.parse(wharf(['robot', 'create', 'admission', '--capability', 'admission', '--json']).out);
    assert.equal(created.username, 'robot$admission');
    const listed = JSON.parse(wharf(['robot', 'list', '--json']).out).find((robot: { robot: string }) => robot.robot === 'admission');
    assert.deepEqual([listed.capabilities, listed.grants], ['admission', '']);
    const unknown = wharf(['robot', 'create', 'bot2', '--capability', 'superuser']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /invalid capabilities .*use admission/);
    assert.match(wharf(['robot', 'create', 'bot3']).err, /at least one grant or capability/);
  });

  it('adds an OIDC issuer from a JWKS file and rules', async () => {
    const jwks = join(data, 'jwks.json');
    await writeFile(jwks, JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }] }));
    const added = wharf(['issuer', 'add', 'cluster', '--issuer', 'https://kubernetes.default.svc', '--audience', 'wharf', '--jwks-file', jwks,
      '--rule', 'sub=system:serviceaccount:ci:* => team-a/*:pull']);
    assert.equal(added.code, 0, added.err);
    assert.match(wharf(['issuer', 'list']).out, /cluster\s+https:\/\/kubernetes\.default\.svc\s+wharf\s+inline JWKS\s+1/);
  });

  it('explains bad input in one line and exits non-zero', () => {
    const cases: [string[], string | undefined, RegExp][] = [
      [['user', 'add', 'Bad Name', '--password-stdin'], 'password-long\n', /invalid username/],
      [['user', 'add', 'short', '--password-stdin'], 'abc\n', /at least 8 characters/],
      [['user', 'add', 'admin', '--password-stdin'], 'admin-password\n', /already exists/],
      [['robot', 'create', 'bot', '--grant', '../etc:pull'], undefined, /invalid repositories/],
      [['member', 'set', 'team-a', '--user', 'dev', 'owner'], undefined, /invalid role/],
      [['issuer', 'add', 'x', '--issuer', 'https://x', '--audience', 'a', '--jwks-file', '/nonexistent'], undefined, /cannot read \/nonexistent/],
      [['user', 'rm', 'ghost'], undefined, /no user ghost/],
    ];
    for (const [args, input, message] of cases) {
      const result = wharf(args, input);
      assert.equal(result.code, 1, args.join(' '));
      assert.match(result.err, message);
      assert.ok(!result.err.includes('    at '), 'no stack trace');
    }
    assert.equal(wharf(['robot']).code, 2);
  });
});
