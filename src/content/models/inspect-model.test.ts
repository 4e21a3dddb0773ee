/**
 * Reading a whole model artifact of each family from its manifest, config and ranged blob reads.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { inspectModel, licenseFromText, parseParameterCount, type BlobRangeRead } from './inspect-model.ts';
import { dangerousPickle, ggufFile, harmlessPickle, pytorchZip, safetensorsFile } from './testing/model-fixtures.ts';

function store() {
  const blobs = new Map<string, Buffer>();
  const reads: { digest: string; start: number; length: number }[] = [];
  const put = (bytes: Buffer | string) => {
    const buffer = Buffer.from(bytes);
    const digest = `sha256:${createHash('sha256').update(buffer).digest('hex')}`;
    blobs.set(digest, buffer);
    return { digest, size: buffer.length };
  };
  const read: BlobRangeRead = async (digest, start, length) => {
    reads.push({ digest, start, length });
    const blob = blobs.get(digest);
    return blob ? blob.subarray(start, start + length) : `blob ${digest} is missing`;
  };
  return { put, read, reads };
}

describe('inspectModel', () => {
  it('ModelPack: config facts, file list with paths, headers read, pickle findings', async () => {
    const { put, read, reads } = store();
    const fixedHeader = safetensorsFile({ a: { dtype: 'BF16', shape: [64, 64 + 512 * 8] } });
    const config = put(JSON.stringify({
      descriptor: { name: 'tiny', version: '1.0', family: 'llama3', licenses: ['Apache-2.0'] },
      config: { architecture: 'transformer', format: 'safetensors', paramSize: '8.03B', precision: 'bf16' },
      modelfs: { type: 'layers', diffIds: [] },
    }));
    const layer = (bytes: Buffer, path: string, mediaType = 'application/vnd.cncf.model.weight.v1.raw') => ({ mediaType, ...put(bytes), annotations: { 'org.cncf.model.filepath': path } });
    const manifest = {
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.cncf.model.manifest.v1+json',
      config: { mediaType: 'application/vnd.cncf.model.config.v1+json', ...config },
      layers: [
        layer(fixedHeader, 'model.safetensors'), layer(harmlessPickle(), 'optimizer.pt'), layer(pytorchZip(dangerousPickle()), 'pytorch_model.bin'),
        layer(Buffer.from('# Tiny\n'), 'README.md', 'application/vnd.cncf.model.doc.v1.raw'),
      ],
    };
    const facts = await inspectModel(manifest, read);
    assert.ok(facts);
    assert.equal(facts.family, 'modelpack');
    assert.equal(facts.name, 'tiny');
    assert.equal(facts.lineage, 'llama3');
    assert.equal(facts.parameters, 64 * (64 + 512 * 8), 'the header count wins over the rounded config figure');
    assert.deepEqual(facts.licenses, ['Apache-2.0']);
    assert.deepEqual(facts.files.map((file) => [file.path, file.format]), [['model.safetensors', 'safetensors'], ['optimizer.pt', 'pickle'], ['pytorch_model.bin', 'pytorch-zip'], ['README.md', 'doc']]);
    assert.equal(facts.files[0]!.header!['parameters'], 64 * (64 + 512 * 8));
    assert.equal(facts.codeExecutingFormat, true);
    assert.deepEqual(facts.findings.map((finding) => [finding.path, finding.severity, finding.imports]), [['pytorch_model.bin', 'dangerous', ['os.system']]]);
    assert.ok(!reads.some((entry) => entry.length > 64 * 1024 && entry.digest !== config.digest), 'only the first bytes of weights are read');
  });

  it('Docker: GGUF header fills architecture, quantisation, parameters; licence file identified', async () => {
    const { put, read } = store();
    const gguf = ggufFile([['general.architecture', 'string', 'qwen2'], ['general.file_type', 'u32', 7]], [{ name: 'w', shape: [10, 10], type: 8 }]);
    const config = put(JSON.stringify({ config: { format: 'gguf' }, descriptor: { created: '2026-01-01T00:00:00Z' } }));
    const manifest = {
      schemaVersion: 2, config: { mediaType: 'application/vnd.docker.ai.model.config.v0.1+json', ...config },
      layers: [
        { mediaType: 'application/vnd.docker.ai.gguf.v3', ...put(gguf) },
        { mediaType: 'application/vnd.docker.ai.license', ...put('MIT License\n\nPermission is hereby granted, free of charge, ...') },
        { mediaType: 'application/vnd.docker.ai.chat.template.jinja', ...put('{{ messages }}') },
      ],
    };
    const facts = await inspectModel(manifest, read);
    assert.ok(facts);
    assert.equal(facts.family, 'docker');
    assert.equal(facts.format, 'gguf');
    assert.equal(facts.architecture, 'qwen2');
    assert.equal(facts.quantization, 'Q8_0');
    assert.equal(facts.parameters, 100);
    assert.deepEqual(facts.licenses, ['MIT']);
    assert.deepEqual(facts.files.map((file) => file.format), ['gguf', 'license', 'chat-template']);
    assert.equal(facts.codeExecutingFormat, false);
  });

  it('KitOps: the Kitfile names the model and its licence, tar layers are listed by Kitfile path', async () => {
    const { put, read } = store();
    const config = put(JSON.stringify({ manifestVersion: '1.0.0', package: { name: 'pkg', license: 'Apache-2.0' }, model: { name: 'fraud', version: '2', path: 'model.joblib', framework: 'scikit-learn' }, datasets: [{ path: 'data.csv' }] }));
    const manifest = {
      schemaVersion: 2, config: { mediaType: 'application/vnd.kitops.modelkit.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.kitops.modelkit.model.v1.tar+gzip', ...put('tar') }, { mediaType: 'application/vnd.kitops.modelkit.dataset.v1.tar+gzip', ...put('tar2') }],
    };
    const facts = await inspectModel(manifest, read);
    assert.ok(facts);
    assert.equal(facts.family, 'kitops');
    assert.equal(facts.name, 'fraud');
    assert.equal(facts.format, 'scikit-learn');
    assert.deepEqual(facts.licenses, ['Apache-2.0']);
    assert.deepEqual(facts.files.map((file) => [file.path, file.format]), [['model.joblib', 'archive'], ['data.csv', 'archive']]);
  });

  it('not a model: undefined; unreadable blobs and hostile headers become problems, not exceptions', async () => {
    const { put, read } = store();
    assert.equal(await inspectModel({ schemaVersion: 2, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: 'sha256:x', size: 3 }, layers: [] }, read), undefined);
    const hostile = Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), Buffer.from('{}')]);
    const manifest = {
      artifactType: 'application/vnd.cncf.model.manifest.v1+json', config: { mediaType: 'application/vnd.cncf.model.config.v1+json', digest: 'sha256:missing', size: 50 },
      layers: [
        { mediaType: 'application/vnd.cncf.model.weight.v1.raw', ...put(hostile), annotations: { 'org.cncf.model.filepath': 'x.safetensors' } },
        { mediaType: 'application/vnd.cncf.model.weight.v1.raw', digest: 'sha256:gone', size: 10, annotations: { 'org.cncf.model.filepath': 'y.pt' } },
        { mediaType: 'application/vnd.cncf.model.weight.v1.raw', ...put(Buffer.from('GGUF\x03\x00')), annotations: { 'org.cncf.model.filepath': 'z.gguf' } },
      ],
    };
    const facts = await inspectModel(manifest, read);
    assert.ok(facts);
    assert.equal(facts.problems.length, 4, facts.problems.join('\n'));
    assert.match(facts.problems.join('\n'), /config: blob sha256:missing is missing/);
    assert.match(facts.problems.join('\n'), /over the limit/);
    assert.deepEqual(facts.findings.map((finding) => [finding.path, finding.severity]), [['y.pt', 'unscanned']]);
  });

  it('parameter counts and licence texts', () => {
    assert.equal(parseParameterCount('8.03 B'), 8_030_000_000);
    assert.equal(parseParameterCount('475M'), 475_000_000);
    assert.equal(parseParameterCount('7b'), 7_000_000_000);
    assert.equal(parseParameterCount(1234), 1234);
    assert.equal(parseParameterCount('many'), undefined);
    assert.equal(licenseFromText('                                 Apache License\n                           Version 2.0, January 2004'), 'Apache-2.0');
    assert.equal(licenseFromText('whatever'), 'LicenseRef-unrecognised');
  });
});
