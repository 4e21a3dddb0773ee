/**
 * A real S3 endpoint for tests: the Ceph RADOS Gateway of `../shared/s3/ceph-rgw.sh`, a
 * throwaway single-node cluster on loopback (see ../shared/s3/README.md). A test file starts one
 * at module load and stops it in a root `after` hook:
 *
 *   const s3 = await startCephS3();
 *   after(() => stopCephS3(s3));
 *   describe('...', { skip: skipReason(s3) }, () => { ... });
 *
 * When it cannot start (the script is absent, or the Ceph packages are missing and we are not
 * root) the tests skip with the reason, except under CI=true or WHARF_REQUIRE_SHARED=1, where
 * that is a failure.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SHARED_DIR } from './shared.ts';

const SCRIPT = join(SHARED_DIR, 's3', 'ceph-rgw.sh');
/** The OSD takes its ports here; the gateway and the monitor must stay out. */
const OSD_PORTS = { first: 6800, last: 7300 };

export interface CephS3 {
  readonly endpoint: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly region: string;
  readonly dir: string;
  readonly script: string;
}

/** The running gateway, or the reason it is not there (only when tests may skip). */
export type CephS3Start = CephS3 | { readonly unavailable: string };

export function requireS3(): boolean {
  return process.env.CI === 'true' || process.env.WHARF_REQUIRE_SHARED === '1';
}

/** `script`: another start script, for testing this harness itself. */
export async function startCephS3(script = SCRIPT): Promise<CephS3Start> {
  const unavailable = (reason: string): CephS3Start => {
    if (requireS3()) throw new Error(`the Ceph S3 gateway is required (CI=true or WHARF_REQUIRE_SHARED=1) but unavailable: ${reason}`);
    return { unavailable: `${reason} (set WHARF_REQUIRE_SHARED=1 to make this a failure)` };
  };
  if (!existsSync(script)) return unavailable(`${script} is absent`);
  const dir = await mkdtemp(join(tmpdir(), 'wharf-ceph-'));
  let lastError = '';
  // A port found free may be taken before radosgw binds it: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePortPair();
    try {
      const { stdout } = await promisify(execFile)(script, ['start', dir, String(port)], {
        encoding: 'utf8',
        // The machine may be busy: give the cluster longer than the script's default 60 s.
        env: { ...process.env, CEPH_START_TIMEOUT: process.env.CEPH_START_TIMEOUT ?? '180' },
        timeout: 600_000,
      });
      const env = Object.fromEntries(stdout.trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
      const started: CephS3 = { endpoint: env.S3_ENDPOINT!, accessKey: env.S3_ACCESS_KEY!, secretKey: env.S3_SECRET_KEY!, region: env.S3_REGION!, dir, script };
      // A test process that dies without its after hooks must not leave the daemons behind.
      process.once('exit', () => stopSync(script, dir));
      return started;
    } catch (error) {
      lastError = (error as { stderr?: string }).stderr?.trim().split('\n').slice(-5).join('\n') || String(error);
      stopSync(script, dir);
    }
  }
  await rm(dir, { recursive: true, force: true });
  return unavailable(`ceph-rgw.sh start failed: ${lastError}`);
}

export async function stopCephS3(s3: CephS3Start): Promise<void> {
  if ('unavailable' in s3) return;
  await promisify(execFile)(s3.script, ['stop', s3.dir], { timeout: 60_000 }).catch(() => undefined);
  await rm(s3.dir, { recursive: true, force: true });
}

/** For node:test's `skip` option. */
export function skipReason(s3: CephS3Start): string | false {
  return 'unavailable' in s3 ? s3.unavailable : false;
}

function stopSync(script: string, dir: string): void {
  try {
    execFileSync(script, ['stop', dir], { stdio: 'ignore', timeout: 60_000 });
  } catch {
    // Already stopped, or never started.
  }
}

/** A loopback port P, outside the OSD's range, with P+1 (the monitor's) free as well. */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await listenOnce(0);
    if (port + 1 < OSD_PORTS.first || port > OSD_PORTS.last) {
      if (await listenOnce(port + 1).then(() => true, () => false)) return port;
    }
  }
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const bound = (server.address() as { port: number }).port;
      server.close(() => resolve(bound));
    });
  });
}
