/**
 * Chain verification for crypto.x509.parse_and_verify_certificates*: the first certificate is
 * the root, the last the leaf, the rest intermediates, checked like Go's Certificate.Verify
 * (signatures, validity period, CA constraints, extended key usage, DNS name).
 */
import { X509Certificate } from 'node:crypto';
import { RNumber, RObject, RSet, type Value } from '../value.ts';
import { BuiltinError } from './types.ts';
import type { ParsedCertificate } from './x509-cert.ts';

const KEY_USAGES: Readonly<Record<string, number>> = {
  KeyUsageAny: 0, KeyUsageServerAuth: 1, KeyUsageClientAuth: 2, KeyUsageCodeSigning: 3,
  KeyUsageEmailProtection: 4, KeyUsageIPSECEndSystem: 5, KeyUsageIPSECTunnel: 6, KeyUsageIPSECUser: 7,
  KeyUsageTimeStamping: 8, KeyUsageOCSPSigning: 9, KeyUsageMicrosoftServerGatedCrypto: 10,
  KeyUsageNetscapeServerGatedCrypto: 11, KeyUsageMicrosoftCommercialCodeSigning: 12,
  KeyUsageMicrosoftKernelCodeSigning: 13,
};

export interface VerifyOptions {
  dnsName: string;
  /** Verification time in milliseconds since the epoch. */
  timeMs: number;
  keyUsages: number[];
}

/** Reads OPA's verification options object, with its error messages. */
export function verifyOptions(options: RObject | undefined, nowNs: bigint): VerifyOptions {
  const opts: VerifyOptions = { dnsName: '', timeMs: Number(nowNs / 1_000_000n), keyUsages: [] };
  if (options === undefined) return opts;
  for (const [k, v] of options.sortedEntries()) {
    if (typeof k !== 'string') continue;
    switch (k) {
      case 'DNSName':
        if (typeof v !== 'string') throw new BuiltinError("'DNSName' should be a string");
        opts.dnsName = v.replace(/^"+|"+$/g, '');
        break;
      case 'CurrentTime': {
        if (!(v instanceof RNumber)) throw new BuiltinError("'CurrentTime' should be a number");
        const ns = v.toBigInt();
        if (ns === undefined || ns < -(1n << 63n) || ns >= 1n << 63n) {
          throw new BuiltinError("'CurrentTime' should be a valid int64 number");
        }
        opts.timeMs = Number(ns / 1_000_000n);
        break;
      }
      case 'MaxConstraintComparisons':
        if (!(v instanceof RNumber)) throw new BuiltinError("'MaxConstraintComparisons' should be a number");
        if (v.toSafeInteger() === undefined) throw new BuiltinError("'MaxConstraintComparisons' should be a valid number");
        break;
      case 'KeyUsages': {
        const items: Value[] = Array.isArray(v) ? v : v instanceof RSet ? v.sorted() : [];
        if (!Array.isArray(v) && !(v instanceof RSet)) throw new BuiltinError("'KeyUsages' should be an Array or Set");
        const invalid: string[] = [];
        for (const item of items) {
          if (typeof item !== 'string') continue;
          const usage = KEY_USAGES[item.replace(/^"+|"+$/g, '')];
          if (usage === undefined) invalid.push(item);
          else opts.keyUsages.push(usage);
        }
        if (invalid.length > 0) throw new BuiltinError(`invalid entries for 'KeyUsages' found: [${invalid.join(' ')}]`);
        break;
      }
      default:
        throw new BuiltinError('invalid key option');
    }
  }
  return opts;
}

function withinValidity(c: ParsedCertificate, timeMs: number): boolean {
  return Date.parse(c.notBefore) <= timeMs && timeMs <= Date.parse(c.notAfter);
}

/** Go's matchHostnames, including a single leading wildcard label. */
function matchesDNSName(names: string[], host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return names.some((pattern) => {
    const p = pattern.toLowerCase().replace(/\.$/, '');
    if (p === h) return true;
    if (!p.startsWith('*.')) return false;
    const dot = h.indexOf('.');
    return dot > 0 && h.slice(dot) === p.slice(1);
  });
}

function usageAllowed(c: ParsedCertificate, wanted: number[]): boolean {
  if (c.extKeyUsage.length === 0 || c.extKeyUsage.includes(0)) return true;
  return wanted.some((u) => c.extKeyUsage.includes(u));
}

/** The verified chain [leaf, …, root], or undefined when the certificates do not verify. */
export function verifyChain(certs: ParsedCertificate[], opts: VerifyOptions): ParsedCertificate[] | undefined {
  if (certs.length < 2) return undefined;
  const roots = [certs[0]!];
  const intermediates = certs.slice(1, -1);
  const leaf = certs[certs.length - 1]!;
  const wanted = opts.keyUsages.length === 0 ? [1] : opts.keyUsages;
  const anyUsage = wanted.includes(0);
  if (opts.dnsName !== '' && !matchesDNSName(leaf.dnsNames, opts.dnsName)) return undefined;
  const x509 = new Map<ParsedCertificate, X509Certificate>();
  const nodeCert = (c: ParsedCertificate): X509Certificate => {
    let x = x509.get(c);
    if (x === undefined) x509.set(c, (x = new X509Certificate(c.der)));
    return x;
  };
  const issuedBy = (child: ParsedCertificate, parent: ParsedCertificate): boolean => {
    try {
      return nodeCert(child).checkIssued(nodeCert(parent)) && nodeCert(child).verify(nodeCert(parent).publicKey);
    } catch {
      return false;
    }
  };
  const extend = (chain: ParsedCertificate[]): ParsedCertificate[] | undefined => {
    const current = chain[chain.length - 1]!;
    if (!withinValidity(current, opts.timeMs)) return undefined;
    if (!anyUsage && !usageAllowed(current, wanted)) return undefined;
    if (chain.length > 1 && (!current.basicConstraintsValid || !current.isCA)) return undefined;
    if (roots.includes(current)) return chain;
    for (const parent of [...roots, ...intermediates]) {
      if (chain.includes(parent) || !issuedBy(current, parent)) continue;
      const found = extend([...chain, parent]);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return extend([leaf]);
}
