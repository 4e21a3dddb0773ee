/**
 * Notary Project COSE_Sign1 envelopes (application/cose): CBOR tag 18 around
 * [protected, unprotected, payload, signature]; the signature is over the CBOR Sig_structure
 * ["Signature1", protected, h'', payload]. The chain is in unprotected label 33 (x5chain).
 */
import { CborError, decodeCbor, encodeCbor, type CborMap, type CborValue } from './cbor.ts';
import { parseCertificates, parseTargetArtifact, NOTARY_PAYLOAD_TYPE, type EnvelopeResult, signatureValid } from './envelope.ts';

const COSE_ALGORITHMS: Record<number, { hash: string; kind: 'rsa-pss' | 'ecdsa' }> = {
  [-37]: { hash: 'sha256', kind: 'rsa-pss' }, [-38]: { hash: 'sha384', kind: 'rsa-pss' }, [-39]: { hash: 'sha512', kind: 'rsa-pss' },
  [-7]: { hash: 'sha256', kind: 'ecdsa' }, [-35]: { hash: 'sha384', kind: 'ecdsa' }, [-36]: { hash: 'sha512', kind: 'ecdsa' },
};

function coseTime(value: CborValue): Date | undefined {
  const raw = typeof value === 'object' && value !== null && 'tag' in value ? value.value : value;
  return typeof raw === 'number' ? new Date(raw * 1000) : undefined;
}

function unwrap(bytes: Uint8Array): CborValue[] | string {
  let value: CborValue;
  try {
    value = decodeCbor(bytes);
  } catch (error) {
    return `COSE envelope is not CBOR: ${error instanceof CborError ? error.message : String(error)}`;
  }
  if (typeof value === 'object' && value !== null && 'tag' in value) {
    if (value.tag !== 18) return `COSE tag is ${value.tag}, not 18 (COSE_Sign1)`;
    value = value.value;
  }
  if (!Array.isArray(value) || value.length !== 4) return 'COSE_Sign1 must be an array of 4 items';
  return value;
}

export function parseCoseEnvelope(bytes: Uint8Array): EnvelopeResult {
  const items = unwrap(bytes);
  if (typeof items === 'string') return { ok: false, reason: items };
  const [protectedBytes, unprotected, payload, signature] = items;
  if (!(protectedBytes instanceof Uint8Array) || !(unprotected instanceof Map) || !(payload instanceof Uint8Array) || !(signature instanceof Uint8Array)) {
    return { ok: false, reason: 'COSE_Sign1 items have the wrong types' };
  }
  let headers: CborValue;
  try { headers = decodeCbor(protectedBytes); } catch { return { ok: false, reason: 'COSE protected header is not CBOR' }; }
  if (!(headers instanceof Map)) return { ok: false, reason: 'COSE protected header is not a map' };
  const protectedHeaders = headers as CborMap;
  const algorithm = COSE_ALGORITHMS[Number(protectedHeaders.get(1))];
  if (!algorithm) return { ok: false, reason: `COSE algorithm ${String(protectedHeaders.get(1))} is not allowed by the Notary Project` };
  if (protectedHeaders.get(3) !== NOTARY_PAYLOAD_TYPE) return { ok: false, reason: `COSE content type is not ${NOTARY_PAYLOAD_TYPE}` };
  const scheme = protectedHeaders.get('io.cncf.notary.signingScheme');
  if (scheme !== 'notary.x509' && scheme !== 'notary.x509.signingAuthority') return { ok: false, reason: `unknown signing scheme "${String(scheme)}"` };
  const target = parseTargetArtifact(payload);
  if (typeof target === 'string') return { ok: false, reason: target };
  const x5chain = unprotected.get(33);
  const ders = x5chain instanceof Uint8Array ? [x5chain] : Array.isArray(x5chain) ? x5chain.filter((item): item is Uint8Array => item instanceof Uint8Array) : [];
  const certificates = parseCertificates(ders);
  if (typeof certificates === 'string') return { ok: false, reason: certificates };
  const signed = encodeCbor(['Signature1', protectedBytes, new Uint8Array(), payload]);
  const key = certificates[0]!.publicKey;
  const valid = signatureValid(algorithm, key, signed, signature);
  const timeLabel = scheme === 'notary.x509' ? 'io.cncf.notary.signingTime' : 'io.cncf.notary.authenticSigningTime';
  return {
    ok: true,
    envelope: {
      format: 'cose', target, certificates, signingScheme: scheme, signatureValid: valid,
      signingTime: coseTime(protectedHeaders.get(timeLabel)), expiry: coseTime(protectedHeaders.get('io.cncf.notary.expiry')),
    },
  };
}
