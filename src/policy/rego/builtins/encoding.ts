/** base64.*, base64url.*, hex.* and urlquery.* with Go's strictness and error messages. */
import { RObject, RSet, type Value } from '../value.ts';
import { BuiltinError, BuiltinTypeError, type BuiltinDecl } from './types.ts';
import { obj, str } from './operands.ts';

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

export function bytesOf(s: string): Uint8Array {
  return utf8.encode(s);
}

/** Bytes as a Go string would hold them; invalid UTF-8 becomes U+FFFD (JSON cannot carry it). */
export function stringOfBytes(b: Uint8Array): string {
  return utf8Decoder.decode(b);
}

/**
 * Validates like Go's base64 decoders (padded or raw) and returns the standard-alphabet text
 * for Buffer to decode; throws "illegal base64 data at input byte N".
 */
function strictBase64(input: string, url: boolean, padded: boolean): Buffer {
  const s = input.replace(/[\r\n]/g, '');
  const alphabet = url ? /[A-Za-z0-9_-]/ : /[A-Za-z0-9+/]/;
  let i = 0;
  while (i < s.length && alphabet.test(s[i]!)) i++;
  const dataLen = i;
  if (padded) {
    const rem = dataLen % 4;
    if (rem === 1) throw illegal(dataLen);
    const padNeeded = rem === 0 ? 0 : 4 - rem;
    for (let p = 0; p < padNeeded; p++, i++) if (s[i] !== '=') throw illegal(i < s.length ? i : dataLen - (dataLen % 4));
    if (i < s.length) throw illegal(i);
  } else {
    if (i < s.length) throw illegal(i);
    if (dataLen % 4 === 1) throw illegal(dataLen - 1);
  }
  return Buffer.from(s.slice(0, dataLen), url ? 'base64url' : 'base64');
}

function illegal(at: number): BuiltinError {
  return new BuiltinError(`illegal base64 data at input byte ${at}`);
}

function hexDecode(s: string): Uint8Array {
  const bytes = new Uint8Array(Math.floor(s.length / 2));
  for (let i = 0; i < s.length; i++) {
    if (!/[0-9a-fA-F]/.test(s[i]!)) {
      const c = s.codePointAt(i)!;
      throw new BuiltinError(
        `encoding/hex: invalid byte: U+${c.toString(16).toUpperCase().padStart(4, '0')} ${goQuoteRune(String.fromCodePoint(c))}`,
      );
    }
  }
  if (s.length % 2 === 1) throw new BuiltinError('encoding/hex: odd length hex string');
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

function goQuoteRune(c: string): string {
  return c === "'" ? "'\\''" : `'${c}'`;
}

/** Go's url.QueryEscape. */
export function queryEscape(s: string): string {
  let out = '';
  for (const b of bytesOf(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Go's url.QueryUnescape. */
export function queryUnescape(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; ) {
    const c = s[i]!;
    if (c === '%') {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) {
        throw new BuiltinError(`invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}`);
      }
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else if (c === '+') {
      bytes.push(0x20);
      i++;
    } else {
      const cp = s.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      bytes.push(...bytesOf(ch));
      i += ch.length;
    }
  }
  return stringOfBytes(Uint8Array.from(bytes));
}

function encodeObject(o: RObject): string {
  const parts: string[] = [];
  for (const [k, v] of o.sortedEntries()) {
    if (typeof k !== 'string') throw new BuiltinTypeError('operand 1 must be object[string: any]');
    let values: Value[];
    if (typeof v === 'string') values = [v];
    else if (Array.isArray(v)) values = v;
    else if (v instanceof RSet) values = v.sorted();
    else throw new BuiltinTypeError('operand 1 values must be string, array[string], or set[string]');
    for (const x of values) {
      if (typeof x !== 'string') throw new BuiltinTypeError('operand 1 values must be string, array[string], or set[string]');
      parts.push(queryEscape(k) + '=' + queryEscape(x));
    }
  }
  return parts.join('&');
}

function decodeObject(s: string): RObject {
  const grouped = new Map<string, string[]>();
  for (const part of s.split(/[&]/)) {
    if (part === '') continue;
    if (part.includes(';')) throw new BuiltinError('invalid semicolon separator in query');
    const eq = part.indexOf('=');
    const key = queryUnescape(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : queryUnescape(part.slice(eq + 1));
    const list = grouped.get(key) ?? [];
    list.push(value);
    grouped.set(key, list);
  }
  return RObject.from([...grouped].map(([k, vs]): [Value, Value] => [k, vs]));
}

export const builtins: BuiltinDecl[] = [
  { name: 'base64.encode', args: ['string'], result: 'string', fn: (a) => Buffer.from(bytesOf(str(a, 0))).toString('base64') },
  {
    name: 'base64.decode',
    args: ['string'],
    result: 'string',
    fn: (a) => stringOfBytes(strictBase64(str(a, 0), false, true)),
  },
  {
    name: 'base64.is_valid',
    args: ['string'],
    result: 'boolean',
    fn: (a) => {
      try {
        strictBase64(str(a, 0), false, true);
        return true;
      } catch (e) {
        if (e instanceof BuiltinError) return false;
        throw e;
      }
    },
  },
  {
    name: 'base64url.encode',
    args: ['string'],
    result: 'string',
    fn: (a) => {
      const raw = Buffer.from(bytesOf(str(a, 0))).toString('base64url');
      return raw + '='.repeat((4 - (raw.length % 4)) % 4);
    },
  },
  {
    name: 'base64url.encode_no_pad',
    args: ['string'],
    result: 'string',
    fn: (a) => Buffer.from(bytesOf(str(a, 0))).toString('base64url'),
  },
  {
    name: 'base64url.decode',
    args: ['string'],
    result: 'string',
    fn: (a) => {
      const s = str(a, 0);
      // OPA accepts both: padded when the length is a multiple of 4, raw otherwise.
      return stringOfBytes(strictBase64(s, true, s.length % 4 === 0));
    },
  },
  { name: 'hex.encode', args: ['string'], result: 'string', fn: (a) => Buffer.from(bytesOf(str(a, 0))).toString('hex') },
  { name: 'hex.decode', args: ['string'], result: 'string', fn: (a) => stringOfBytes(hexDecode(str(a, 0))) },
  { name: 'urlquery.encode', args: ['string'], result: 'string', fn: (a) => queryEscape(str(a, 0)) },
  { name: 'urlquery.decode', args: ['string'], result: 'string', fn: (a) => queryUnescape(str(a, 0)) },
  {
    name: 'urlquery.encode_object',
    args: ['object[string: any<string, array[string], set[string]>]'],
    result: 'string',
    fn: (a) => encodeObject(obj(a, 0)),
  },
  {
    name: 'urlquery.decode_object',
    args: ['string'],
    result: 'object[string: array[string]]',
    fn: (a) => decodeObject(str(a, 0)),
  },
];
