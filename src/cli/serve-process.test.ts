// `wharf serve` as a process: a start-up that fails exits promptly, request logs reach stderr
// promptly, and authentication without an administrator is announced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { openSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const WHARF = resolve(fileURLToPath(new URL('../../bin/wharf', import.meta.url)));

interface Outcome { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; timedOut: boolean }

/** Runs bin/wharf and waits at most `limitMs` for it to exit; a process still running is killed. */
function runWharf(args: string[], limitMs: number, env: Record<string, string> = {}): Promise<Outcome> {
  const child = spawn(WHARF, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  return new Promise((resolvePromise) => {
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, limitMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // Give the pipes a moment to deliver their last bytes.
      setImmediate(() => resolvePromise({ code, signal, stdout, stderr, timedOut }));
    });
  });
}

async function withDataDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-serve-process-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('serve exits non-zero promptly when its port is taken', async () => {
  const blocker = createServer();
  await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
  const { port } = blocker.address() as { port: number };
  try {
    await withDataDir(async (dir) => {
      const outcome = await runWharf(['serve', '--listen', `127.0.0.1:${port}`, '--data', dir], 15_000);
      assert.equal(outcome.timedOut, false, `wharf serve did not exit; stderr: ${outcome.stderr}`);
      assert.notEqual(outcome.code, 0);
      assert.match(outcome.stderr, /EADDRINUSE|in use/);
      assert.doesNotMatch(outcome.stdout, /wharf listening/);
    });
  } finally {
    blocker.close();
  }
});

test('serve exits non-zero promptly when the TLS certificate file is missing', async () => {
  await withDataDir(async (dir) => {
    const outcome = await runWharf(['serve', '--listen', '127.0.0.1:0', '--data', dir,
      '--tls-cert', join(dir, 'missing-cert.pem'), '--tls-key', join(dir, 'missing-key.pem')], 15_000);
    assert.equal(outcome.timedOut, false, `wharf serve did not exit; stderr: ${outcome.stderr}`);
    assert.notEqual(outcome.code, 0);
    assert.match(outcome.stderr, /tls\.cert.*missing-cert\.pem/);
  });
});

/** Starts serve with stderr going to a file (as `wharf serve 2>log` would), resolves with its URL. */
async function serveWithStderrFile(dir: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string; logPath: string }> {
  const logPath = join(dir, 'stderr.log');
  const fd = openSync(logPath, 'w');
  const child = spawn(WHARF, ['serve', '--listen', '127.0.0.1:0', '--data', join(dir, 'data')], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', fd],
  });
  closeSync(fd);
  const url = await new Promise<string>((resolvePromise, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no ready line; stdout: ${out}`)), 20_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /wharf listening on (\S+)/.exec(out);
      if (match) { clearTimeout(timer); resolvePromise(match[1]!); }
    });
    child.on('exit', () => { clearTimeout(timer); reject(new Error(`wharf exited before it was ready; stdout: ${out}`)); });
  });
  return { child, url, logPath };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

test('a request is logged to stderr within half a second on a quiet server', async () => {
  await withDataDir(async (dir) => {
    const { child, url, logPath } = await serveWithStderrFile(dir);
    try {
      const response = await fetch(`${url}/v2/quiet-log-probe/tags/list`);
      await response.arrayBuffer();
      const servedAt = Date.now();
      let text = '';
      // Polls the file the way tail -f would; a generous bound, as the task asks for promptness.
      while (Date.now() - servedAt < 500) {
        text = await readFile(logPath, 'utf8');
        if (text.includes('quiet-log-probe')) break;
        await new Promise((done) => setTimeout(done, 25));
      }
      assert.match(text, /quiet-log-probe/, `the request's log line was not written within 500 ms; log so far: ${text}`);
    } finally {
      await stop(child);
    }
  });
});

test('authentication on without any administrator is announced at start with the command that makes one', async () => {
  await withDataDir(async (dir) => {
    const { child, logPath } = await serveWithStderrFile(dir, { WHARF_AUTH_ENABLED: 'true' });
    try {
      let text = '';
      const started = Date.now();
      while (Date.now() - started < 5_000 && !/no administrator/.test(text)) {
        text = await readFile(logPath, 'utf8');
        await new Promise((done) => setTimeout(done, 50));
      }
      assert.match(text, /no administrator/);
      assert.match(text, /wharf user add \S+ --admin/);
    } finally {
      await stop(child);
    }
  });
});

test('serve given a file as its data folder says so and exits', async () => {
  await withDataDir(async (dir) => {
    const file = join(dir, 'params.json');
    await writeFile(file, '{}');
    const outcome = await runWharf(['serve', '--listen', '127.0.0.1:0', '--data', file], 15_000);
    assert.equal(outcome.timedOut, false);
    assert.notEqual(outcome.code, 0);
    assert.match(outcome.stderr, /params\.json is a file, not a data folder/);
  });
});
