/**
 * The model header readers and the pickle scanner on good files and on hostile ones: truncated,
 * oversized lengths, wrong magic, zip bombs, deeply nested pickles. Each bad input gets a reason;
 * none throws.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { parseSafetensorsHeader } from './safetensors-header.ts';
import { parseGgufHeader } from './gguf-header.ts';
import { scanPickle } from './pickle-scanner.ts';
import { bufferRangeRead, listZip, readZipEntry } from './zip-entries.ts';
import { dangerousPickle, ggufFile, ggufValue, harmlessPickle, op, pytorchZip, safetensorsFile, zipArchive } from './testing/model-fixtures.ts';

describe('safetensors header', () => {
  const file = safetensorsFile({ 'model.embed.weight': { dtype: 'BF16', shape: [32, 16] }, 'model.norm.weight': { dtype: 'F32', shape: [16] } }, { format: 'pt' });

  it('reads tensor count, parameters per dtype, the dominant dtype and the metadata', () => {
    const parsed = parseSafetensorsHeader(file, file.length);
    assert.ok(parsed.ok, JSON.stringify(parsed));
    assert.equal(parsed.header.tensorCount, 2);
    assert.equal(parsed.header.parameters, 32 * 16 + 16);
    assert.deepEqual(parsed.header.dtypes, { BF16: 512, F32: 16 });
    assert.equal(parsed.header.dominantDtype, 'BF16');
    assert.deepEqual(parsed.header.metadata, { format: 'pt' });
  });

  it('refuses hostile headers with a reason', () => {
    const cases: [string, Buffer, RegExp, number?][] = [
      ['too short for the length', Buffer.from([1, 2, 3]), /shorter than the 8-byte/],
      ['oversized length', Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), Buffer.from('{}')]), /over the limit/],
      ['truncated header', file.subarray(0, 40), /truncated header/],
      ['not JSON', Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{abc')]), /not valid JSON/],
      ['JSON array', Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('[]')]), /not a JSON object/],
      ['unknown dtype', headerOf({ t: { dtype: 'Q9', shape: [1], data_offsets: [0, 1] } }), /unknown dtype/],
      ['negative shape', headerOf({ t: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }), /non-negative integers/],
      ['offsets disagree with the shape', headerOf({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 4] } }), /need 16/],
      ['huge shape', headerOf({ t: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 4] } }), /too many elements/],
      ['data past the file end', file, /past the end/, file.length - 10],
    ];
    for (const [name, bytes, reason, size] of cases) {
      const parsed = parseSafetensorsHeader(bytes, size);
      assert.equal(parsed.ok, false, name);
      assert.match((parsed as { reason: string }).reason, reason, name);
    }
  });
});

function headerOf(value: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(value));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json]);
}

describe('GGUF header', () => {
  const file = ggufFile([
    ['general.architecture', 'string', 'llama'], ['general.name', 'string', 'tiny-llama'], ['general.file_type', 'u32', 15],
    ['general.license', 'string', 'apache-2.0'], ['llama.context_length', 'u32', 4096],
    ['tokenizer.ggml.tokens', 'string[]', Array.from({ length: 100 }, (_, index) => `tok${index}`)], ['tokenizer.ggml.token_type', 'i32[]', [1, 1, 3]],
  ], [{ name: 'token_embd.weight', shape: [16, 100], type: 12 }, { name: 'output_norm.weight', shape: [16], type: 0 }]);

  it('reads version, metadata with arrays, architecture, quantisation from file_type and parameters from the tensor infos', () => {
    const parsed = parseGgufHeader(file);
    assert.ok(parsed.ok, JSON.stringify(parsed));
    const header = parsed.header;
    assert.equal(header.version, 3);
    assert.equal(header.tensorCount, 2);
    assert.equal(header.architecture, 'llama');
    assert.equal(header.name, 'tiny-llama');
    assert.equal(header.quantization, 'Q4_K_M');
    assert.equal(header.license, 'apache-2.0');
    assert.equal(header.parameters, 16 * 100 + 16);
    assert.deepEqual(header.tensorTypes, { Q4_K: 1, F32: 1 });
    const tokens = header.metadata['tokenizer.ggml.tokens'] as { array: string; length: number; first: string[] };
    assert.equal(tokens.length, 100);
    assert.equal(tokens.first.length, 8);
  });

  it('prefers general.parameter_count and still reads metadata when the tensor infos are out of reach', () => {
    const kvs: Parameters<typeof ggufFile>[0] = [['general.architecture', 'string', 'qwen2'], ['general.parameter_count', 'u64', 7_000_000_000]];
    const declared = ggufFile(kvs, [{ name: 'a', shape: [4, 4] }]);
    const metadataLength = ggufFile(kvs).length - 64; // the same metadata, no tensors, no padding
    const metadataOnly = declared.subarray(0, metadataLength + 5); // cut inside the first tensor info
    const parsed = parseGgufHeader(metadataOnly);
    assert.ok(parsed.ok, JSON.stringify(parsed));
    assert.equal(parsed.header.parameters, 7_000_000_000);
    assert.equal(parsed.header.tensorTypes, undefined);
  });

  it('refuses hostile headers with a reason', () => {
    const lengthOver = Buffer.concat([Buffer.from('GGUF'), u32(3), u64(0), u64(1), u64(2 ** 40)]);
    const arrayOver = Buffer.concat([Buffer.from('GGUF'), u32(3), u64(0), u64(1), str('k'), u32(9), u32(0), u64(2 ** 50)]);
    let nested = Buffer.concat([u32(9), u32(9), u64(1), u32(9), u64(1), u32(9), u64(1), u32(9), u64(1), u32(4), u64(1), u32(7)]);
    nested = Buffer.concat([Buffer.from('GGUF'), u32(3), u64(0), u64(1), str('deep'), nested]);
    const cases: [string, Buffer, RegExp][] = [
      ['wrong magic', Buffer.from('GGML....'), /wrong magic/],
      ['empty', Buffer.alloc(0), /wrong magic/],
      ['version 1', Buffer.concat([Buffer.from('GGUF'), u32(1)]), /version 1/],
      ['big-endian', Buffer.concat([Buffer.from('GGUF'), Buffer.from([0, 0, 0, 3])]), /big-endian/],
      ['unknown version', Buffer.concat([Buffer.from('GGUF'), u32(99)]), /unknown version 99/],
      ['truncated metadata', file.subarray(0, 60), /runs past/],
      ['string length over the limit', lengthOver, /over the limit/],
      ['array length over the limit', arrayOver, /array length .* over the limit/],
      ['too many tensors', Buffer.concat([Buffer.from('GGUF'), u32(3), u64(2 ** 40), u64(0)]), /tensor count/],
      ['unknown value type', Buffer.concat([Buffer.from('GGUF'), u32(3), u64(0), u64(1), str('k'), u32(77)]), /unknown value type 77/],
      ['arrays nested too deep', nested, /nested deeper/],
      ['duplicate key', Buffer.concat([Buffer.from('GGUF'), u32(3), u64(0), u64(2), str('k'), ggufValue('u32', 1), str('k'), ggufValue('u32', 2)]), /duplicate key/],
      ['tensor with 9 dimensions', Buffer.concat([Buffer.from('GGUF'), u32(3), u64(1), u64(0), str('t'), u32(9)]), /9 dimensions/],
    ];
    for (const [name, bytes, reason] of cases) {
      const parsed = parseGgufHeader(bytes);
      assert.equal(parsed.ok, false, name);
      assert.match((parsed as { reason: string }).reason, reason, name);
    }
  });
});

function u32(value: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32LE(value); return b; }
function u64(value: number): Buffer { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(value)); return b; }
function str(text: string): Buffer { return Buffer.concat([u64(Buffer.byteLength(text)), Buffer.from(text)]); }

describe('pickle scanner', () => {
  it('a state dict imports only tensor reconstruction: nothing dangerous', () => {
    const scan = scanPickle(harmlessPickle());
    assert.equal(scan.complete, true);
    assert.equal(scan.problem, undefined);
    assert.deepEqual(scan.imports.map((item) => `${item.module}.${item.name}`), ['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch.FloatStorage']);
    assert.deepEqual(scan.dangerous, []);
  });

  it('finds os.system behind STACK_GLOBAL with operands from the memo', () => {
    const scan = scanPickle(dangerousPickle());
    assert.deepEqual(scan.dangerous, ['os.system']);
    assert.equal(scan.complete, true);
  });

  it('finds GLOBAL and INST imports of protocol 0 and builtins.eval', () => {
    const protocol0 = Buffer.from("cbuiltins\neval\n(S'1+1'\ntR.", 'latin1');
    assert.deepEqual(scanPickle(protocol0).dangerous, ['builtins.eval']);
    const inst = Buffer.from("(S'ls'\nisubprocess\ncheck_output\n.", 'latin1');
    assert.deepEqual(scanPickle(inst).dangerous, ['subprocess.check_output']);
  });

  it('scans every pickle of a legacy PyTorch file (several pickles, then raw bytes)', () => {
    const legacy = Buffer.concat([Buffer.from([0x80, 0x02, 0x4b, 0x01, 0x2e]), harmlessPickle(), dangerousPickle('id'), Buffer.from([1, 2, 3, 4])]);
    const scan = scanPickle(legacy);
    assert.equal(scan.pickles, 3);
    assert.deepEqual(scan.dangerous, ['os.system']);
  });

  it('STACK_GLOBAL whose operands are not strings is dangerous (it cannot be resolved)', () => {
    const scan = scanPickle(Buffer.concat([op.proto(4), op.int(1), op.int(2), op.stackGlobal, op.stop]));
    assert.deepEqual(scan.dangerous, ['<STACK_GLOBAL with operands that are not strings>']);
  });

  it('hostile streams end with a reason and keep what was found before', () => {
    const nested = Buffer.concat([op.proto(2), Buffer.alloc(200_000, 0x28), op.stop]);
    const cases: [string, Buffer, RegExp][] = [
      ['nesting too deep', nested, /nesting too deep/],
      ['stack underflow', Buffer.concat([op.proto(2), op.reduce, op.stop]), /stack underflow/],
      ['unknown opcode', Buffer.concat([op.proto(2), Buffer.from([0xff])]), /unknown opcode 0xff/],
      ['memo read before write', Buffer.concat([op.proto(2), op.binget(9), op.stop]), /memo entry 9/],
      ['empty', Buffer.alloc(0), /empty stream/],
    ];
    for (const [name, bytes, reason] of cases) {
      const scan = scanPickle(bytes);
      assert.equal(scan.complete, false, name);
      assert.match(scan.problem ?? '', reason, name);
    }
    const truncated = dangerousPickle().subarray(0, 20);
    const cut = scanPickle(truncated);
    assert.equal(cut.complete, false);
    const afterFinding = scanPickle(Buffer.concat([dangerousPickle().subarray(0, -1), Buffer.from([0xff])]));
    assert.deepEqual(afterFinding.dangerous, ['os.system']);
    assert.match(afterFinding.problem ?? '', /unknown opcode/);
  });

  it('a huge declared length inside the stream is truncation, not an allocation', () => {
    const scan = scanPickle(Buffer.concat([op.proto(4), Buffer.from([0x8d]), u64(2 ** 52), op.stop]));
    assert.equal(scan.complete, false);
  });
});

describe('zip entries', () => {
  it('lists a PyTorch checkpoint and reads its data.pkl', async () => {
    const archive = pytorchZip(harmlessPickle());
    const listing = await listZip(bufferRangeRead(archive), archive.length);
    assert.ok(listing.ok);
    assert.deepEqual(listing.entries.map((entry) => entry.name), ['archive/data.pkl', 'archive/byteorder', 'archive/data/0', 'archive/version']);
    const entry = await readZipEntry(bufferRangeRead(archive), archive.length, listing.entries[0]!);
    assert.ok(entry.ok);
    assert.deepEqual(entry.bytes, harmlessPickle());
  });

  it('reads deflated entries', async () => {
    const archive = zipArchive([{ name: 'a/data.pkl', data: dangerousPickle(), deflate: true }]);
    const listing = await listZip(bufferRangeRead(archive), archive.length);
    assert.ok(listing.ok);
    const entry = await readZipEntry(bufferRangeRead(archive), archive.length, listing.entries[0]!);
    assert.ok(entry.ok);
    assert.deepEqual(scanPickle(entry.bytes).dangerous, ['os.system']);
  });

  it('refuses bombs, lies and garbage with a reason', async () => {
    const bombData = Buffer.alloc(50 * 1024 * 1024);
    const bomb = zipArchive([{ name: 'data.pkl', data: bombData, deflate: true }]);
    const listing = await listZip(bufferRangeRead(bomb), bomb.length);
    assert.ok(listing.ok);
    const refused = await readZipEntry(bufferRangeRead(bomb), bomb.length, listing.entries[0]!, { maxCentralDirectoryBytes: 1 << 20, maxEntries: 10, maxEntryBytes: 1 << 30, maxRatio: 100 });
    assert.equal(refused.ok, false);
    assert.match((refused as { reason: string }).reason, /zip bomb/);
    // The directory understates the size: inflating stops at the declared size.
    const liar = zipArchive([{ name: 'data.pkl', data: Buffer.alloc(100_000), deflate: true, declaredSize: 1000 }]);
    const liarListing = await listZip(bufferRangeRead(liar), liar.length);
    assert.ok(liarListing.ok);
    const lied = await readZipEntry(bufferRangeRead(liar), liar.length, liarListing.entries[0]!);
    assert.equal(lied.ok, false);
    assert.match((lied as { reason: string }).reason, /more than the 1000 bytes/);
    const tooBig = await readZipEntry(bufferRangeRead(bomb), bomb.length, listing.entries[0]!, { maxCentralDirectoryBytes: 1 << 20, maxEntries: 10, maxEntryBytes: 1 << 20, maxRatio: 1e9 });
    assert.match((tooBig as { reason: string }).reason, /over the limit/);
    const notZip = Buffer.alloc(100, 7);
    assert.match(((await listZip(bufferRangeRead(notZip), notZip.length)) as { reason: string }).reason, /no end-of-central-directory/);
    const tiny = Buffer.alloc(5);
    assert.match(((await listZip(bufferRangeRead(tiny), tiny.length)) as { reason: string }).reason, /shorter/);
    const good = pytorchZip(harmlessPickle());
    const cut = good.subarray(0, good.length - 30); // EOCD gone
    assert.equal((await listZip(bufferRangeRead(cut), cut.length)).ok, false);
    const badOffset = Buffer.from(good);
    badOffset.writeUInt32LE(good.length * 2, good.length - 6); // directory offset past the end
    assert.match(((await listZip(bufferRangeRead(badOffset), badOffset.length)) as { reason: string }).reason, /past the end/);
    const many = Buffer.from(good);
    many.writeUInt16LE(0xfffe, good.length - 12);
    assert.match(((await listZip(bufferRangeRead(many), many.length, { maxCentralDirectoryBytes: 1 << 20, maxEntries: 100, maxEntryBytes: 1 << 20, maxRatio: 100 })) as { reason: string }).reason, /entries, over the limit/);
    const garbage = zipArchive([{ name: 'data.pkl', data: Buffer.from('x'), deflate: false }]);
    const garbageListing = await listZip(bufferRangeRead(garbage), garbage.length);
    assert.ok(garbageListing.ok);
    const corrupt = await readZipEntry(bufferRangeRead(garbage), garbage.length, { ...garbageListing.entries[0]!, method: 8, compressedSize: 1, size: 10 });
    assert.equal(corrupt.ok, false);
    assert.ok(deflateRawSync); // node:zlib is what inflates
  });
});
