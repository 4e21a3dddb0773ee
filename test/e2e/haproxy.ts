// Debian's haproxy in front of several Wharf replicas, for the scale-out end-to-end test: round
// robin, a health check on /readyz, one log line per request naming the replica that served it
// (so a test can see where each request of an upload went), and an admin socket whose
// `show sess` tells which replica holds a request still in flight.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { findFreePort, killOnExit, terminate } from './child-lifecycle.ts';

export interface RoutedRequest {
  server: string;
  method: string;
  path: string;
  status: number;
}

export interface RunningHaproxy {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly host: string;
  /** Every request logged so far, in order of completion. */
  readonly requests: RoutedRequest[];
  /** The replicas (by server name) that hold a request in flight right now. */
  serversInFlight(): Promise<string[]>;
  stop(): Promise<void>;
}

/** Why haproxy cannot be used here, or undefined. Under CI=true a missing haproxy throws. */
export function haproxyMissing(): string | undefined {
  try {
    execFileSync('haproxy', ['-v'], { stdio: 'ignore', timeout: 10_000 });
    return undefined;
  } catch {
    // Not installed (or not runnable): below.
  }
  const reason = 'haproxy is not installed: run `sudo bash scripts/install-test-deps.sh`';
  if (process.env.CI === 'true' || process.env.WHARF_REQUIRE_SHARED === '1') throw new Error(`${reason} (CI=true requires it)`);
  return reason;
}

/** Starts haproxy on a free loopback port balancing over `backends` (name → host:port). */
export async function startHaproxy(dir: string, backends: Record<string, string>): Promise<RunningHaproxy> {
  const port = await findFreePort();
  const socket = join(dir, 'haproxy.sock');
  const config = join(dir, 'haproxy.cfg');
  // One raw log line per request: "server method path status". Checks run every 200 ms and one
  // failure takes a replica out, so a killed replica stops receiving requests within a moment;
  // `retries` + `redispatch` send a request whose connection is refused to another replica.
  await writeFile(config, [
    'global',
    '  log stdout format raw local0',
    `  stats socket ${socket} mode 600 level admin`,
    'defaults',
    '  mode http',
    '  log global',
    '  log-format "%s %HM %HP %ST"',
    '  timeout connect 2s',
    '  timeout client 120s',
    '  timeout server 120s',
    '  retries 3',
    '  option redispatch 1',
    'frontend registry',
    `  bind 127.0.0.1:${port}`,
    '  default_backend wharf',
    'backend wharf',
    '  balance roundrobin',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    '  default-server inter 200ms fall 1 rise 2',
    ...Object.entries(backends).map(([name, address]) => `  server ${name} ${address} check`),
    '',
  ].join('\n'));
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  const requests: RoutedRequest[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const match = /^(\S+) (\S+) (\S+) (\d+)$/.exec(line.trim());
    if (match !== null) requests.push({ server: match[1]!, method: match[2]!, path: match[3]!, status: Number(match[4]) });
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
  const url = `http://127.0.0.1:${port}`;
  // Ready when every replica passed its checks and a request through the frontend answers.
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited (${child.exitCode}): ${stderr}`);
    const up = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status === 200, () => false);
    if (up && (await serversUp(socket)) === Object.keys(backends).length) break;
    if (Date.now() > deadline) throw new Error(`haproxy did not become ready: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    requests,
    async serversInFlight() {
      const sessions = await adminCommand(socket, 'show sess');
      return [...sessions.matchAll(/ srv=(\S+)/g)].map((match) => match[1]!).filter((name) => !name.startsWith('<'));
    },
    async stop() {
      await terminate(child, 5000);
    },
  };
}

async function serversUp(socket: string): Promise<number> {
  const stat = await adminCommand(socket, 'show stat').catch(() => '');
  return stat.split('\n').filter((line) => line.startsWith('wharf,') && !line.startsWith('wharf,BACKEND') && line.split(',')[17] === 'UP').length;
}

function adminCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const connection = createConnection(socket);
    let output = '';
    connection.setTimeout(2000, () => connection.destroy(new Error(`haproxy admin socket: no answer to ${command}`)));
    connection.on('connect', () => connection.end(`${command}\n`));
    connection.on('data', (chunk) => { output += chunk.toString(); });
    connection.on('error', reject);
    connection.on('close', () => resolve(output));
  });
}
