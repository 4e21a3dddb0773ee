/**
 * Pieces of Go's crypto/x509 structures as encoding/json renders them: names, public keys,
 * algorithms and extensions. Byte slices become base64 strings and nil slices null, as in Go.
 */
import { RNumber, RObject, type Value } from '../value.ts';
import {
  DERError, TAG, bitStringBytes, children, expectTag, integerValue, oidArcs, oidString, parseDER, stringValue,
  type DERNode,
} from './x509-der.ts';
import { formatIP } from './net-ip.ts';

const b64 = (b: Buffer): string => b.toString('base64');
const num = (n: number | bigint): Value => RNumber.of(n);
const list = (xs: Value[]): Value => (xs.length === 0 ? null : xs);
const oidValue = (node: DERNode): Value => oidArcs(node).map(num);

const NAME_FIELDS: Readonly<Record<string, string>> = {
  '2.5.4.6': 'Country', '2.5.4.10': 'Organization', '2.5.4.11': 'OrganizationalUnit', '2.5.4.7': 'Locality',
  '2.5.4.8': 'Province', '2.5.4.9': 'StreetAddress', '2.5.4.17': 'PostalCode',
};

/** pkix.Name filled from an RDN sequence. */
export function nameJSON(node: DERNode): RObject {
  const multi = new Map<string, Value[]>(Object.values(NAME_FIELDS).map((f) => [f, []]));
  let commonName = '';
  let serialNumber = '';
  const names: Value[] = [];
  for (const rdn of children(node)) {
    for (const atv of children(rdn)) {
      const [typeNode, valueNode] = children(atv);
      if (typeNode === undefined || valueNode === undefined) throw new DERError('x509: invalid RDN');
      const oid = oidString(typeNode);
      const value = stringValue(valueNode);
      names.push(RObject.from([['Type', oidValue(typeNode)], ['Value', value]]));
      if (oid === '2.5.4.3') commonName = value;
      else if (oid === '2.5.4.5') serialNumber = value;
      else if (NAME_FIELDS[oid] !== undefined) multi.get(NAME_FIELDS[oid])!.push(value);
    }
  }
  return RObject.from([
    ...[...multi].map(([k, v]): [Value, Value] => [k, list(v)]),
    ['SerialNumber', serialNumber], ['CommonName', commonName], ['Names', list(names)], ['ExtraNames', null],
  ]);
}

const SIGNATURE_ALGORITHMS: Readonly<Record<string, number>> = {
  '1.2.840.113549.1.1.2': 1, '1.2.840.113549.1.1.4': 2, '1.2.840.113549.1.1.5': 3, '1.2.840.113549.1.1.11': 4,
  '1.2.840.113549.1.1.12': 5, '1.2.840.113549.1.1.13': 6, '1.2.840.10040.4.3': 7, '2.16.840.1.101.3.4.3.2': 8,
  '1.2.840.10045.4.1': 9, '1.2.840.10045.4.3.2': 10, '1.2.840.10045.4.3.3': 11, '1.2.840.10045.4.3.4': 12,
  '1.3.101.112': 16,
};

const PSS_HASHES: Readonly<Record<string, number>> = {
  '2.16.840.1.101.3.4.2.1': 13, '2.16.840.1.101.3.4.2.2': 14, '2.16.840.1.101.3.4.2.3': 15,
};

/** Go's x509.SignatureAlgorithm number of an AlgorithmIdentifier (RSASSA-PSS by its hash). */
export function signatureAlgorithm(algId: DERNode): number {
  const [oidNode, params] = children(algId);
  const oid = oidString(expectTag(oidNode, TAG.OID));
  if (oid === '1.2.840.113549.1.1.10') {
    const hashParam = params !== undefined ? children(params).find((p) => p.cls === 2 && p.tag === 0) : undefined;
    if (hashParam === undefined) return 0;
    const hashOid = children(children(hashParam)[0]!)[0];
    return hashOid === undefined ? 0 : (PSS_HASHES[oidString(hashOid)] ?? 0);
  }
  return SIGNATURE_ALGORITHMS[oid] ?? 0;
}

const PUBLIC_KEY_ALGORITHMS: Readonly<Record<string, number>> = {
  '1.2.840.113549.1.1.1': 1, '1.2.840.10040.4.1': 2, '1.2.840.10045.2.1': 3, '1.3.101.112': 4,
};

/** PublicKeyAlgorithm and the JSON of the public key of a SubjectPublicKeyInfo. */
export function publicKeyJSON(spki: DERNode): { algorithm: number; key: Value } {
  const [algId, bits] = children(spki);
  const oid = oidString(expectTag(children(expectTag(algId, TAG.SEQUENCE))[0], TAG.OID));
  const algorithm = PUBLIC_KEY_ALGORITHMS[oid] ?? 0;
  const keyBytes = bitStringBytes(expectTag(bits, TAG.BIT_STRING));
  if (algorithm === 1) {
    const [n, e] = children(parseDER(keyBytes));
    return { algorithm, key: RObject.from([['N', num(integerValue(n!))], ['E', num(integerValue(e!))]]) };
  }
  if (algorithm === 3 && keyBytes[0] === 4) {
    const size = (keyBytes.length - 1) / 2;
    const coord = (b: Buffer): Value => num(BigInt(`0x${b.toString('hex') || '0'}`));
    return {
      algorithm,
      key: RObject.from([
        ['Curve', RObject.from([])], ['X', coord(keyBytes.subarray(1, 1 + size))], ['Y', coord(keyBytes.subarray(1 + size))],
      ]),
    };
  }
  if (algorithm === 4) return { algorithm, key: b64(keyBytes) };
  return { algorithm, key: null };
}

const EXT_KEY_USAGES: Readonly<Record<string, number>> = {
  '2.5.29.37.0': 0, '1.3.6.1.5.5.7.3.1': 1, '1.3.6.1.5.5.7.3.2': 2, '1.3.6.1.5.5.7.3.3': 3, '1.3.6.1.5.5.7.3.4': 4,
  '1.3.6.1.5.5.7.3.5': 5, '1.3.6.1.5.5.7.3.6': 6, '1.3.6.1.5.5.7.3.7': 7, '1.3.6.1.5.5.7.3.8': 8,
  '1.3.6.1.5.5.7.3.9': 9, '1.3.6.1.4.1.311.10.3.3': 10, '2.16.840.1.113730.4.1': 11, '1.3.6.1.4.1.311.2.1.22': 12,
  '1.3.6.1.4.1.311.61.1.1': 13,
};

/** The fields extensions contribute, with Go's zero values. */
export interface ExtensionFields {
  Extensions: Value[];
  KeyUsage: number;
  ExtKeyUsage: number[];
  UnknownExtKeyUsage: Value[];
  BasicConstraintsValid: boolean;
  IsCA: boolean;
  MaxPathLen: number;
  MaxPathLenZero: boolean;
  SubjectKeyId: Buffer | undefined;
  AuthorityKeyId: Buffer | undefined;
  OCSPServer: string[];
  IssuingCertificateURL: string[];
  DNSNames: string[];
  EmailAddresses: string[];
  IPAddresses: string[];
  URIs: string[];
  CRLDistributionPoints: string[];
  PolicyIdentifiers: Value[];
}

export function emptyExtensionFields(): ExtensionFields {
  return {
    Extensions: [], KeyUsage: 0, ExtKeyUsage: [], UnknownExtKeyUsage: [], BasicConstraintsValid: false, IsCA: false,
    MaxPathLen: 0, MaxPathLenZero: false, SubjectKeyId: undefined, AuthorityKeyId: undefined, OCSPServer: [],
    IssuingCertificateURL: [], DNSNames: [], EmailAddresses: [], IPAddresses: [], URIs: [], CRLDistributionPoints: [],
    PolicyIdentifiers: [],
  };
}

function formatIPBytes(b: Buffer): string {
  if (b.length !== 4 && b.length !== 16) return `?${b.toString('hex')}`; // Go's form for a bad length
  return formatIP({ value: BigInt(`0x${b.toString('hex')}`), bits: b.length === 4 ? 32 : 128 });
}

/** GeneralNames into the SAN fields. */
function readGeneralNames(seq: DERNode, f: ExtensionFields): void {
  for (const gn of children(seq)) {
    if (gn.cls !== 2) continue;
    const text = gn.contents.toString('latin1');
    if (gn.tag === 1) f.EmailAddresses.push(text);
    else if (gn.tag === 2) f.DNSNames.push(text);
    else if (gn.tag === 6) f.URIs.push(text);
    else if (gn.tag === 7) f.IPAddresses.push(formatIPBytes(gn.contents));
  }
}

function uriOf(gn: DERNode | undefined): string | undefined {
  return gn !== undefined && gn.cls === 2 && gn.tag === 6 ? gn.contents.toString('latin1') : undefined;
}

/** Applies one extension's value to the fields. */
function applyExtension(oid: string, value: Buffer, f: ExtensionFields): void {
  const node = (): DERNode => parseDER(value);
  switch (oid) {
    case '2.5.29.15': {
      const bits = bitStringBytes(node());
      for (let i = 0; i < 9; i++) if (((bits[i >> 3] ?? 0) >> (7 - (i & 7))) & 1) f.KeyUsage |= 1 << i;
      break;
    }
    case '2.5.29.37':
      for (const o of children(node())) {
        const usage = EXT_KEY_USAGES[oidString(o)];
        if (usage === undefined) f.UnknownExtKeyUsage.push(oidValue(o));
        else f.ExtKeyUsage.push(usage);
      }
      break;
    case '2.5.29.19': {
      f.BasicConstraintsValid = true;
      f.MaxPathLen = -1;
      for (const c of children(node())) {
        if (c.tag === TAG.BOOLEAN) f.IsCA = c.contents[0] !== 0;
        if (c.tag === TAG.INTEGER) {
          f.MaxPathLen = Number(integerValue(c));
          f.MaxPathLenZero = f.MaxPathLen === 0;
        }
      }
      break;
    }
    case '2.5.29.17': readGeneralNames(node(), f); break;
    case '2.5.29.14': f.SubjectKeyId = node().contents; break;
    case '2.5.29.35': {
      const keyId = children(node()).find((c) => c.cls === 2 && c.tag === 0);
      if (keyId !== undefined) f.AuthorityKeyId = keyId.contents;
      break;
    }
    case '1.3.6.1.5.5.7.1.1':
      for (const ad of children(node())) {
        const [method, location] = children(ad);
        const uri = uriOf(location);
        if (method === undefined || uri === undefined) continue;
        const m = oidString(method);
        if (m === '1.3.6.1.5.5.7.48.1') f.OCSPServer.push(uri);
        else if (m === '1.3.6.1.5.5.7.48.2') f.IssuingCertificateURL.push(uri);
      }
      break;
    case '2.5.29.31':
      for (const dp of children(node())) {
        const name = children(dp).find((c) => c.cls === 2 && c.tag === 0);
        const full = name !== undefined ? children(name).find((c) => c.cls === 2 && c.tag === 0) : undefined;
        if (full === undefined) continue;
        for (const gn of children(full)) {
          const uri = uriOf(gn);
          if (uri !== undefined) f.CRLDistributionPoints.push(uri);
        }
      }
      break;
    case '2.5.29.32':
      for (const policy of children(node())) {
        const id = children(policy)[0];
        if (id !== undefined) f.PolicyIdentifiers.push(oidValue(id));
      }
      break;
  }
}

/** Reads a SEQUENCE OF Extension into the fields. */
export function readExtensions(seq: DERNode, f: ExtensionFields): void {
  for (const ext of children(seq)) {
    const parts = children(ext);
    const oidNode = expectTag(parts[0], TAG.OID);
    const critical = parts.length === 3 && parts[1]!.tag === TAG.BOOLEAN && parts[1]!.contents[0] !== 0;
    const value = expectTag(parts[parts.length - 1], TAG.OCTET_STRING).contents;
    f.Extensions.push(RObject.from([['Id', oidValue(oidNode)], ['Critical', critical], ['Value', b64(value)]]));
    applyExtension(oidString(oidNode), value, f);
  }
}

/** The JSON members of the extension fields. */
export function extensionMembers(f: ExtensionFields): [Value, Value][] {
  const strs = (xs: string[]): Value => list(xs);
  return [
    ['KeyUsage', num(f.KeyUsage)], ['Extensions', list(f.Extensions)], ['ExtraExtensions', null],
    ['UnhandledCriticalExtensions', null], ['ExtKeyUsage', list(f.ExtKeyUsage.map(num))],
    ['UnknownExtKeyUsage', list(f.UnknownExtKeyUsage)], ['BasicConstraintsValid', f.BasicConstraintsValid],
    ['IsCA', f.IsCA], ['MaxPathLen', num(f.MaxPathLen)], ['MaxPathLenZero', f.MaxPathLenZero],
    ['SubjectKeyId', f.SubjectKeyId === undefined ? null : b64(f.SubjectKeyId)],
    ['AuthorityKeyId', f.AuthorityKeyId === undefined ? null : b64(f.AuthorityKeyId)],
    ['OCSPServer', strs(f.OCSPServer)], ['IssuingCertificateURL', strs(f.IssuingCertificateURL)],
    ['DNSNames', strs(f.DNSNames)], ['EmailAddresses', strs(f.EmailAddresses)], ['IPAddresses', strs(f.IPAddresses)],
    ['CRLDistributionPoints', strs(f.CRLDistributionPoints)], ['PolicyIdentifiers', list(f.PolicyIdentifiers)],
  ];
}

export { b64 };
