/**
 * IP addresses and CIDR networks with the behaviour of Go's net package (ParseIP, ParseCIDR,
 * IPNet.Contains, IP.String), which defines OPA's net.cidr_* built-ins. An address is a bigint
 * with its width: 32 bits (IPv4) or 128 bits (IPv6, including IPv4-mapped ::ffff:a.b.c.d).
 */

export interface IP {
  readonly value: bigint;
  readonly bits: 32 | 128;
}

export interface Network {
  /** The network address (masked), except for addresses given without a prefix in cidr_merge. */
  readonly ip: IP;
  readonly prefix: number;
}

export class CIDRParseError extends Error {}

function parseIPv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const p of parts) {
    // Go rejects empty fields, leading zeros and values above 255.
    if (!/^[0-9]{1,3}$/.test(p) || (p.length > 1 && p[0] === '0') || Number(p) > 255) return undefined;
    value = (value << 8n) | BigInt(p);
  }
  return value;
}

function parseIPv6(s: string): bigint | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (text: string): bigint[] | undefined => {
    if (text === '') return [];
    const out: bigint[] = [];
    const fields = text.split(':');
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      if (i === fields.length - 1 && f.includes('.')) {
        const v4 = parseIPv4(f);
        if (v4 === undefined) return undefined;
        out.push(v4 >> 16n, v4 & 0xffffn);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(f)) return undefined;
        out.push(BigInt(`0x${f}`));
      }
    }
    return out;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  const used = head.length + tail.length;
  if (halves.length === 2 ? used > 7 : used !== 8) return undefined;
  const groups = [...head, ...new Array<bigint>(8 - used).fill(0n), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** Go's net.ParseIP: IPv4 dotted decimal or IPv6 text; undefined when invalid. */
export function parseIP(s: string): IP | undefined {
  if (s.includes(':')) {
    const v = parseIPv6(s);
    return v === undefined ? undefined : { value: v, bits: 128 };
  }
  const v = parseIPv4(s);
  return v === undefined ? undefined : { value: v, bits: 32 };
}

export function maskOf(prefix: number, bits: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return (all >> BigInt(bits - prefix)) << BigInt(bits - prefix);
}

/** Go's net.ParseCIDR, returning the masked network; throws Go's error text. */
export function parseCIDR(s: string): Network {
  const slash = s.indexOf('/');
  const fail = (): never => {
    throw new CIDRParseError(`invalid CIDR address: ${s}`);
  };
  if (slash < 0) fail();
  const ip = parseIP(s.slice(0, slash));
  const maskText = s.slice(slash + 1);
  if (ip === undefined || !/^[0-9]+$/.test(maskText)) return fail();
  const prefix = Number(maskText);
  if (prefix > ip.bits) fail();
  return { ip: { value: ip.value & maskOf(prefix, ip.bits), bits: ip.bits }, prefix };
}

/** An IPv4-mapped IPv6 address seen as IPv4 (Go's To4), otherwise the address itself. */
export function canonicalIP(ip: IP): IP {
  if (ip.bits === 128 && ip.value >> 32n === 0xffffn) return { value: ip.value & 0xffffffffn, bits: 32 };
  return ip;
}

/** Go's IPNet.Contains: mapped addresses match IPv4 networks; families never mix otherwise. */
export function networkContains(n: Network, ip: IP): boolean {
  let net = n.ip;
  let prefix = n.prefix;
  const v4 = canonicalIP(net);
  if (v4 !== net) {
    net = v4;
    prefix = Math.max(0, prefix - 96);
  }
  const x = canonicalIP(ip);
  if (x.bits !== net.bits) return false;
  const mask = maskOf(prefix, net.bits);
  return (x.value & mask) === (net.value & mask);
}

/** The last address of a network (all host bits set). */
export function lastAddress(n: Network): IP {
  const hostBits = BigInt(n.ip.bits - n.prefix);
  return { value: n.ip.value | ((1n << hostBits) - 1n), bits: n.ip.bits };
}

function formatIPv4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
}

/** Go's IP.String: dotted IPv4 (also for mapped addresses), else RFC 5952 compressed IPv6. */
export function formatIP(ip: IP): string {
  if (ip.bits === 32) return formatIPv4(ip.value);
  if (ip.value >> 32n === 0xffffn) return formatIPv4(ip.value & 0xffffffffn);
  const groups = Array.from({ length: 8 }, (_, i) => Number((ip.value >> BigInt(112 - 16 * i)) & 0xffffn));
  // Compress the longest run of zero groups, but never a single group.
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) return groups.map((g) => g.toString(16)).join(':');
  const left = groups.slice(0, bestStart).map((g) => g.toString(16)).join(':');
  const right = groups.slice(bestStart + bestLen).map((g) => g.toString(16)).join(':');
  return `${left}::${right}`;
}

/** Go's IPNet.String: address "/" prefix length, the prefix counted in the address's own width. */
export function formatNetwork(n: Network): string {
  return `${formatIP(n.ip)}/${n.prefix}`;
}
