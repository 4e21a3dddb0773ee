/**
 * CBOR (RFC 8949) for COSE_Sign1 envelopes, through cbor2 (a maintained, dependency-light, pure-JS
 * codec), with Wharf's own bounds around it: definite lengths only, nesting depth, item count,
 * duplicate map keys refused (COSE headers must not repeat a label, RFC 9052 §3), no simple values
 * beyond true/false/null/undefined. The item count is checked on cbor2's token stream before any
 * value is built, so a hostile envelope cannot make Wharf allocate a million-element array.
 * Decoded values use plain JS shapes (Map, array, Uint8Array, {tag, value}) so callers stay
 * independent of the library.
 */
import type * as Cbor2 from 'cbor2';
import { lazyModule } from '../shared/lazy-module.ts';

export type CborValue = number | bigint | string | Uint8Array | CborValue[] | CborMap | CborTagged | boolean | null | undefined;
export type CborMap = Map<CborValue, CborValue>;
export interface CborTagged { readonly tag: number; readonly value: CborValue }

const MAX_DEPTH = 16;
const MAX_ITEMS = 100_000;

const cbor = lazyModule<typeof Cbor2>('cbor2');

export class CborError extends Error {}

const DECODE_OPTIONS: Cbor2.DecodeOptions = {
  maxDepth: MAX_DEPTH,
  rejectStreaming: true,
  rejectDuplicateKeys: true,
  rejectSimple: true,
  preferMap: true,
  ignoreGlobalTags: true, // tags stay {tag, value}: COSE code decides what tag 1 or 18 means
};

/** cbor2's messages name its internals ("Offset is outside the bounds of the DataView"); say what is wrong with the data. */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof RangeError || /end of stream|outside the bounds/i.test(message)) return 'CBOR data is truncated';
  if (/streaming/i.test(message)) return 'indefinite-length CBOR items are not supported';
  if (/maximum depth/i.test(message)) return 'CBOR nesting is too deep';
  if (/extra data/i.test(message)) return 'trailing bytes after the CBOR item';
  if (/duplicate/i.test(message)) return 'CBOR map has a duplicate key';
  return `invalid CBOR: ${message}`;
}

function countItems(bytes: Uint8Array): void {
  let items = 0;
  for (const _token of new (cbor().SequenceEvents)(bytes, DECODE_OPTIONS)) {
    if (++items > MAX_ITEMS) throw new CborError('CBOR has too many items');
  }
}

function toValue(value: unknown): CborValue {
  const { Tag } = cbor();
  if (value instanceof Tag) return { tag: Number(value.tag), value: toValue(value.contents) };
  if (value instanceof Map) {
    const map: CborMap = new Map();
    for (const [key, item] of value) map.set(toValue(key), toValue(item));
    return map;
  }
  if (Array.isArray(value)) return value.map(toValue);
  if (value instanceof Uint8Array || value === null || value === undefined) return value;
  switch (typeof value) {
    case 'number': case 'bigint': case 'string': case 'boolean': return value;
    default: throw new CborError(`unsupported CBOR value ${String(value)}`);
  }
}

export function decodeCbor(bytes: Uint8Array): CborValue {
  let decoded: unknown;
  try {
    countItems(bytes);
    decoded = cbor().decode(bytes, DECODE_OPTIONS);
  } catch (error) {
    throw error instanceof CborError ? error : new CborError(describe(error));
  }
  return toValue(decoded);
}

/** Encodes the few shapes COSE signing needs (text, bytes and arrays of them), in CBOR's preferred serialisation. */
export function encodeCbor(value: string | Uint8Array | readonly (string | Uint8Array)[]): Buffer {
  // cbor2 encodes a Node Buffer through its toJSON ({type:"Buffer",data}); a plain view is a byte string.
  const plain = (item: string | Uint8Array) => (typeof item === 'string' ? item : new Uint8Array(item.buffer, item.byteOffset, item.byteLength));
  const bytes = cbor().encode(typeof value === 'string' || value instanceof Uint8Array ? plain(value) : value.map(plain));
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
