/**
 * net.cidr_merge: the smallest list of networks covering the given networks and addresses.
 * As in OPA (whose algorithm comes from Cilium), every range is placed in the 128-bit space
 * with IPv4 mapped into ::ffff:0:0/96, so an IPv6 network such as ::/0 absorbs IPv4 ones.
 */
import { formatNetwork, lastAddress, maskOf, type IP, type Network } from './net-ip.ts';

interface Range {
  first: bigint;
  last: bigint;
  /** The input network when the range was not merged with another one. */
  network?: Network;
}

const MAPPED = 0xffffn << 32n;

function to128(ip: IP): bigint {
  return ip.bits === 32 ? MAPPED | ip.value : ip.value;
}

function rangeOf(n: Network): Range {
  const first = { value: n.ip.value & maskOf(n.prefix, n.ip.bits), bits: n.ip.bits };
  return { first: to128(first), last: to128(lastAddress({ ip: first, prefix: n.prefix })), network: n };
}

/** The fewest aligned blocks covering [first, last], written in the family of `first`. */
function rangeToNetworks(first: bigint, last: bigint): Network[] {
  const isV4 = first >> 32n === 0xffffn && last >> 32n === 0xffffn;
  const bits = isV4 ? 32 : 128;
  let lo = isV4 ? first & 0xffffffffn : first;
  const hi = isV4 ? last & 0xffffffffn : last;
  const out: Network[] = [];
  while (lo <= hi) {
    let size = 0;
    while (size < bits && (lo & ((1n << BigInt(size + 1)) - 1n)) === 0n && lo + (1n << BigInt(size + 1)) - 1n <= hi) {
      size++;
    }
    out.push({ ip: { value: lo, bits }, prefix: bits - size });
    lo += 1n << BigInt(size);
  }
  return out;
}

/** Merges networks; returns them as Go's IPNet.String() prints them. */
export function mergeNetworks(networks: Network[]): string[] {
  const ranges = networks.map(rangeOf);
  ranges.sort((a, b) => (a.last !== b.last ? (a.last < b.last ? -1 : 1) : a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  // Walk from the end, folding each range into its predecessor when they touch or overlap.
  for (let i = ranges.length - 1; i > 0; i--) {
    const cur = ranges[i]!;
    const prev = ranges[i - 1]!;
    const before = cur.first === 0n || cur.first === MAPPED ? cur.first : cur.first - 1n;
    if (before <= prev.last) {
      ranges[i - 1] = { first: prev.first < cur.first ? prev.first : cur.first, last: cur.last };
      ranges.splice(i, 1);
    }
  }
  const out: string[] = [];
  for (const r of ranges) {
    if (r.network !== undefined) out.push(formatNetwork(r.network));
    else for (const n of rangeToNetworks(r.first, r.last)) out.push(formatNetwork(n));
  }
  return out;
}
