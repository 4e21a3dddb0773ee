// Starts Debian's `docker-registry` (CNCF Distribution 2.8), the reference Wharf is measured and
// cross-checked against, with a throwaway config and storage dir on a free loopback port.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureSpawnError, captureStderr, findFreePort, killOnExit, terminate, waitForHttpStatus } from './child-lifecycle.ts';
import type { RunningRegistry } from './child-lifecycle.ts';

export const REFERENCE_REGISTRY_BINARY = '/usr/bin/docker-registry';

/** True when the Distribution binary is installed (scripts/install-test-deps.sh installs it). */
export function referenceRegistryInstalled(): boolean {
  return existsSync(REFERENCE_REGISTRY_BINARY);
}

/**
 * Distribution as Debian ships it (/etc/docker/registry/config.yml), minus what does not apply on
 * loopback: filesystem storage with the in-memory blob descriptor cache (the packaged default, so
 * the benchmark does not handicap the reference), deletes enabled (the e2e suite deletes
 * manifests); no htpasswd auth, no access log (it would cost CPU per request), no debug listener.
 */
function referenceConfig(rootDirectory: string, port: number): string {
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  cache:',
    '    blobdescriptor: inmemory',
    '  filesystem:',
    `    rootdirectory: ${rootDirectory}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '',
  ].join('\n');
}

/** Spawns docker-registry and resolves once `GET /v2/` answers 200. */
export async function startReferenceRegistry(startupTimeoutMs = 20_000): Promise<RunningRegistry> {
  const workDir = await mkdtemp(join(tmpdir(), 'distribution-ref-'));
  const dataDir = join(workDir, 'storage');
  await mkdir(dataDir);
  const port = await findFreePort();
  const configPath = join(workDir, 'config.yml');
  await writeFile(configPath, referenceConfig(dataDir, port));

  const child = spawn(REFERENCE_REGISTRY_BINARY, ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  killOnExit(child);
  const spawnError = captureSpawnError(child);
  const stderrTail = captureStderr(child);
  const host = `127.0.0.1:${port}`;
  const url = `http://${host}`;
  try {
    await waitForHttpStatus(`${url}/v2/`, 200, child, startupTimeoutMs);
  } catch (error) {
    await terminate(child, 2_000);
    await rm(workDir, { recursive: true, force: true });
    const reason = [error instanceof Error ? error.message : String(error), spawnError()].filter(Boolean).join('; ');
    throw new Error(`docker-registry did not start: ${reason}\n--- stderr ---\n${stderrTail() || '(empty)'}`);
  }

  return {
    url,
    host,
    dataDir,
    pid: child.pid ?? -1,
    stderrTail,
    async stop() {
      const status = await terminate(child);
      await rm(workDir, { recursive: true, force: true });
      return status;
    },
  };
}
