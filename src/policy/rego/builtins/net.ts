/** net.cidr_* built-ins (IPv4 and IPv6) with the semantics of OPA's Go implementation. */
import { RNumber, RObject, RSet, type Value } from '../value.ts';
import { str } from './operands.ts';
import { BuiltinError, type BuiltinDecl, type BuiltinFn } from './types.ts';
import {
  CIDRParseError, formatIP, lastAddress, networkContains, parseCIDR, parseIP, type Network,
} from './net-ip.ts';
import { mergeNetworks } from './net-merge.ts';

/**
 * Largest expansion net.cidr_expand produces (a /16 of IPv4). OPA has no limit and relies on
 * cancellation; here the whole set would be built before any evaluation bound could stop it.
 */
const MAX_EXPANSION_BITS = 16;

function cidrOperand(args: Value[], i: number): Network {
  const s = str(args, i);
  try {
    return parseCIDR(s);
  } catch (e) {
    if (e instanceof CIDRParseError) throw new BuiltinError(e.message);
    throw e;
  }
}

/** Whether network a contains b, where b is an address or a network. */
function cidrContains(args: Value[]): boolean {
  const a = cidrOperand(args, 0);
  const b = str(args, 1);
  const ip = parseIP(b);
  if (ip !== undefined) return networkContains(a, ip);
  let inner: Network;
  try {
    inner = parseCIDR(b);
  } catch {
    throw new BuiltinError(`not a valid textual representation of an IP address or CIDR: ${b}`);
  }
  return networkContains(a, inner.ip) && networkContains(a, lastAddress(inner));
}

const intersects: BuiltinFn = (args) => {
  const a = cidrOperand(args, 0);
  const b = cidrOperand(args, 1);
  return networkContains(a, b.ip) || networkContains(b, a.ip);
};

/** The CIDR of one element of a cidr_contains_matches operand: a string, or a tuple's first item. */
function matchTerm(v: Value, operand: number): Value {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.length > 0) return v[0]!;
  throw new BuiltinError(`operand ${operand}: element must be string or non-empty array`);
}

/** [cidr, key] pairs of an operand: a string stands for itself; collections give index/member/key. */
function matchEntries(v: Value, operand: number): [Value, Value][] {
  if (typeof v === 'string') return [[v, v]];
  if (Array.isArray(v)) return v.map((x, i) => [matchTerm(x, operand), RNumber.of(i)]);
  if (v instanceof RSet) return v.sorted().map((x) => [matchTerm(x, operand), x]);
  if (v instanceof RObject) return v.sortedEntries().map(([k, x]) => [matchTerm(x, operand), k]);
  return [];
}

const containsMatches: BuiltinFn = (args) => {
  const result = new RSet();
  const left = matchEntries(args[0]!, 1);
  const right = matchEntries(args[1]!, 2);
  for (const [cidr1, key1] of left) {
    for (const [cidr2, key2] of right) {
      if (cidrContains([cidr1, cidr2])) result.add([key1, key2]);
    }
  }
  return result;
};

const expand: BuiltinFn = (args) => {
  const n = cidrOperand(args, 0);
  const hostBits = n.ip.bits - n.prefix;
  if (hostBits > MAX_EXPANSION_BITS) {
    throw new BuiltinError(`network too large to expand: more than ${2 ** MAX_EXPANSION_BITS} addresses`);
  }
  const result = new RSet();
  for (let i = 0n; i < 1n << BigInt(hostBits); i++) {
    result.add(formatIP({ value: n.ip.value + i, bits: n.ip.bits }));
  }
  return result;
};

const isValid: BuiltinFn = (args) => {
  const s = args[0];
  if (typeof s !== 'string') return false;
  try {
    parseCIDR(s);
    return true;
  } catch {
    return false;
  }
};

/** An element of cidr_merge's operand: an IPv4 address gets its classful default mask. */
function mergeElement(v: Value): Network {
  if (typeof v !== 'string') throw new BuiltinError('element must be string');
  const ip = parseIP(v);
  if (ip === undefined) {
    try {
      return parseCIDR(v);
    } catch (e) {
      throw new BuiltinError((e as Error).message);
    }
  }
  if (ip.bits === 128 && ip.value >> 32n !== 0xffffn) throw new BuiltinError('IPv6 invalid: needs prefix length');
  const v4 = { value: ip.value & 0xffffffffn, bits: 32 as const };
  const firstOctet = Number(v4.value >> 24n);
  const prefix = firstOctet < 0x80 ? 8 : firstOctet < 0xc0 ? 16 : 24;
  return { ip: v4, prefix };
}

const merge: BuiltinFn = (args) => {
  const v = args[0]!;
  let items: Value[];
  if (Array.isArray(v)) items = v;
  else if (v instanceof RSet) items = v.sorted();
  else throw new BuiltinError('operand must be an array');
  return RSet.from(mergeNetworks(items.map(mergeElement)));
};

export const builtins: BuiltinDecl[] = [
  { name: 'net.cidr_contains', args: ['string', 'string'], result: 'boolean', fn: cidrContains },
  { name: 'net.cidr_overlap', args: ['string', 'string'], result: 'boolean', fn: cidrContains, deprecated: true },
  { name: 'net.cidr_intersects', args: ['string', 'string'], result: 'boolean', fn: intersects },
  {
    name: 'net.cidr_contains_matches',
    args: [
      'any<string, array[any<string, array[any]>], object[string: any<string, array[any]>], set[any<string, array[any]>]>',
      'any<string, array[any<string, array[any]>], object[string: any<string, array[any]>], set[any<string, array[any]>]>',
    ],
    result: 'set[array[any]]',
    fn: containsMatches,
  },
  { name: 'net.cidr_expand', args: ['string'], result: 'set[string]', fn: expand },
  { name: 'net.cidr_is_valid', args: ['string'], result: 'boolean', fn: isValid },
  { name: 'net.cidr_merge', args: ['any<array[any<string>], set[string]>'], result: 'set[string]', fn: merge },
];
