/**
 * PEM and base64 decoding with the strictness of Go's encoding/pem and encoding/base64, whose
 * error texts ("illegal base64 data at input byte N") OPA's crypto built-ins pass through.
 */

export class EncodingError extends Error {}

const STD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const decodeMaps = new Map<string, Int16Array>();

function decodeMap(alphabet: string): Int16Array {
  let map = decodeMaps.get(alphabet);
  if (map === undefined) {
    map = new Int16Array(256).fill(-1);
    for (let i = 0; i < alphabet.length; i++) map[alphabet.charCodeAt(i)] = i;
    decodeMaps.set(alphabet, map);
  }
  return map;
}

/**
 * Go's base64 decoding, quantum by quantum so errors name the same byte offset as Go:
 * \r and \n are skipped anywhere, padding is required unless `padded` is false (the Raw
 * encodings), and anything after the padding is an error.
 */
export function goBase64Decode(text: string, url = false, padded = true): Buffer {
  const src = Buffer.from(text, 'utf8');
  const map = decodeMap(url ? URL_ALPHABET : STD_ALPHABET);
  const fail = (at: number): never => {
    throw new EncodingError(`illegal base64 data at input byte ${at}`);
  };
  const isNewline = (c: number | undefined): boolean => c === 10 || c === 13;
  const out: number[] = [];
  let si = 0;
  while (si < src.length) {
    const quantum = [0, 0, 0, 0];
    let length = 4;
    for (let j = 0; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return Buffer.from(out);
        if (j === 1 || padded) fail(si - j);
        length = j;
        break;
      }
      const c = src[si++]!;
      const v = map[c]!;
      if (v >= 0) {
        quantum[j] = v;
        continue;
      }
      if (isNewline(c)) {
        j--;
        continue;
      }
      if (!padded || c !== 61 || j < 2) fail(si - 1);
      if (j === 2) {
        // "==" is expected: the first "=" is consumed, the second must follow (after newlines).
        while (si < src.length && isNewline(src[si])) si++;
        if (si === src.length) fail(src.length);
        if (src[si] !== 61) fail(si - 1);
        si++;
      }
      while (si < src.length && isNewline(src[si])) si++;
      if (si < src.length) fail(si);
      length = j;
      break;
    }
    const bits = (quantum[0]! << 18) | (quantum[1]! << 12) | (quantum[2]! << 6) | quantum[3]!;
    const bytes = [(bits >> 16) & 0xff, (bits >> 8) & 0xff, bits & 0xff];
    out.push(...bytes.slice(0, length - 1));
    if (length < 4) break;
  }
  return Buffer.from(out);
}

export interface PemBlock {
  type: string;
  bytes: Buffer;
}

/**
 * The first PEM block in the text and the text after it (Go's pem.Decode): the block may be
 * preceded by anything; a block with a bad body is skipped and the search goes on after it.
 */
export function pemDecodeFirst(text: string): { block: PemBlock; rest: string } | undefined {
  let from = 0;
  for (;;) {
    const begin = text.startsWith('-----BEGIN ', from) ? from : text.indexOf('\n-----BEGIN ', from);
    if (begin < 0) return undefined;
    const start = text[begin] === '\n' ? begin + 1 : begin;
    const lineEnd = text.indexOf('\n', start);
    const typeLine = text.slice(start + 11, lineEnd < 0 ? text.length : lineEnd).replace(/[ \t\r]+$/, '');
    from = start + 11;
    if (lineEnd < 0 || !typeLine.endsWith('-----')) continue;
    const type = typeLine.slice(0, -5);
    const endMarker = `-----END ${type}-----`;
    const bodyStart = lineEnd + 1;
    const endAt = text.startsWith(endMarker, bodyStart) ? bodyStart : text.indexOf(`\n${endMarker}`, lineEnd);
    if (endAt < 0) continue;
    const endLine = text[endAt] === '\n' ? endAt + 1 : endAt;
    let rest = text.slice(endLine + endMarker.length);
    const trailer = /^[ \t\r]*(\n|$)/.exec(rest);
    if (trailer === null) continue;
    rest = rest.slice(trailer[0].length);
    const body = text
      .slice(bodyStart, Math.max(bodyStart, endAt))
      .split('\n')
      .filter((line) => !/^[A-Za-z0-9-]+:/.test(line)) // RFC 1421 headers (Proc-Type: …)
      .join('\n')
      .replace(/[ \t]/g, '');
    try {
      return { block: { type, bytes: goBase64Decode(body) }, rest };
    } catch {
      from = endLine;
    }
  }
}

/** All PEM blocks in the text, in order (Go's pem.Decode applied repeatedly). */
export function pemDecodeAll(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (let r = pemDecodeFirst(text); r !== undefined; r = pemDecodeFirst(r.rest)) blocks.push(r.block);
  return blocks;
}

/** Decodes OPA-style input: PEM text, or base64 of PEM text or of DER. */
export function pemOrBase64(input: string): { pem: PemBlock[] } | { der: Buffer } {
  if (input.startsWith('-----BEGIN')) return { pem: pemDecodeAll(input) };
  const decoded = goBase64Decode(input);
  if (decoded.subarray(0, 10).toString('latin1') === '-----BEGIN') return { pem: pemDecodeAll(decoded.toString('utf8')) };
  return { der: decoded };
}
