/** uuid.rfc4122 (random version 4, fixed per query and argument) and uuid.parse (google/uuid rules). */
import { randomBytes } from 'node:crypto';
import { RNumber, RObject, keyOf } from '../value.ts';
import { str } from './operands.ts';
import type { BuiltinDecl, BuiltinFn } from './types.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

const rfc4122: BuiltinFn = (args, ctx) => {
  const key = `uuid.rfc4122/${keyOf(args[0]!)}`;
  const cached = ctx.cache.get(key);
  if (cached !== undefined) return cached;
  const b = randomBytes(16);
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 4122 variant
  b[6] = (b[6]! & 0x0f) | 0x40; // version 4
  const s = `${hex(b.subarray(0, 4))}-${hex(b.subarray(4, 6))}-${hex(b.subarray(6, 8))}-${hex(b.subarray(8, 10))}-${hex(b.subarray(10))}`;
  ctx.cache.set(key, s);
  return s;
};

/** The 16 bytes of a UUID in any of google/uuid's accepted spellings, or undefined. */
export function parseUUIDBytes(text: string): Uint8Array | undefined {
  let s = Buffer.from(text, 'utf8');
  switch (s.length) {
    case 36:
      break;
    case 36 + 9:
      if (s.subarray(0, 9).toString('latin1').toLowerCase() !== 'urn:uuid:') return undefined;
      s = s.subarray(9);
      break;
    case 36 + 2:
      // Only the middle 36 bytes are examined: the enclosing characters may be anything.
      s = s.subarray(1, 37);
      break;
    case 32: {
      const raw = s.toString('latin1');
      return /^[0-9a-fA-F]{32}$/.test(raw) ? Buffer.from(raw, 'hex') : undefined;
    }
    default:
      return undefined;
  }
  const t = s.toString('latin1');
  if (t[8] !== '-' || t[13] !== '-' || t[18] !== '-' || t[23] !== '-') return undefined;
  const digits = t.slice(0, 8) + t.slice(9, 13) + t.slice(14, 18) + t.slice(19, 23) + t.slice(24, 36);
  return /^[0-9a-fA-F]{32}$/.test(digits) ? Buffer.from(digits, 'hex') : undefined;
}

function variantName(b: Uint8Array): string {
  const v = b[8]!;
  if ((v & 0xc0) === 0x80) return 'RFC4122';
  if ((v & 0xe0) === 0xc0) return 'Microsoft';
  if ((v & 0xe0) === 0xe0) return 'Future';
  return 'Reserved';
}

function macVariables(first: number): string {
  if ((first & 3) === 3) return 'local:multicast';
  if ((first & 1) === 1) return 'global:multicast';
  if ((first & 2) === 2) return 'local:unicast';
  return 'global:unicast';
}

/** 100-ns intervals between the Gregorian reform (1582-10-15) and the Unix epoch. */
const GREGORIAN_TO_UNIX_100NS = 122192928000000000n;

/** Time-based fields of version 1 and 2 UUIDs. */
function timeFields(b: Uint8Array, out: RObject): void {
  const view = Buffer.from(b);
  const ticks = BigInt(view.readUInt32BE(0)) | (BigInt(view.readUInt16BE(4)) << 32n) | (BigInt(view.readUInt16BE(6) & 0xfff) << 48n);
  const since = ticks - GREGORIAN_TO_UNIX_100NS;
  const seconds = since / 10_000_000n;
  out.set('time', RNumber.of(seconds * 1_000_000_000n + (since % 10_000_000n) * 100n));
  const node = b.subarray(10, 16);
  out.set('nodeid', [...node].map((x) => x.toString(16).padStart(2, '0')).join('-'));
  out.set('macvariables', macVariables(node[0]!));
  out.set('clocksequence', RNumber.of(view.readUInt16BE(8) & 0x3fff));
}

const parse: BuiltinFn = (args) => {
  const b = parseUUIDBytes(str(args, 0));
  if (b === undefined) return undefined;
  const version = b[6]! >> 4;
  const out = new RObject();
  out.set('version', RNumber.of(version));
  out.set('variant', variantName(b));
  if (version === 1 || version === 2) timeFields(b, out);
  if (version === 2) {
    out.set('id', RNumber.of(Buffer.from(b).readUInt32BE(0)));
    const domain = b[9]!;
    out.set('domain', ['Person', 'Group', 'Org'][domain] ?? `Domain${domain}`);
  }
  return out;
};

export const builtins: BuiltinDecl[] = [
  { name: 'uuid.rfc4122', args: ['string'], result: 'string', nondeterministic: true, fn: rfc4122 },
  { name: 'uuid.parse', args: ['string'], result: 'object[string: any]', fn: parse },
];

