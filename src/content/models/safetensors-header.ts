/**
 * The safetensors header: an unsigned 64-bit little-endian length N, then N bytes of JSON mapping
 * tensor names to {dtype, shape, data_offsets} (and an optional "__metadata__" string map). Only
 * the first 8 + N bytes of a file are needed; every field is checked, nothing is trusted.
 */

export interface SafetensorsLimits {
  /** Largest header accepted; the reference implementation refuses more than 100 MB. */
  readonly maxHeaderBytes: number;
  readonly maxTensors: number;
}

export const DEFAULT_SAFETENSORS_LIMITS: SafetensorsLimits = { maxHeaderBytes: 16 * 1024 * 1024, maxTensors: 500_000 };

/** Bytes per element of each dtype the format defines (sub-byte types are counted in bits). */
const DTYPE_BITS: Record<string, number> = {
  BOOL: 8, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, I16: 16, U16: 16, F16: 16, BF16: 16,
  I32: 32, U32: 32, F32: 32, F64: 64, I64: 64, U64: 64, F4: 4, F6_E2M3: 6, F6_E3M2: 6, C64: 64,
};

export interface SafetensorsHeader {
  readonly headerBytes: number;
  readonly tensorCount: number;
  readonly parameters: number;
  /** Parameters per dtype, e.g. {"BF16": 6738415616}. */
  readonly dtypes: Record<string, number>;
  /** The dtype holding most parameters. */
  readonly dominantDtype: string | undefined;
  readonly metadata: Record<string, string>;
  /** Bytes of tensor data the header describes (its largest end offset). */
  readonly dataBytes: number;
}

export type SafetensorsResult = { ok: true; header: SafetensorsHeader } | { ok: false; reason: string };

/** How many bytes from the start of the file hold the whole header, or why the prefix is unusable. */
export function safetensorsHeaderSpan(prefix: Uint8Array, limits: SafetensorsLimits = DEFAULT_SAFETENSORS_LIMITS): { ok: true; bytes: number } | { ok: false; reason: string } {
  if (prefix.byteLength < 8) return { ok: false, reason: 'safetensors: file shorter than the 8-byte header length' };
  const length = Buffer.from(prefix.buffer, prefix.byteOffset, 8).readBigUInt64LE(0);
  if (length > BigInt(limits.maxHeaderBytes)) return { ok: false, reason: `safetensors: header length ${length} is over the limit of ${limits.maxHeaderBytes} bytes` };
  if (length < 2n) return { ok: false, reason: 'safetensors: header length is too small for a JSON object' };
  return { ok: true, bytes: 8 + Number(length) };
}

/** Reads the header from the first bytes of a file; `fileSize`, when known, bounds the data offsets. */
export function parseSafetensorsHeader(bytes: Uint8Array, fileSize?: number, limits: SafetensorsLimits = DEFAULT_SAFETENSORS_LIMITS): SafetensorsResult {
  const span = safetensorsHeaderSpan(bytes, limits);
  if (!span.ok) return span;
  if (bytes.byteLength < span.bytes) return { ok: false, reason: `safetensors: truncated header (${bytes.byteLength} of ${span.bytes} bytes)` };
  if (fileSize !== undefined && span.bytes > fileSize) return { ok: false, reason: `safetensors: header length runs past the end of the ${fileSize}-byte file` };
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + 8, span.bytes - 8).toString('utf8');
  if (!text.trimStart().startsWith('{')) return { ok: false, reason: 'safetensors: header is not a JSON object' };
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `safetensors: header is not valid JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return { ok: false, reason: 'safetensors: header is not a JSON object' };
  const entries = Object.entries(document as Record<string, unknown>);
  const dtypes: Record<string, number> = {};
  const metadata: Record<string, string> = {};
  let parameters = 0, tensorCount = 0, dataBytes = 0;
  for (const [name, value] of entries) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'safetensors: __metadata__ is not an object' };
      for (const [key, item] of Object.entries(value)) {
        if (typeof item !== 'string') return { ok: false, reason: `safetensors: __metadata__.${key} is not a string` };
        metadata[key] = item;
      }
      continue;
    }
    if (++tensorCount > limits.maxTensors) return { ok: false, reason: `safetensors: more than ${limits.maxTensors} tensors` };
    const tensor = readTensor(name, value);
    if (typeof tensor === 'string') return { ok: false, reason: `safetensors: tensor "${name.slice(0, 200)}": ${tensor}` };
    parameters += tensor.elements;
    dtypes[tensor.dtype] = (dtypes[tensor.dtype] ?? 0) + tensor.elements;
    dataBytes = Math.max(dataBytes, tensor.end);
  }
  if (fileSize !== undefined && span.bytes + dataBytes > fileSize) return { ok: false, reason: `safetensors: tensor data ends at byte ${span.bytes + dataBytes}, past the end of the ${fileSize}-byte file` };
  const dominantDtype = Object.entries(dtypes).sort((a, b) => b[1] - a[1])[0]?.[0];
  return { ok: true, header: { headerBytes: span.bytes, tensorCount, parameters, dtypes, dominantDtype, metadata, dataBytes } };
}

function readTensor(_name: string, value: unknown): { dtype: string; elements: number; end: number } | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'entry is not an object';
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string' || DTYPE_BITS[dtype] === undefined) return `unknown dtype ${JSON.stringify(dtype)?.slice(0, 40)}`;
  if (!Array.isArray(shape) || shape.length > 64 || !shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) return 'shape is not a list of non-negative integers';
  let elements = 1;
  for (const dim of shape as number[]) {
    elements *= dim;
    if (!Number.isSafeInteger(elements)) return 'shape has too many elements';
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((offset) => Number.isSafeInteger(offset) && offset >= 0)) return 'data_offsets is not two non-negative integers';
  const [begin, end] = offsets as [number, number];
  if (end < begin) return 'data_offsets end before they begin';
  const expected = Math.ceil((elements * DTYPE_BITS[dtype]!) / 8);
  if (end - begin !== expected) return `data_offsets span ${end - begin} bytes, the shape and dtype need ${expected}`;
  return { dtype, elements, end };
}
