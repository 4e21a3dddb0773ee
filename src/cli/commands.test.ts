// The `wharf` command as a user meets it: every command and subcommand explains itself with
// --help, administration acts on a running server or an existing data folder (never a new empty
// one made by accident), and the data folder and a policy's data document are told apart.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pushImage, startTestRegistry, type TestRegistry } from '../../test/support/registry-fixture.ts';
import { COMMAND_TABLE } from './command-table.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WHARF = join(ROOT, 'bin', 'wharf');

interface Result { code: number | null; out: string; err: string }

/** The environment of a user with no Wharf settings and an empty home, plus `extra`. */
function cleanEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('WHARF_')) env[key] = value;
  return { ...env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), ...extra };
}

/** Runs bin/wharf asynchronously (an in-process registry must keep serving meanwhile). */
function wharf(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; input?: string }): Promise<Result> {
  const child = spawn(WHARF, args, { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { err += chunk; });
  child.stdin.end(options.input ?? '');
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out, err }); });
  });
}

describe('wharf --help', () => {
  let home: string;
  before(async () => { home = await mkdtemp(join(tmpdir(), 'wharf-help-')); });
  after(() => rm(home, { recursive: true, force: true }));

  it('every command and subcommand in the command table answers --help with exit 0 and each flag it accepts', async () => {
    const invocations: { args: string[]; flags: string[]; subcommands: string[] }[] = [];
    for (const [name, spec] of Object.entries(COMMAND_TABLE)) {
      invocations.push({ args: [name], flags: Object.keys(spec.self?.flags ?? {}), subcommands: Object.keys(spec.subcommands ?? {}) });
      for (const [sub, subSpec] of Object.entries(spec.subcommands ?? {})) {
        invocations.push({ args: [name, sub], flags: Object.keys(subSpec.flags), subcommands: [] });
      }
    }
    assert.ok(invocations.length > 40, 'the table lists the commands and their subcommands');
    // A few at a time: each is a process start.
    for (let i = 0; i < invocations.length; i += 4) {
      await Promise.all(invocations.slice(i, i + 4).map(async ({ args, flags, subcommands }) => {
        const result = await wharf([...args, '--help'], { cwd: home, env: cleanEnv(home) });
        const what = `wharf ${args.join(' ')} --help`;
        assert.equal(result.code, 0, `${what}: ${result.err}`);
        for (const flag of flags) assert.ok(result.out.includes(`--${flag}`), `${what} does not mention --${flag}:\n${result.out}`);
        for (const sub of subcommands) assert.match(result.out, new RegExp(`^  ${sub}\\b`, 'm'), `${what} does not list ${sub}`);
        assert.match(result.out, /Acts on|Serves|Credentials file/, `${what} does not say what it acts on`);
      }));
    }
  });

  it('the supply-chain commands, which parse their own flags, accept every flag their help lists', async () => {
    // Given a listed flag but no image reference, a command must stop at its usage, not at the flag.
    const probes: string[][] = [];
    for (const [name, spec] of Object.entries(COMMAND_TABLE)) {
      const subs: [string[], (typeof spec)['self']][] = [[[name], spec.self], ...Object.entries(spec.subcommands ?? {}).map(([sub, s]) => [[name, sub], s] as [string[], typeof s])];
      for (const [args, sub] of subs) {
        if (sub?.target !== 'registry') continue;
        // All of a command's flags at once: an unknown one would be named in the error.
        probes.push([...args, ...Object.entries(sub.flags).flatMap(([flag, flagSpec]) => [`--${flag}`, ...(flagSpec.type === 'string' ? ['x'] : [])])]);
      }
    }
    assert.ok(probes.length >= 7, 'sign, verify, attest, attach sbom, sbom, vulns, vulns import, …');
    for (let i = 0; i < probes.length; i += 4) {
      await Promise.all(probes.slice(i, i + 4).map(async (args) => {
        const result = await wharf(args, { cwd: home, env: cleanEnv(home) });
        assert.doesNotMatch(result.err, /Unknown option/, `wharf ${args.join(' ')}: ${result.err}`);
        assert.match(result.err, /usage/i, `wharf ${args.join(' ')} should stop at its usage: ${result.err}`);
      }));
    }
  });

  it('says which data folder or server an administration command acts on', async () => {
    const folder = await wharf(['user', 'add', '--help', '--data-dir', '/srv/wharf'], { cwd: home, env: cleanEnv(home) });
    assert.match(folder.out, /Acts on: the data folder \/srv\/wharf \(from --data-dir/);
    const server = await wharf(['policy', 'push', '--help'], { cwd: home, env: cleanEnv(home, { WHARF_SERVER: 'http://127.0.0.1:5999' }) });
    assert.match(server.out, /Acts on: the Wharf server http:\/\/127\.0\.0\.1:5999 \(from WHARF_SERVER/);
    const fallback = await wharf(['robot', 'create', '-h'], { cwd: home, env: cleanEnv(home) });
    assert.match(fallback.out, new RegExp(`Acts on: the data folder ${join(home, 'wharf-data').replace(/[/.]/g, '\\$&')} \\(from the default; it does not exist\\)`));
  });

  it('wharf --version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const args of [['--version'], ['version']]) {
      const result = await wharf(args, { cwd: home, env: cleanEnv(home) });
      assert.equal(result.code, 0);
      assert.equal(result.out.trim(), `wharf ${version}`);
    }
  });
});

describe('administration targets', () => {
  let registry: TestRegistry;
  let home: string;
  let elsewhere: string;
  const adminAuth = { authorization: `Basic ${Buffer.from('root:root-password').toString('base64')}` };

  before(async () => {
    registry = await startTestRegistry({ WHARF_AUTH_ENABLED: 'true' });
    home = await mkdtemp(join(tmpdir(), 'wharf-home-'));
    elsewhere = await mkdtemp(join(tmpdir(), 'wharf-elsewhere-'));
  });
  after(async () => {
    await registry.close();
    await rm(home, { recursive: true, force: true });
    await rm(elsewhere, { recursive: true, force: true });
  });

  it('a local command refuses a data folder that does not exist instead of creating one', async () => {
    const result = await wharf(['user', 'add', 'alice', '--password-stdin'], { cwd: elsewhere, env: cleanEnv(home), input: 'alice-password\n' });
    assert.equal(result.code, 1);
    assert.match(result.err, new RegExp(`no Wharf data folder at ${join(elsewhere, 'wharf-data')}`));
    assert.match(result.err, /--data-dir/);
    assert.match(result.err, /--server/);
    assert.equal(existsSync(join(elsewhere, 'wharf-data')), false, 'nothing is created');
  });

  it('after wharf login, administration from any folder acts on the server through /api/v1', async () => {
    const env = cleanEnv(home);
    // The first administrator can only be made on the data folder: nobody can log in yet.
    const first = await wharf(['user', 'add', 'root', '--admin', '--password-stdin', '--data-dir', registry.dataDir], { cwd: elsewhere, env, input: 'root-password\n' });
    assert.equal(first.code, 0, first.err);

    const wrong = await wharf(['login', registry.url, '--username', 'root', '--password-stdin'], { cwd: elsewhere, env, input: 'not-the-password\n' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /wants credentials|401|denied/i);

    const login = await wharf(['login', registry.url, '--username', 'root', '--password-stdin'], { cwd: elsewhere, env, input: 'root-password\n' });
    assert.equal(login.code, 0, login.err);
    const stored = join(home, '.config', 'wharf', 'credentials.json');
    assert.equal(statSync(stored).mode & 0o077, 0, 'the credentials file is private to its owner');

    for (const args of [
      ['user', 'add', 'alice', '--password-stdin'],
      ['team', 'create', 'builders'],
      ['team', 'add', 'builders', 'alice'],
      ['member', 'set', 'team-a', 'writer', '--team', 'builders'],
      ['user', 'admin', 'alice', 'false'],
    ]) {
      const result = await wharf(args, { cwd: elsewhere, env, input: 'alice-password\n' });
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.err}`);
    }
    assert.equal(existsSync(join(elsewhere, 'wharf-data')), false, 'no local store was made');
    const users = await (await fetch(`${registry.url}/api/v1/users`, { headers: adminAuth })).json() as { username: string }[];
    assert.deepEqual(users.map((u) => u.username).sort(), ['alice', 'root']);
    const members = await wharf(['member', 'list', 'team-a', '--json'], { cwd: elsewhere, env });
    assert.deepEqual(JSON.parse(members.out), [{ namespace: 'team-a', team: 'builders', role: 'writer' }]);

    const robot = await wharf(['robot', 'create', 'ci', '--grant', 'team-a/*:pull,push', '--json'], { cwd: elsewhere, env });
    assert.equal(robot.code, 0, robot.err);
    const { username, secret } = JSON.parse(robot.out) as { username: string; secret: string };
    await pushImage(registry.url, 'team-a/app', 'latest', {}, { authorization: `Basic ${Buffer.from(`${username}:${secret}`).toString('base64')}` });
  });

  it('wharf logout forgets the server: commands fall back to the data folder, which is refused here', async () => {
    const env = cleanEnv(home);
    const before = await wharf(['user', 'list', '--json'], { cwd: elsewhere, env });
    assert.equal(before.code, 0, before.err);
    const logout = await wharf(['logout'], { cwd: elsewhere, env });
    assert.equal(logout.code, 0, logout.err);
    const after = await wharf(['user', 'list'], { cwd: elsewhere, env });
    assert.equal(after.code, 1);
    assert.match(after.err, /no Wharf data folder/);
    const again = await wharf(['login', registry.url, '--username', 'root', '--password-stdin'], { cwd: elsewhere, env, input: 'root-password\n' });
    assert.equal(again.code, 0, again.err);
  });

  it('policy commands use the server: simulate sees its artifacts, push/list/rm change what it enforces', async () => {
    const env = cleanEnv(home, { WHARF_SERVER: registry.url, WHARF_USERNAME: 'root', WHARF_PASSWORD: 'root-password' });
    const policy = join(elsewhere, 'no-latest');
    await mkdir(policy, { recursive: true });
    await writeFile(join(policy, 'policy.rego'), 'package team.nolatest\n\ndeny contains "latest is not allowed" if input.artifact.tag == "latest"\n');
    const simulated = await wharf(['policy', 'simulate', policy, '--package', 'team.nolatest'], { cwd: elsewhere, env });
    assert.equal(simulated.code, 0, simulated.err);
    assert.match(simulated.out, /evaluated [1-9]\d* stored artifacts/);
    assert.match(simulated.out, /DENY team-a\/app:latest/);

    const pushed = await wharf(['policy', 'push', policy, '--name', 'no-latest', '--package', 'team.nolatest', '--namespace', 'team-a'], { cwd: elsewhere, env });
    assert.equal(pushed.code, 0, pushed.err);
    const listed = await wharf(['policy', 'list', '--json'], { cwd: elsewhere, env });
    assert.deepEqual((JSON.parse(listed.out) as { name: string }[]).map((p) => p.name), ['no-latest']);
    const stored = await (await fetch(`${registry.url}/api/v1/policies`, { headers: adminAuth })).json() as { name: string }[];
    assert.deepEqual(stored.map((p) => p.name), ['no-latest']);
    assert.equal((await wharf(['policy', 'rm', 'no-latest'], { cwd: elsewhere, env })).code, 0);
    assert.deepEqual(await (await fetch(`${registry.url}/api/v1/policies`, { headers: adminAuth })).json(), []);

    assert.equal((await wharf(['namespace', 'set', 'team-a', '--label', 'cost-center=cc-7'], { cwd: elsewhere, env })).code, 0);
    assert.deepEqual(JSON.parse((await wharf(['namespace', 'show', 'team-a'], { cwd: elsewhere, env })).out).labels, { 'cost-center': 'cc-7' });
  });

  it('a non-administrator is told the server refused, in one line', async () => {
    const env = cleanEnv(home, { WHARF_SERVER: registry.url, WHARF_USERNAME: 'alice', WHARF_PASSWORD: 'alice-password' });
    const result = await wharf(['user', 'add', 'mallory', '--password-stdin'], { cwd: elsewhere, env, input: 'mallory-password\n' });
    assert.equal(result.code, 1);
    assert.match(result.err, /refused POST \/api\/v1\/users.*administrator/);
    assert.ok(!result.err.includes('    at '), 'no stack trace');
  });

  it('identity administration of a server without authentication says that authentication is off', async () => {
    const open = await startTestRegistry();
    try {
      const result = await wharf(['user', 'list', '--server', open.url], { cwd: elsewhere, env: cleanEnv(home) });
      assert.equal(result.code, 1);
      assert.match(result.err, /no identity API.*authentication is off/);
    } finally {
      await open.close();
    }
  });

  it('an unreachable server is named with the reason', async () => {
    // A port that was free a moment ago: bind, note it, close.
    const probe = createServer();
    await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
    const { port } = probe.address() as AddressInfo;
    await new Promise((done) => probe.close(done));
    const env = cleanEnv(home, { WHARF_SERVER: `http://127.0.0.1:${port}` });
    const result = await wharf(['user', 'list'], { cwd: elsewhere, env });
    assert.equal(result.code, 1);
    assert.match(result.err, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port}/api/v1/users: connection refused`));
  });
});

describe('the data folder and a policy data document are named apart', () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'wharf-data-flags-'));
    await mkdir(join(work, 'policy'));
    await writeFile(join(work, 'policy', 'p.rego'), 'package p\n\ndeny contains "too big" if input.artifact.size > data.limit\n');
    await writeFile(join(work, 'params.json'), '{"limit": 10}');
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('--data given a file on an administration command says to use --data-file', async () => {
    const result = await wharf(['policy', 'simulate', join(work, 'policy'), '--package', 'p', '--data', join(work, 'params.json')], { cwd: work, env: cleanEnv(work) });
    assert.equal(result.code, 1);
    assert.doesNotMatch(result.err, /unable to open database file/);
    assert.match(result.err, /params\.json.*is a file, not a Wharf data folder.*--data-file FILE/);
  });

  it('--data-dir given a file is refused the same way', async () => {
    const result = await wharf(['user', 'list', '--data-dir', join(work, 'params.json')], { cwd: work, env: cleanEnv(work) });
    assert.equal(result.code, 1);
    assert.match(result.err, /is a file, not a Wharf data folder/);
  });

  it('policy eval keeps opa\'s -d/--data for data documents', async () => {
    for (const flag of ['-d', '--data']) {
      const result = await wharf(['policy', 'eval', flag, join(work, 'params.json'), 'data.limit'], { cwd: work, env: cleanEnv(work) });
      assert.equal(result.code, 0, result.err);
      assert.equal(JSON.parse(result.out).result[0].expressions[0].value, 10);
    }
  });
});
