// Runs the real container clients (skopeo, buildah, umoci) in a sandbox of temp dirs, so the
// tests never read or write the machine's own containers config, credentials or image store.
import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './harness.ts';

export type ContainerTool = 'skopeo' | 'buildah' | 'umoci';

const INSTALL_SCRIPT = join(REPO_ROOT, 'scripts', 'install-test-deps.sh');
let installAttempted = false;

function onPath(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Returns undefined when every tool is usable, else the reason to skip. A missing tool triggers
 * one run of the install script (it refuses quickly as non-root), so a skip means the tool is
 * genuinely absent and not installable here, never just "not yet installed".
 */
export function missingToolReason(tools: ContainerTool[]): string | undefined {
  let missing = tools.filter((tool) => !onPath(tool));
  if (missing.length > 0 && !installAttempted) {
    installAttempted = true;
    try {
      execFileSync('bash', [INSTALL_SCRIPT], { stdio: 'ignore', timeout: 600_000 });
    } catch {
      // The reason below tells the reader what to run; the script printed the exact command.
    }
    missing = tools.filter((tool) => !onPath(tool));
  }
  if (missing.length === 0) return undefined;
  return `${missing.join(', ')} not installed and not installable by this user: run \`sudo bash scripts/install-test-deps.sh\``;
}

/** A temp HOME with its own registries.conf, signature policy and (for buildah) image store. */
export interface ToolSandbox {
  dir: string;
  env: NodeJS.ProcessEnv;
  policyPath: string;
  registriesConfPath: string;
  /** Global buildah flags: private vfs store (no overlay/fuse in a container-less root). */
  buildahGlobalArgs: string[];
  dispose(): Promise<void>;
}

export async function createToolSandbox(): Promise<ToolSandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-tools-'));
  const home = join(dir, 'home');
  const runtime = join(dir, 'run');
  for (const sub of [home, runtime, join(dir, 'config'), join(dir, 'data'), join(dir, 'cache')]) {
    await mkdir(sub, { recursive: true, mode: 0o700 });
  }
  const registriesConfPath = join(dir, 'registries.conf');
  // No search registries: every reference in the tests is fully qualified with 127.0.0.1:PORT.
  await writeFile(registriesConfPath, 'unqualified-search-registries = []\n');
  const policyPath = join(dir, 'policy.json');
  await writeFile(policyPath, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  const storageConfPath = join(dir, 'storage.conf');
  const graphRoot = join(dir, 'storage');
  const runRoot = join(dir, 'storage-run');
  await writeFile(storageConfPath, `[storage]\ndriver = "vfs"\ngraphroot = "${graphRoot}"\nrunroot = "${runRoot}"\n`);

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: home,
    XDG_RUNTIME_DIR: runtime,
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_CACHE_HOME: join(dir, 'cache'),
    REGISTRIES_CONFIG_PATH: registriesConfPath,
    CONTAINERS_REGISTRIES_CONF: registriesConfPath,
    CONTAINERS_STORAGE_CONF: storageConfPath,
    TMPDIR: dir,
  };
  return {
    dir,
    env,
    policyPath,
    registriesConfPath,
    buildahGlobalArgs: ['--storage-driver', 'vfs', '--root', graphRoot, '--runroot', runRoot],
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Runs a tool to completion within a time bound; rejects with its stderr on a non-zero exit. */
export function runTool(
  sandbox: ToolSandbox,
  command: ContainerTool,
  args: string[],
  timeoutMs = 120_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { env: sandbox.env, cwd: sandbox.dir, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) return resolve(stdout);
        reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      },
    );
  });
}

/** skopeo with the sandbox's signature policy; plain HTTP is chosen per command by the caller. */
export function skopeo(sandbox: ToolSandbox, args: string[]): Promise<string> {
  return runTool(sandbox, 'skopeo', ['--policy', sandbox.policyPath, ...args]);
}

export function buildah(sandbox: ToolSandbox, args: string[]): Promise<string> {
  return runTool(sandbox, 'buildah', [...sandbox.buildahGlobalArgs, ...args]);
}

export function umoci(sandbox: ToolSandbox, args: string[]): Promise<string> {
  return runTool(sandbox, 'umoci', args);
}
