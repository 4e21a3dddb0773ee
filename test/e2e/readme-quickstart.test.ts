// The README's quick start, run as written: its shell blocks are read from README.md, the server
// is started with `npm start` (on a free port through WHARF_LISTEN, a temporary data folder through
// WHARF_DATA), and the image-building, push and inspect commands run unchanged but for the port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from './child-lifecycle.ts';
import { REPO_ROOT } from './harness.ts';

/** The ```sh blocks of the README section that starts with `heading`, in order. */
function shellBlocks(readme: string, heading: string): string[] {
  const start = readme.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README has no "${heading}" section`);
  const end = readme.indexOf('\n## ', start + heading.length + 2);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

/** A block's commands, one per line, comments and blank lines left out. */
function commands(block: string): string[] {
  return block.split('\n').map((line) => line.replace(/\s+#.*$/, '').trim()).filter((line) => line !== '' && !line.startsWith('#'));
}

function run(command: string, options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn('bash', ['-c', command], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { err += chunk; });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out, err }); });
  });
}

test('the README quick start works as written', async () => {
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  const [serverBlock, clientBlock] = shellBlocks(readme, '## Quick start');
  assert.ok(serverBlock && clientBlock, 'the quick start has a block to start the server and one to push');
  const serverCommands = commands(serverBlock);
  assert.deepEqual(serverCommands, ['npm install', 'npm start'], 'the test knows how to run these; update it with the README');
  assert.match(serverBlock, /127\.0\.0\.1:5000/);

  const work = await mkdtemp(join(tmpdir(), 'wharf-readme-'));
  const port = await findFreePort();
  // `npm install` is what made this test runnable; `npm start` runs as written, moved to a free
  // port and a temporary data folder by the environment the README's configuration reference names.
  const server = spawn('npm', ['start'], {
    cwd: REPO_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WHARF_LISTEN: `127.0.0.1:${port}`, WHARF_DATA: join(work, 'wharf-data') },
  });
  let serverErr = '';
  server.stderr.setEncoding('utf8').on('data', (chunk: string) => { serverErr += chunk; });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`npm start printed no ready line; stderr: ${serverErr}`)), 30_000);
      server.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        if (out.includes(`wharf listening on http://127.0.0.1:${port}`)) { clearTimeout(timer); resolve(); }
      });
      server.on('exit', () => { clearTimeout(timer); reject(new Error(`npm start exited; stderr: ${serverErr}`)); });
    });

    const clientCommands = commands(clientBlock);
    assert.ok(clientCommands.some((line) => line.startsWith('umoci ')), 'the README says how to make the image it pushes');
    const env = { ...process.env, HOME: work };
    let inspected = '';
    for (const line of clientCommands) {
      const result = await run(line.replaceAll('127.0.0.1:5000', `127.0.0.1:${port}`), { cwd: work, env });
      assert.equal(result.code, 0, `"${line}" failed:\n${result.err}`);
      if (line.startsWith('skopeo inspect')) inspected = result.out;
    }
    const inspect = JSON.parse(inspected) as { Name: string; RepoTags: string[]; Layers: string[] };
    assert.equal(inspect.Name, `127.0.0.1:${port}/team/app`);
    assert.deepEqual(inspect.RepoTags, ['1.0']);
    assert.equal(inspect.Layers.length, 1);
  } finally {
    // npm start runs node under a shell: stop the whole process group this test started.
    if (server.pid !== undefined && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      process.kill(-server.pid, 'SIGTERM');
      const timer = setTimeout(() => { try { process.kill(-server.pid!, 'SIGKILL'); } catch { /* gone */ } }, 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(work, { recursive: true, force: true });
  }
});
