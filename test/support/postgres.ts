/**
 * A throwaway PostgreSQL for tests: `initdb` into a temporary folder, a server on a free loopback
 * port with its unix socket in the same folder, fsync off (the data is thrown away), stopped and
 * removed by `stop()` or, failing that, when the test process exits.
 *
 * The binaries come from Debian's `postgresql` package (/usr/lib/postgresql/<version>/bin;
 * scripts/install-test-deps.sh installs it). PostgreSQL refuses to run as root, so as root the
 * cluster belongs to the unprivileged `postgres` user the package creates.
 *
 * When PostgreSQL is missing, `postgresSkip()` gives node:test a skip reason, except under CI=true
 * or WHARF_REQUIRE_SHARED=1, where a missing PostgreSQL is a failure.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const DEBIAN_ROOT = '/usr/lib/postgresql';
const START_TIMEOUT_SECONDS = 30;
const INSTALL_SCRIPT = fileURLToPath(new URL('../../scripts/install-test-deps.sh', import.meta.url));

export interface RunningPostgres {
  /** postgres://wharf@127.0.0.1:PORT/wharf, a superuser with trust authentication. */
  readonly url: string;
  readonly port: number;
  /** A URL of a fresh, empty database of this server (one per test keeps tests apart). */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

/** The folder of initdb/pg_ctl (the newest installed version), or undefined. */
export function findPostgresBin(): string | undefined {
  if (!existsSync(DEBIAN_ROOT)) return undefined;
  const versions = readdirSync(DEBIAN_ROOT)
    .filter((name) => existsSync(join(DEBIAN_ROOT, name, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(DEBIAN_ROOT, versions[0], 'bin');
}

function postgresRequired(): boolean {
  return process.env.CI === 'true' || process.env.WHARF_REQUIRE_SHARED === '1';
}

/**
 * A `skip` value for node:test: the reason when PostgreSQL cannot be run here and is not required,
 * else false. Throws when it is missing and CI=true or WHARF_REQUIRE_SHARED=1 demands it.
 */
export function postgresSkip(): string | false {
  let problem = postgresProblem();
  if (problem !== undefined && findPostgresBin() === undefined && process.getuid?.() === 0) {
    // As root the install script can fetch it (npm test runs it anyway; a single file may not have).
    spawnSync('bash', [INSTALL_SCRIPT], { stdio: 'ignore', timeout: 600_000 });
    problem = postgresProblem();
  }
  if (problem === undefined) return false;
  if (postgresRequired()) throw new Error(`${problem}, and CI=true or WHARF_REQUIRE_SHARED=1 requires PostgreSQL`);
  return `${problem} (run scripts/install-test-deps.sh as root; CI=true makes this a failure)`;
}

function postgresProblem(): string | undefined {
  if (findPostgresBin() === undefined) return `PostgreSQL is not installed (no ${DEBIAN_ROOT}/*/bin/pg_ctl)`;
  if (process.getuid?.() === 0 && serverAccount() === undefined) return 'running as root and there is no postgres user to run the server as';
  return undefined;
}

/** The uid/gid the server runs as: the `postgres` user when we are root, else ourselves. */
function serverAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return { uid: process.getuid!(), gid: process.getgid!() };
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((entry) => entry.startsWith('postgres:'));
  if (line === undefined) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function run(bin: string, args: string[], account: { uid: number; gid: number }, timeoutMs: number): void {
  const result = spawnSync(bin, args, { uid: account.uid, gid: account.gid, timeout: timeoutMs, encoding: 'utf8', cwd: '/' });
  if (result.status !== 0) {
    const reason = result.error?.message ?? `exit ${result.status ?? result.signal}`;
    throw new Error(`${bin} ${args.join(' ')} failed (${reason}):\n${result.stderr}${result.stdout}`);
  }
}

/** Starts a fresh cluster; rejects within about START_TIMEOUT_SECONDS with the server log. */
export async function startPostgres(): Promise<RunningPostgres> {
  const problem = postgresProblem();
  if (problem !== undefined) throw new Error(problem);
  const bin = findPostgresBin()!;
  const account = serverAccount()!;
  const dir = await mkdtemp(join(tmpdir(), 'wharf-pg-'));
  chownSync(dir, account.uid, account.gid);
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const pgCtl = join(bin, 'pg_ctl');
  run(join(bin, 'initdb'), ['-D', dataDir, '-U', 'wharf', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8'], account, 60_000);

  let port = 0;
  let started = false;
  // A port found free can be taken before the server binds it: try a few.
  for (let attempt = 0; attempt < 3 && !started; attempt++) {
    port = await freeLoopbackPort();
    const options = [
      `-c listen_addresses=127.0.0.1`, `-c port=${port}`, `-c unix_socket_directories=${dir}`,
      '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off', '-c max_connections=100',
    ].join(' ');
    const result = spawnSync(pgCtl, ['start', '-w', '-t', String(START_TIMEOUT_SECONDS), '-D', dataDir, '-l', logFile, '-o', options], {
      uid: account.uid, gid: account.gid, timeout: (START_TIMEOUT_SECONDS + 5) * 1000, encoding: 'utf8', cwd: '/',
    });
    started = result.status === 0;
  }
  const stopServer = () => spawnSync(pgCtl, ['stop', '-m', 'immediate', '-D', dataDir], { uid: account.uid, gid: account.gid, timeout: 15_000, cwd: '/' });
  if (!started) {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '(no log)';
    stopServer();
    await rm(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start within ${START_TIMEOUT_SECONDS} s:\n${log.slice(-4000)}`);
  }
  // Should the test process end without stop(), the server must not outlive it: on a normal exit
  // the handler stops it; when the process is killed, a watchdog that polls for it does.
  const onExit = () => {
    stopServer();
    execFileSync('rm', ['-rf', dir]);
  };
  process.once('exit', onExit);
  // It runs as the server's account (pg_ctl refuses root), which may not signal us: it looks in /proc.
  const watchdog = spawn('sh', ['-c', 'while [ -d "/proc/$1" ]; do sleep 1; done; "$2" stop -m immediate -D "$3" >/dev/null 2>&1; rm -rf "$4"',
    'watchdog', String(process.pid), pgCtl, dataDir, dir], { detached: true, stdio: 'ignore', uid: account.uid, gid: account.gid, cwd: '/' });
  watchdog.unref();

  const url = `postgres://wharf@127.0.0.1:${port}/wharf`;
  // A connection per call: an open one would keep the test process alive after its tests.
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: `postgres://wharf@127.0.0.1:${port}/postgres` });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin('CREATE DATABASE wharf');
  let databases = 0;
  let stopped = false;
  return {
    url,
    port,
    async createDatabase() {
      const name = `test_${process.pid}_${++databases}`;
      await admin(`CREATE DATABASE ${name}`);
      return `postgres://wharf@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', onExit);
      watchdog.kill();
      // Asynchronously, so the test's event loop keeps running while the server stops.
      await new Promise<void>((resolve) => {
        spawn(pgCtl, ['stop', '-m', 'fast', '-t', '15', '-D', dataDir], { uid: account.uid, gid: account.gid, stdio: 'ignore', cwd: '/' })
          .once('exit', () => resolve())
          .once('error', () => resolve());
      });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
