/**
 * The GGUF header (versions 2 and 3, little-endian): magic "GGUF", version, tensor count, metadata
 * key/value count, the typed key/values (arrays included), then one info record per tensor. Read
 * from the first bytes of a file only; every length is checked against the bytes at hand and the
 * limits, so a hostile header ends in a reason, never an exception or a huge allocation.
 */

export interface GgufLimits {
  readonly maxKeyValues: number;
  readonly maxTensors: number;
  readonly maxStringBytes: number;
  readonly maxArrayElements: number;
  /** Arrays of arrays are legal; deeper nesting than this is refused. */
  readonly maxArrayDepth: number;
}

export const DEFAULT_GGUF_LIMITS: GgufLimits = { maxKeyValues: 65_536, maxTensors: 1_000_000, maxStringBytes: 1024 * 1024, maxArrayElements: 16 * 1024 * 1024, maxArrayDepth: 4 };

export type GgufScalar = number | bigint | boolean | string;
/** A metadata value as reported: large arrays are summarised by their element type and length. */
export type GgufValue = GgufScalar | { readonly array: string; readonly length: number; readonly first: readonly GgufValue[] };

export interface GgufHeader {
  readonly version: number;
  readonly tensorCount: number;
  readonly metadata: Record<string, GgufValue>;
  readonly architecture: string | undefined;
  readonly name: string | undefined;
  /** general.parameter_count, else the sum of the tensor shapes when the tensor infos were in reach. */
  readonly parameters: number | undefined;
  /** Quantisation named from general.file_type (e.g. "Q4_K_M"), else the dominant tensor type. */
  readonly quantization: string | undefined;
  readonly license: string | undefined;
  /** Tensor counts per ggml type, when the tensor infos were in reach. */
  readonly tensorTypes: Record<string, number> | undefined;
  /** Bytes from the start of the file the metadata (and, if read, the tensor infos) occupy. */
  readonly headerBytes: number;
}

export type GgufResult = { ok: true; header: GgufHeader } | { ok: false; reason: string };

const TYPE_NAMES = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'bool', 'string', 'array', 'uint64', 'int64', 'float64'] as const;
const ARRAY_TYPE = 9, STRING_TYPE = 8;
/** Elements of an array kept in the report; the rest are only counted. */
const ARRAY_PREVIEW = 8;
const STRING_PREVIEW = 512;

/** llama.cpp's llama_ftype values, as written to general.file_type. */
const FILE_TYPES: Record<number, string> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 7: 'Q8_0', 8: 'Q5_0', 9: 'Q5_1', 10: 'Q2_K', 11: 'Q3_K_S', 12: 'Q3_K_M', 13: 'Q3_K_L',
  14: 'Q4_K_S', 15: 'Q4_K_M', 16: 'Q5_K_S', 17: 'Q5_K_M', 18: 'Q6_K', 19: 'IQ2_XXS', 20: 'IQ2_XS', 21: 'Q2_K_S', 22: 'IQ3_XS',
  23: 'IQ3_XXS', 24: 'IQ1_S', 25: 'IQ4_NL', 26: 'IQ3_S', 27: 'IQ3_M', 28: 'IQ2_S', 29: 'IQ2_M', 30: 'IQ4_XS', 31: 'IQ1_M', 32: 'BF16',
  36: 'TQ1_0', 37: 'TQ2_0',
};

/** ggml tensor types (ggml_type). */
const TENSOR_TYPES: Record<number, string> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 6: 'Q5_0', 7: 'Q5_1', 8: 'Q8_0', 9: 'Q8_1', 10: 'Q2_K', 11: 'Q3_K', 12: 'Q4_K', 13: 'Q5_K',
  14: 'Q6_K', 15: 'Q8_K', 16: 'IQ2_XXS', 17: 'IQ2_XS', 18: 'IQ3_XXS', 19: 'IQ1_S', 20: 'IQ4_NL', 21: 'IQ3_S', 22: 'IQ2_S', 23: 'IQ4_XS',
  24: 'I8', 25: 'I16', 26: 'I32', 27: 'I64', 28: 'F64', 29: 'IQ1_M', 30: 'BF16', 34: 'TQ1_0', 35: 'TQ2_0', 39: 'MXFP4',
};

class Truncated extends Error {}
class Refused extends Error {}

class Cursor {
  offset = 0;
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  constructor(bytes: Uint8Array) { this.#bytes = bytes; this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength); }
  #need(count: number): void { if (this.offset + count > this.#bytes.byteLength) throw new Truncated(); }
  u8(): number { this.#need(1); return this.#view.getUint8(this.offset++); }
  u32(): number { this.#need(4); const value = this.#view.getUint32(this.offset, true); this.offset += 4; return value; }
  u64(): bigint { this.#need(8); const value = this.#view.getBigUint64(this.offset, true); this.offset += 8; return value; }
  /** A u64 count or length that must fit `limit`. */
  length(limit: number, what: string): number {
    const value = this.u64();
    if (value > BigInt(limit)) throw new Refused(`${what} ${value} is over the limit of ${limit}`);
    return Number(value);
  }
  skip(count: number): void { this.#need(count); this.offset += count; }
  string(limit: number, what: string): string {
    const length = this.length(limit, `${what} length`);
    this.#need(length);
    const text = Buffer.from(this.#bytes.buffer, this.#bytes.byteOffset + this.offset, length).toString('utf8');
    this.offset += length;
    return text;
  }
  scalar(type: number): GgufScalar {
    const at = this.offset;
    const sizes = [1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8];
    this.#need(sizes[type]!);
    this.offset += sizes[type]!;
    switch (type) {
      case 0: return this.#view.getUint8(at);
      case 1: return this.#view.getInt8(at);
      case 2: return this.#view.getUint16(at, true);
      case 3: return this.#view.getInt16(at, true);
      case 4: return this.#view.getUint32(at, true);
      case 5: return this.#view.getInt32(at, true);
      case 6: return this.#view.getFloat32(at, true);
      case 7: return this.#view.getUint8(at) !== 0;
      case 10: return toNumber(this.#view.getBigUint64(at, true));
      case 11: return toNumber(this.#view.getBigInt64(at, true));
      default: return this.#view.getFloat64(at, true);
    }
  }
}

/** 64-bit integers become numbers when exact, else stay bigint (reported as strings). */
function toNumber(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

function readValue(cursor: Cursor, type: number, limits: GgufLimits, depth: number): GgufValue {
  if (type === STRING_TYPE) {
    const text = cursor.string(limits.maxStringBytes, 'string');
    return text.length > STRING_PREVIEW ? `${text.slice(0, STRING_PREVIEW)}…` : text;
  }
  if (type === ARRAY_TYPE) {
    if (depth >= limits.maxArrayDepth) throw new Refused(`arrays nested deeper than ${limits.maxArrayDepth}`);
    const elementType = cursor.u32();
    if (elementType >= TYPE_NAMES.length) throw new Refused(`array of unknown value type ${elementType}`);
    const length = cursor.length(limits.maxArrayElements, 'array length');
    const first: GgufValue[] = [];
    // Every element is walked (the next key follows the array); each consumes at least one byte, so the walk is bounded by the prefix.
    for (let index = 0; index < length; index++) {
      const value = readValue(cursor, elementType, limits, depth + 1);
      if (index < ARRAY_PREVIEW) first.push(value);
    }
    return { array: TYPE_NAMES[elementType]!, length, first };
  }
  if (type >= TYPE_NAMES.length) throw new Refused(`unknown value type ${type}`);
  return cursor.scalar(type);
}

export function parseGgufHeader(bytes: Uint8Array, limits: GgufLimits = DEFAULT_GGUF_LIMITS): GgufResult {
  if (bytes.byteLength < 4 || Buffer.from(bytes.buffer, bytes.byteOffset, 4).toString('latin1') !== 'GGUF') return { ok: false, reason: 'gguf: wrong magic (not a GGUF file)' };
  const cursor = new Cursor(bytes);
  cursor.skip(4);
  const metadata: Record<string, GgufValue> = {};
  let version = 0, tensorCount = 0;
  try {
    version = cursor.u32();
    if (version === 1) return { ok: false, reason: 'gguf: version 1 (32-bit lengths) is not supported' };
    if (version !== 2 && version !== 3) {
      // A big-endian file shows its version byte-swapped.
      return { ok: false, reason: version === 0x02000000 || version === 0x03000000 ? 'gguf: big-endian files are not supported' : `gguf: unknown version ${version}` };
    }
    tensorCount = cursor.length(limits.maxTensors, 'tensor count');
    const keyValues = cursor.length(limits.maxKeyValues, 'metadata key/value count');
    for (let index = 0; index < keyValues; index++) {
      const key = cursor.string(65_536, 'key');
      const type = cursor.u32();
      const value = readValue(cursor, type, limits, 0);
      if (Object.hasOwn(metadata, key)) throw new Refused(`duplicate key "${key.slice(0, 100)}"`);
      metadata[key] = value;
    }
  } catch (error) {
    if (error instanceof Truncated) return { ok: false, reason: `gguf: metadata runs past the ${bytes.byteLength} bytes read (truncated or oversized)` };
    if (error instanceof Refused) return { ok: false, reason: `gguf: ${error.message}` };
    throw error;
  }
  const metadataEnd = cursor.offset;
  const tensors = readTensorInfos(cursor, tensorCount);
  if (typeof tensors === 'string') return { ok: false, reason: `gguf: ${tensors}` };
  const architecture = stringValue(metadata['general.architecture']);
  const fileType = metadata['general.file_type'];
  const declaredParameters = metadata['general.parameter_count'];
  return {
    ok: true,
    header: {
      version, tensorCount, metadata, architecture,
      name: stringValue(metadata['general.name']),
      parameters: typeof declaredParameters === 'number' ? declaredParameters : tensors?.parameters,
      quantization: typeof fileType === 'number' ? FILE_TYPES[fileType] ?? `file_type ${fileType}` : tensors?.dominantType,
      license: stringValue(metadata['general.license']),
      tensorTypes: tensors?.types,
      headerBytes: tensors ? cursor.offset : metadataEnd,
    },
  };
}

/** Tensor infos after the metadata: undefined when they run past the bytes read (the metadata still counts). */
function readTensorInfos(cursor: Cursor, count: number): { parameters: number; types: Record<string, number>; dominantType: string | undefined } | undefined | string {
  const types: Record<string, number> = {};
  const parametersByType: Record<string, number> = {};
  let parameters = 0;
  try {
    for (let index = 0; index < count; index++) {
      cursor.string(65_536, 'tensor name');
      const dimensions = cursor.u32();
      if (dimensions > 8) return `tensor ${index} has ${dimensions} dimensions (at most 8)`;
      let elements = 1;
      for (let dim = 0; dim < dimensions; dim++) {
        const size = cursor.u64();
        if (size > BigInt(Number.MAX_SAFE_INTEGER)) return `tensor ${index} has a dimension of ${size}`;
        elements *= Number(size);
        if (!Number.isSafeInteger(elements)) return `tensor ${index} has too many elements`;
      }
      const type = cursor.u32();
      cursor.u64(); // offset into the data section
      const name = TENSOR_TYPES[type] ?? `type ${type}`;
      types[name] = (types[name] ?? 0) + 1;
      parametersByType[name] = (parametersByType[name] ?? 0) + elements;
      parameters += elements;
    }
  } catch (error) {
    if (error instanceof Truncated) return undefined;
    if (error instanceof Refused) return error.message;
    throw error;
  }
  const dominantType = Object.entries(parametersByType).sort((a, b) => b[1] - a[1])[0]?.[0];
  return { parameters, types, dominantType };
}

function stringValue(value: GgufValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Metadata fit for JSON: bigints as strings, long arrays summarised already. */
export function ggufMetadataJson(metadata: Record<string, GgufValue>): Record<string, unknown> {
  const convert = (value: GgufValue): unknown => typeof value === 'bigint' ? value.toString()
    : typeof value === 'object' ? { array: value.array, length: value.length, first: value.first.map(convert) } : value;
  return Object.fromEntries(Object.entries(metadata).map(([key, value]) => [key, convert(value)]));
}
