/**
 * Certificates and certificate requests parsed from DER into the JSON shape of Go's
 * x509.Certificate / x509.CertificateRequest (what OPA returns), plus OPA's URIStrings.
 */
import { RNumber, RObject, type Value } from '../value.ts';
import {
  DERError, TAG, bitStringBytes, children, expectTag, integerValue, oidArcs, oidString, parseDER, readNode, timeValue,
} from './x509-der.ts';
import {
  b64, emptyExtensionFields, extensionMembers, nameJSON, publicKeyJSON, readExtensions, signatureAlgorithm,
} from './x509-fields.ts';
import { goURLJSON } from './uri-parse.ts';

export interface ParsedCertificate {
  der: Buffer;
  json: RObject;
  isCA: boolean;
  basicConstraintsValid: boolean;
  extKeyUsage: number[];
  dnsNames: string[];
  notBefore: string;
  notAfter: string;
}

const num = (n: number | bigint): Value => RNumber.of(n);

function uriMembers(uris: string[]): [Value, Value][] {
  if (uris.length === 0) return [['URIs', null], ['URIStrings', null]];
  return [['URIs', uris.map(goURLJSON)], ['URIStrings', uris]];
}

/** Parses one DER certificate; structural problems are Go's "x509: malformed certificate". */
export function parseCertificate(der: Buffer): ParsedCertificate {
  try {
    return parseCertificateStrict(der);
  } catch {
    // Any structural surprise (a missing element, a wrong tag) is a malformed certificate.
    throw new DERError('x509: malformed certificate');
  }
}

function parseCertificateStrict(der: Buffer): ParsedCertificate {
  const [tbs, sigAlg, sigValue] = children(expectTag(parseDER(der), TAG.SEQUENCE));
  const t = children(expectTag(tbs, TAG.SEQUENCE));
  let i = 0;
  let version = 1;
  if (t[0]?.cls === 2 && t[0].tag === 0) {
    version = Number(integerValue(children(t[0])[0]!)) + 1;
    i++;
  }
  const serial = integerValue(expectTag(t[i++], TAG.INTEGER));
  i++; // the inner signature AlgorithmIdentifier repeats the outer one
  const issuer = expectTag(t[i++], TAG.SEQUENCE);
  const validity = children(expectTag(t[i++], TAG.SEQUENCE));
  const subject = expectTag(t[i++], TAG.SEQUENCE);
  const spki = expectTag(t[i++], TAG.SEQUENCE);
  const fields = emptyExtensionFields();
  for (; i < t.length; i++) {
    if (t[i]!.cls === 2 && t[i]!.tag === 3) readExtensions(children(t[i]!)[0]!, fields);
  }
  const notBefore = timeValue(validity[0]!);
  const notAfter = timeValue(validity[1]!);
  const pk = publicKeyJSON(spki);
  const json = RObject.from([
    ['Raw', b64(der)], ['RawTBSCertificate', b64(tbs!.raw)], ['RawSubjectPublicKeyInfo', b64(spki.raw)],
    ['RawSubject', b64(subject.raw)], ['RawIssuer', b64(issuer.raw)],
    ['Signature', b64(bitStringBytes(expectTag(sigValue, TAG.BIT_STRING)))],
    ['SignatureAlgorithm', num(signatureAlgorithm(expectTag(sigAlg, TAG.SEQUENCE)))],
    ['PublicKeyAlgorithm', num(pk.algorithm)], ['PublicKey', pk.key], ['Version', num(version)],
    ['SerialNumber', num(serial)], ['Issuer', nameJSON(issuer)], ['Subject', nameJSON(subject)],
    ['NotBefore', notBefore], ['NotAfter', notAfter],
    ...extensionMembers(fields),
    ['PermittedDNSDomainsCritical', false], ['PermittedDNSDomains', null], ['ExcludedDNSDomains', null],
    ['PermittedIPRanges', null], ['ExcludedIPRanges', null], ['PermittedEmailAddresses', null],
    ['ExcludedEmailAddresses', null], ['PermittedURIDomains', null], ['ExcludedURIDomains', null],
    ['Policies', null],
    ...uriMembers(fields.URIs),
  ]);
  return {
    der, json, isCA: fields.IsCA, basicConstraintsValid: fields.BasicConstraintsValid, extKeyUsage: fields.ExtKeyUsage,
    dnsNames: fields.DNSNames, notBefore, notAfter,
  };
}

/** Go's x509.ParseCertificates: concatenated DER certificates. */
export function parseCertificates(der: Buffer): ParsedCertificate[] {
  const out: ParsedCertificate[] = [];
  for (let i = 0; i < der.length; ) {
    let next: number;
    try {
      next = readNode(der, i).next;
    } catch {
      throw new DERError('x509: malformed certificate');
    }
    out.push(parseCertificate(der.subarray(i, next)));
    i = next;
  }
  return out;
}

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';

/** Go's x509.ParseCertificateRequest into its JSON shape. */
export function parseCertificateRequest(der: Buffer): RObject {
  try {
    return parseCertificateRequestStrict(der);
  } catch (e) {
    if (e instanceof DERError) throw e;
    throw new DERError('asn1: structure error: malformed certificate request');
  }
}

function parseCertificateRequestStrict(der: Buffer): RObject {
  const [info, sigAlg, sigValue] = children(expectTag(parseDER(der), TAG.SEQUENCE));
  const [versionNode, subject, spki, attrs] = children(expectTag(info, TAG.SEQUENCE));
  const fields = emptyExtensionFields();
  const attributes: Value[] = [];
  if (attrs !== undefined && attrs.cls === 2 && attrs.tag === 0) {
    for (const attr of children(attrs)) {
      const [oid, values] = children(attr);
      if (oid === undefined || values === undefined) continue;
      if (oidString(oid) === EXTENSION_REQUEST) {
        for (const v of children(values)) readExtensions(v, fields);
      }
      attributes.push(RObject.from([['Type', oidArcs(oid).map(num)], ['Value', null]]));
    }
  }
  const pk = publicKeyJSON(expectTag(spki, TAG.SEQUENCE));
  const subjectNode = expectTag(subject, TAG.SEQUENCE);
  return RObject.from([
    ['Raw', b64(der)], ['RawTBSCertificateRequest', b64(info!.raw)], ['RawSubjectPublicKeyInfo', b64(spki!.raw)],
    ['RawSubject', b64(subjectNode.raw)], ['Version', num(integerValue(expectTag(versionNode, TAG.INTEGER)))],
    ['Signature', b64(bitStringBytes(expectTag(sigValue, TAG.BIT_STRING)))],
    ['SignatureAlgorithm', num(signatureAlgorithm(expectTag(sigAlg, TAG.SEQUENCE)))],
    ['PublicKeyAlgorithm', num(pk.algorithm)], ['PublicKey', pk.key], ['Subject', nameJSON(subjectNode)],
    ['Attributes', attributes.length === 0 ? null : attributes],
    ['Extensions', fields.Extensions.length === 0 ? null : fields.Extensions], ['ExtraExtensions', null],
    ['DNSNames', fields.DNSNames.length === 0 ? null : fields.DNSNames],
    ['EmailAddresses', fields.EmailAddresses.length === 0 ? null : fields.EmailAddresses],
    ['IPAddresses', fields.IPAddresses.length === 0 ? null : fields.IPAddresses],
    ['URIs', fields.URIs.length === 0 ? null : fields.URIs.map(goURLJSON)],
  ]);
}
