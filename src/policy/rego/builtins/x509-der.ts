/**
 * A small DER (ASN.1) reader: enough to walk certificates and certificate requests. Kept rather
 * than asn1js/@peculiar/x509: the crypto.x509.* built-ins must return Go's x509 JSON (raw DER
 * slices, Go's lenience) and Go's error texts ("asn1: structure error: …"), which OPA surfaces.
 */

export class DERError extends Error {}

export interface DERNode {
  /** Tag class: 0 universal, 1 application, 2 context-specific, 3 private. */
  cls: number;
  tag: number;
  constructed: boolean;
  /** The whole encoding (header and contents). */
  raw: Buffer;
  contents: Buffer;
}

/** Reads one TLV at `offset`; returns the node and the offset after it. */
export function readNode(buf: Buffer, offset = 0): { node: DERNode; next: number } {
  const fail = (what: string): never => {
    throw new DERError(`asn1: structure error: ${what}`);
  };
  if (offset >= buf.length) fail('truncated tag or length');
  const first = buf[offset]!;
  const cls = first >> 6;
  const constructed = (first & 0x20) !== 0;
  let tag = first & 0x1f;
  let i = offset + 1;
  if (tag === 0x1f) {
    tag = 0;
    do {
      if (i >= buf.length) fail('truncated tag or length');
      tag = tag * 128 + (buf[i]! & 0x7f);
    } while (buf[i++]! & 0x80);
  }
  if (i >= buf.length) fail('truncated tag or length');
  let length = buf[i++]!;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) fail('length too large or indefinite');
    length = 0;
    for (let k = 0; k < count; k++) {
      if (i >= buf.length) fail('truncated tag or length');
      length = length * 256 + buf[i++]!;
    }
  }
  if (i + length > buf.length) fail('data truncated');
  return {
    node: { cls, tag, constructed, raw: buf.subarray(offset, i + length), contents: buf.subarray(i, i + length) },
    next: i + length,
  };
}

/** Parses a buffer that must hold exactly one element. */
export function parseDER(buf: Buffer): DERNode {
  const { node, next } = readNode(buf, 0);
  if (next !== buf.length) throw new DERError('x509: trailing data');
  return node;
}

export function children(node: DERNode): DERNode[] {
  const out: DERNode[] = [];
  for (let i = 0; i < node.contents.length; ) {
    const r = readNode(node.contents, i);
    out.push(r.node);
    i = r.next;
  }
  return out;
}

export const TAG = { BOOLEAN: 1, INTEGER: 2, BIT_STRING: 3, OCTET_STRING: 4, NULL: 5, OID: 6, SEQUENCE: 16, SET: 17 };

export function expectTag(node: DERNode | undefined, tag: number, cls = 0): DERNode {
  if (node === undefined || node.tag !== tag || node.cls !== cls) {
    throw new DERError(`asn1: structure error: tags don't match (${tag} vs ${node?.tag ?? 'none'})`);
  }
  return node;
}

/** OID arcs of an OBJECT IDENTIFIER node. */
export function oidArcs(node: DERNode): number[] {
  const b = node.contents;
  const arcs: number[] = [];
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if ((b[i]! & 0x80) === 0) {
      if (arcs.length === 0) {
        const first = v < 80 ? Math.floor(v / 40) : 2;
        arcs.push(first, v - first * 40);
      } else {
        arcs.push(v);
      }
      v = 0;
    }
  }
  return arcs;
}

export function oidString(node: DERNode): string {
  return oidArcs(node).join('.');
}

/** A two's-complement INTEGER as a bigint. */
export function integerValue(node: DERNode): bigint {
  const b = node.contents;
  if (b.length === 0) return 0n;
  let v = BigInt(`0x${b.toString('hex')}`);
  if (b[0]! & 0x80) v -= 1n << BigInt(b.length * 8);
  return v;
}

/** The bits of a BIT STRING (without the unused-bits byte). */
export function bitStringBytes(node: DERNode): Buffer {
  return node.contents.subarray(1);
}

/** A string-typed value (UTF8String, PrintableString, IA5String, T61String, BMPString …). */
export function stringValue(node: DERNode): string {
  if (node.tag === 30) {
    // BMPString: UTF-16 big-endian
    const swapped = Buffer.from(node.contents);
    swapped.swap16();
    return swapped.toString('utf16le');
  }
  if (node.tag === 20) return node.contents.toString('latin1'); // T61String, read as Latin-1 like Go
  return node.contents.toString('utf8');
}

/** UTCTime or GeneralizedTime as an ISO-8601 UTC string in Go's RFC 3339 form. */
export function timeValue(node: DERNode): string {
  const s = node.contents.toString('latin1');
  let m: RegExpExecArray | null;
  if (node.tag === 23 && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s))) {
    const yy = Number(m[1]);
    const year = yy >= 50 ? 1900 + yy : 2000 + yy;
    return `${year}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
  }
  if (node.tag === 24 && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s))) {
    return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
  }
  throw new DERError('x509: malformed time');
}
