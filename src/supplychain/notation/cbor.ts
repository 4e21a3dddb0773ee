/**
 * The part of CBOR (RFC 8949) a COSE_Sign1 envelope uses: integers, byte and text strings,
 * arrays, maps, tags and simple values, definite lengths only. Decoding is bounded (depth and
 * item count) so a hostile envelope cannot exhaust memory or the stack.
 */
export type CborValue = number | bigint | string | Uint8Array | CborValue[] | CborMap | CborTagged | boolean | null | undefined;
export type CborMap = Map<CborValue, CborValue>;
export interface CborTagged { readonly tag: number; readonly value: CborValue }

const MAX_DEPTH = 16;
const MAX_ITEMS = 100_000;

export class CborError extends Error {}

class Reader {
  offset = 0;
  items = 0;
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) { this.bytes = bytes; }

  take(length: number): Uint8Array {
    if (length < 0 || this.offset + length > this.bytes.length) throw new CborError('CBOR data is truncated');
    const slice = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return slice;
  }

  argument(info: number): number {
    if (info < 24) return info;
    const sizes: Record<number, number> = { 24: 1, 25: 2, 26: 4, 27: 8 };
    const size = sizes[info];
    if (size === undefined) throw new CborError('indefinite-length CBOR items are not supported');
    const bytes = this.take(size);
    let value = 0;
    for (const byte of bytes) value = value * 256 + byte;
    if (!Number.isSafeInteger(value)) throw new CborError('CBOR integer is too large');
    return value;
  }
}

function decodeItem(reader: Reader, depth: number): CborValue {
  if (depth > MAX_DEPTH) throw new CborError('CBOR nesting is too deep');
  if (++reader.items > MAX_ITEMS) throw new CborError('CBOR has too many items');
  const initial = reader.take(1)[0]!;
  const major = initial >> 5;
  const info = initial & 0x1f;
  if (major === 7) {
    if (info === 20) return false;
    if (info === 21) return true;
    if (info === 22) return null;
    if (info === 23) return undefined;
    if (info === 25 || info === 26 || info === 27) {
      const bytes = reader.take(info === 25 ? 2 : info === 26 ? 4 : 8);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return info === 25 ? halfFloat(view.getUint16(0)) : info === 26 ? view.getFloat32(0) : view.getFloat64(0);
    }
    throw new CborError(`unsupported CBOR simple value ${info}`);
  }
  const argument = reader.argument(info);
  switch (major) {
    case 0: return argument;
    case 1: return -1 - argument;
    case 2: return reader.take(argument);
    case 3: return new TextDecoder('utf-8', { fatal: true }).decode(reader.take(argument));
    case 4: return Array.from({ length: checkedCount(reader, argument) }, () => decodeItem(reader, depth + 1));
    case 5: {
      const map: CborMap = new Map();
      const count = checkedCount(reader, argument);
      for (let i = 0; i < count; i++) map.set(decodeItem(reader, depth + 1), decodeItem(reader, depth + 1));
      return map;
    }
    default: return { tag: argument, value: decodeItem(reader, depth + 1) };
  }
}

function checkedCount(reader: Reader, count: number): number {
  if (count > reader.bytes.length - reader.offset) throw new CborError('CBOR length exceeds the data');
  return count;
}

function halfFloat(bits: number): number {
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  const sign = bits & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

export function decodeCbor(bytes: Uint8Array): CborValue {
  const reader = new Reader(bytes);
  const value = decodeItem(reader, 0);
  if (reader.offset !== bytes.length) throw new CborError('trailing bytes after the CBOR item');
  return value;
}

function head(major: number, length: number): Uint8Array {
  if (length < 24) return Uint8Array.of((major << 5) | length);
  if (length < 0x100) return Uint8Array.of((major << 5) | 24, length);
  if (length < 0x10000) return Uint8Array.of((major << 5) | 25, length >> 8, length & 0xff);
  return Uint8Array.of((major << 5) | 26, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff);
}

/** Encodes the few shapes COSE signing needs: text, bytes and arrays of them. */
export function encodeCbor(value: string | Uint8Array | readonly (string | Uint8Array)[]): Buffer {
  if (typeof value === 'string') {
    const text = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, text.length), text]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  return Buffer.concat([head(4, value.length), ...value.map((item) => encodeCbor(item))]);
}
