/**
 * Builders of model files for tests: safetensors and GGUF headers with real layouts, pickle
 * streams that reconstruct tensors or call os.system (never loaded, only scanned), and zip
 * archives in PyTorch's checkpoint layout.
 */
import { crc32, deflateRawSync } from 'node:zlib';

export function safetensorsFile(tensors: Record<string, { dtype: string; shape: number[] }>, metadata?: Record<string, string>): Buffer {
  const bits: Record<string, number> = { F32: 32, F16: 16, BF16: 16, I64: 64, I32: 32, U8: 8, I8: 8, BOOL: 8, F64: 64 };
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const [name, { dtype, shape }] of Object.entries(tensors)) {
    const bytes = (shape.reduce((product, dim) => product * dim, 1) * bits[dtype]!) / 8;
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, Buffer.alloc(offset, 1)]);
}

export type GgufKv = [key: string, type: 'string' | 'u32' | 'u64' | 'f32' | 'bool' | 'string[]' | 'i32[]', value: unknown];

function ggufString(text: string): Buffer {
  const bytes = Buffer.from(text);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(bytes.length));
  return Buffer.concat([length, bytes]);
}

function u32(value: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32LE(value); return b; }
function u64(value: number | bigint): Buffer { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(value)); return b; }

export function ggufValue(type: GgufKv[1], value: unknown): Buffer {
  switch (type) {
    case 'string': return Buffer.concat([u32(8), ggufString(String(value))]);
    case 'u32': return Buffer.concat([u32(4), u32(Number(value))]);
    case 'u64': return Buffer.concat([u32(10), u64(value as number)]);
    case 'f32': { const b = Buffer.alloc(4); b.writeFloatLE(Number(value)); return Buffer.concat([u32(6), b]); }
    case 'bool': return Buffer.concat([u32(7), Buffer.from([value ? 1 : 0])]);
    case 'string[]': { const items = value as string[]; return Buffer.concat([u32(9), u32(8), u64(items.length), ...items.map(ggufString)]); }
    case 'i32[]': { const items = value as number[]; return Buffer.concat([u32(9), u32(5), u64(items.length), ...items.map((item) => { const b = Buffer.alloc(4); b.writeInt32LE(item); return b; })]); }
  }
}

/** A GGUF v3 file: metadata, tensor infos (type F16 unless given), then a little padding for data. */
export function ggufFile(kvs: GgufKv[], tensors: { name: string; shape: number[]; type?: number }[] = [], version = 3): Buffer {
  const parts = [Buffer.from('GGUF'), u32(version), u64(tensors.length), u64(kvs.length)];
  for (const [key, type, value] of kvs) parts.push(ggufString(key), ggufValue(type, value));
  let offset = 0;
  for (const tensor of tensors) {
    parts.push(ggufString(tensor.name), u32(tensor.shape.length), ...tensor.shape.map((dim) => u64(dim)), u32(tensor.type ?? 1), u64(offset));
    offset += 32;
  }
  parts.push(Buffer.alloc(64));
  return Buffer.concat(parts);
}

/** Pickle opcode helpers (protocol 2–4). */
export const op = {
  proto: (version: number) => Buffer.from([0x80, version]),
  global: (module: string, name: string) => Buffer.from(`c${module}\n${name}\n`, 'latin1'),
  text: (text: string) => Buffer.concat([Buffer.from([0x8c, Buffer.byteLength(text)]), Buffer.from(text)]),
  int: (value: number) => Buffer.from([0x4b, value]),
  mark: Buffer.from([0x28]), tuple: Buffer.from([0x74]), tuple2: Buffer.from([0x86]), emptyTuple: Buffer.from([0x29]),
  reduce: Buffer.from([0x52]), setitems: Buffer.from([0x75]), binpersid: Buffer.from([0x51]), newfalse: Buffer.from([0x89]),
  stackGlobal: Buffer.from([0x93]), memoize: Buffer.from([0x94]), binget: (index: number) => Buffer.from([0x68, index]),
  binput: (index: number) => Buffer.from([0x71, index]), emptyDict: Buffer.from([0x7d]), tuple1: Buffer.from([0x85]), stop: Buffer.from([0x2e]),
};

/** A state dict {"weight": tensor} the way torch.save writes it: only reconstruction globals. */
export function harmlessPickle(): Buffer {
  return Buffer.concat([
    op.proto(2), op.global('collections', 'OrderedDict'), op.emptyTuple, op.reduce, op.binput(0),
    op.mark, op.text('weight'), op.global('torch._utils', '_rebuild_tensor_v2'),
    op.mark,
    op.mark, op.text('storage'), op.global('torch', 'FloatStorage'), op.text('0'), op.text('cpu'), op.int(4), op.tuple, op.binpersid,
    op.int(0), op.int(2), op.int(2), op.tuple2, op.int(2), op.int(1), op.tuple2, op.newfalse,
    op.global('collections', 'OrderedDict'), op.emptyTuple, op.reduce,
    op.tuple, op.reduce,
    op.setitems, op.stop,
  ]);
}

/** Calls os.system("…") when loaded, its operands fetched back from the memo like pickle's own writer does. */
export function dangerousPickle(command = 'echo owned'): Buffer {
  return Buffer.concat([
    op.proto(4), op.text('os'), op.memoize, op.text('system'), op.memoize, op.binget(0), op.binget(1), op.stackGlobal,
    op.text(command), op.tuple1, op.reduce, op.stop,
  ]);
}

/** A zip archive of the given entries (stored, or deflated when asked). */
export function zipArchive(entries: { name: string; data: Buffer; deflate?: boolean; declaredSize?: number }[]): Buffer {
  const locals: Buffer[] = [], centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const body = entry.deflate ? deflateRawSync(entry.data) : entry.data;
    const method = entry.deflate ? 8 : 0;
    const crc = crc32(entry.data);
    const size = entry.declaredSize ?? entry.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(method, 8); local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18); local.writeUInt32LE(size, 22); local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6); central.writeUInt16LE(method, 10); central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20); central.writeUInt32LE(size, 24); central.writeUInt16LE(name.length, 28); central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries.length, 8); end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** A PyTorch checkpoint (torch.save's zip layout) whose data.pkl is the given pickle. */
export function pytorchZip(pickle: Buffer): Buffer {
  return zipArchive([
    { name: 'archive/data.pkl', data: pickle },
    { name: 'archive/byteorder', data: Buffer.from('little') },
    { name: 'archive/data/0', data: Buffer.alloc(16, 0) },
    { name: 'archive/version', data: Buffer.from('3\n') },
  ]);
}
