/**
 * A minimal, bounded reader of zip archives through ranged reads (a PyTorch checkpoint is a zip
 * whose `data.pkl` is the pickle): the end-of-central-directory record (and its zip64 form) is
 * found in the tail, the central directory is walked, and one entry is read and inflated with a
 * cap on its output. Sizes are checked before anything is read, so bombs end in a reason.
 */
import { inflateRawSync } from 'node:zlib';

/** Reads `length` bytes at `start` of the archive (fewer only at its end), or gives a reason. */
export type RangeRead = (start: number, length: number) => Promise<Buffer | string>;

export interface ZipLimits {
  readonly maxCentralDirectoryBytes: number;
  readonly maxEntries: number;
  /** Largest entry read (after inflating). */
  readonly maxEntryBytes: number;
  /** Inflated size over compressed size beyond which an entry is refused as a bomb. */
  readonly maxRatio: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxCentralDirectoryBytes: 16 * 1024 * 1024, maxEntries: 100_000, maxEntryBytes: 64 * 1024 * 1024, maxRatio: 200 };

export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

export type ZipListing = { ok: true; entries: ZipEntry[] } | { ok: false; reason: string };

const EOCD = 0x06054b50, ZIP64_EOCD = 0x06064b50, ZIP64_LOCATOR = 0x07064b50, CENTRAL = 0x02014b50, LOCAL = 0x04034b50;
const MAX_COMMENT = 65_535;

export function looksLikeZip(prefix: Uint8Array): boolean {
  return prefix.byteLength >= 4 && prefix[0] === 0x50 && prefix[1] === 0x4b && prefix[2] === 0x03 && prefix[3] === 0x04;
}

export async function listZip(read: RangeRead, size: number, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<ZipListing> {
  if (size < 22) return { ok: false, reason: 'zip: shorter than an end-of-central-directory record' };
  const tailStart = Math.max(0, size - 22 - MAX_COMMENT);
  const tail = await read(tailStart, size - tailStart);
  if (typeof tail === 'string') return { ok: false, reason: tail };
  let at = -1;
  for (let position = tail.length - 22; position >= 0; position--) {
    if (tail.readUInt32LE(position) === EOCD) { at = position; break; }
  }
  if (at < 0) return { ok: false, reason: 'zip: no end-of-central-directory record' };
  let entries = tail.readUInt16LE(at + 10);
  let directorySize = tail.readUInt32LE(at + 12);
  let directoryOffset = tail.readUInt32LE(at + 16);
  if (entries === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
    // zip64: a locator right before the record points at the zip64 end record.
    const locator = at - 20;
    if (locator < 0 || tail.readUInt32LE(locator) !== ZIP64_LOCATOR) return { ok: false, reason: 'zip: zip64 sizes without a zip64 locator' };
    const recordOffset = Number(tail.readBigUInt64LE(locator + 8));
    const record = await read(recordOffset, 56);
    if (typeof record === 'string') return { ok: false, reason: record };
    if (record.length < 56 || record.readUInt32LE(0) !== ZIP64_EOCD) return { ok: false, reason: 'zip: zip64 end record missing' };
    entries = safe(record.readBigUInt64LE(32));
    directorySize = safe(record.readBigUInt64LE(40));
    directoryOffset = safe(record.readBigUInt64LE(48));
  }
  if (entries > limits.maxEntries) return { ok: false, reason: `zip: ${entries} entries, over the limit of ${limits.maxEntries}` };
  if (directorySize > limits.maxCentralDirectoryBytes) return { ok: false, reason: `zip: central directory of ${directorySize} bytes, over the limit of ${limits.maxCentralDirectoryBytes}` };
  if (directoryOffset + directorySize > size) return { ok: false, reason: 'zip: central directory lies past the end of the file' };
  const directory = await read(directoryOffset, directorySize);
  if (typeof directory === 'string') return { ok: false, reason: directory };
  const list: ZipEntry[] = [];
  let position = 0;
  for (let index = 0; index < entries; index++) {
    if (position + 46 > directory.length || directory.readUInt32LE(position) !== CENTRAL) return { ok: false, reason: `zip: central directory entry ${index} is malformed` };
    const method = directory.readUInt16LE(position + 10);
    let compressedSize = directory.readUInt32LE(position + 20);
    let uncompressed = directory.readUInt32LE(position + 24);
    const nameLength = directory.readUInt16LE(position + 28), extraLength = directory.readUInt16LE(position + 30), commentLength = directory.readUInt16LE(position + 32);
    let localHeaderOffset = directory.readUInt32LE(position + 42);
    const end = position + 46 + nameLength + extraLength + commentLength;
    if (end > directory.length) return { ok: false, reason: `zip: central directory entry ${index} runs past the directory` };
    const name = directory.toString('utf8', position + 46, position + 46 + nameLength);
    // zip64 extra field (id 1): the 64-bit values, in order, of the fields that are saturated.
    let extra = position + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = directory.readUInt16LE(extra), length = directory.readUInt16LE(extra + 2);
      if (id === 1) {
        let field = extra + 4;
        const next = () => { if (field + 8 > extra + 4 + length) return undefined; const value = safe(directory.readBigUInt64LE(field)); field += 8; return value; };
        if (uncompressed === 0xffffffff) uncompressed = next() ?? uncompressed;
        if (compressedSize === 0xffffffff) compressedSize = next() ?? compressedSize;
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = next() ?? localHeaderOffset;
      }
      extra += 4 + length;
    }
    list.push({ name, method, compressedSize, size: uncompressed, localHeaderOffset });
    position = end;
  }
  return { ok: true, entries: list };
}

function safe(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

/** The bytes of one entry, stored or deflated, refused when it would exceed the limits. */
export async function readZipEntry(read: RangeRead, size: number, entry: ZipEntry, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<{ ok: true; bytes: Buffer } | { ok: false; reason: string }> {
  const label = `zip entry ${entry.name.slice(0, 200)}`;
  if (entry.size > limits.maxEntryBytes) return { ok: false, reason: `${label}: ${entry.size} bytes, over the limit of ${limits.maxEntryBytes}` };
  if (entry.method !== 0 && entry.method !== 8) return { ok: false, reason: `${label}: compression method ${entry.method} is not supported` };
  if (entry.method === 8 && entry.size > Math.max(1024, entry.compressedSize * limits.maxRatio)) return { ok: false, reason: `${label}: expands ${entry.compressedSize} to ${entry.size} bytes (a zip bomb?)` };
  if (entry.localHeaderOffset + 30 > size) return { ok: false, reason: `${label}: local header lies past the end of the file` };
  const header = await read(entry.localHeaderOffset, 30);
  if (typeof header === 'string') return { ok: false, reason: header };
  if (header.length < 30 || header.readUInt32LE(0) !== LOCAL) return { ok: false, reason: `${label}: no local header where the directory says` };
  const dataStart = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  if (dataStart + entry.compressedSize > size) return { ok: false, reason: `${label}: data runs past the end of the file` };
  if (entry.compressedSize > limits.maxEntryBytes) return { ok: false, reason: `${label}: ${entry.compressedSize} compressed bytes, over the limit of ${limits.maxEntryBytes}` };
  const data = await read(dataStart, entry.compressedSize);
  if (typeof data === 'string') return { ok: false, reason: data };
  if (data.length < entry.compressedSize) return { ok: false, reason: `${label}: truncated` };
  if (entry.method === 0) return entry.size === entry.compressedSize ? { ok: true, bytes: data } : { ok: false, reason: `${label}: stored entry whose sizes differ` };
  try {
    // The cap holds even when the directory lies about the size.
    const bytes = inflateRawSync(data, { maxOutputLength: Math.min(limits.maxEntryBytes, Math.max(entry.size, 1)) });
    if (bytes.length !== entry.size) return { ok: false, reason: `${label}: inflates to ${bytes.length} bytes, the directory says ${entry.size}` };
    return { ok: true, bytes };
  } catch (error) {
    const code = (error as { code?: string }).code;
    return { ok: false, reason: code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError ? `${label}: inflates to more than the ${entry.size} bytes the directory declares` : `${label}: does not inflate (${(error as Error).message})` };
  }
}

/** Reads a zip held in memory (tests, small files) through the same ranged interface. */
export function bufferRangeRead(bytes: Buffer): RangeRead {
  return async (start, length) => bytes.subarray(start, Math.min(bytes.length, start + length));
}
