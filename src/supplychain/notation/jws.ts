/**
 * Notary Project JWS envelopes (JSON serialisation, application/jose+json): the signature is over
 * ASCII(protected "." payload), the chain is in the unprotected header's x5c, signing metadata in
 * the protected header.
 */
import { decodeBase64, isObject, objectField, parseJson, stringField, arrayField } from '../shared/json.ts';
import { algorithmParameters, parseCertificates, parseTargetArtifact, NOTARY_PAYLOAD_TYPE, type EnvelopeResult, signatureValid } from './envelope.ts';

function optionalDate(value: unknown): Date | undefined | 'invalid' {
  if (value === undefined) return undefined;
  const date = typeof value === 'string' ? new Date(value) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date : 'invalid';
}

export function parseJwsEnvelope(bytes: Uint8Array): EnvelopeResult {
  const parsed = parseJson(bytes, 1024 * 1024);
  if (!parsed.ok) return { ok: false, reason: `JWS envelope is ${parsed.reason}` };
  const json = parsed.value;
  const protectedText = stringField(json, 'protected');
  const payloadText = stringField(json, 'payload');
  const signature = decodeBase64(stringField(json, 'signature'));
  if (!protectedText || !payloadText || !signature) return { ok: false, reason: 'JWS envelope lacks protected, payload or signature' };
  const header = parseJson(decodeBase64(protectedText) ?? '');
  if (!header.ok || !isObject(header.value)) return { ok: false, reason: 'JWS protected header is not a JSON object' };
  const alg = stringField(header.value, 'alg') ?? '';
  const algorithm = algorithmParameters(alg);
  if (!algorithm) return { ok: false, reason: `JWS algorithm "${alg}" is not allowed by the Notary Project` };
  if (stringField(header.value, 'cty') !== NOTARY_PAYLOAD_TYPE) return { ok: false, reason: `JWS content type is not ${NOTARY_PAYLOAD_TYPE}` };
  const scheme = stringField(header.value, 'io.cncf.notary.signingScheme');
  if (scheme !== 'notary.x509' && scheme !== 'notary.x509.signingAuthority') return { ok: false, reason: `unknown signing scheme "${scheme}"` };
  const signingTime = optionalDate(header.value[scheme === 'notary.x509' ? 'io.cncf.notary.signingTime' : 'io.cncf.notary.authenticSigningTime']);
  const expiry = optionalDate(header.value['io.cncf.notary.expiry']);
  if (signingTime === 'invalid' || expiry === 'invalid') return { ok: false, reason: 'JWS signing time or expiry is not a date' };
  const payload = decodeBase64(payloadText)!;
  const target = parseTargetArtifact(payload);
  if (typeof target === 'string') return { ok: false, reason: target };
  const chain = arrayField(objectField(json, 'header'), 'x5c').map((entry) => decodeBase64(entry) ?? new Uint8Array());
  const certificates = parseCertificates(chain);
  if (typeof certificates === 'string') return { ok: false, reason: certificates };
  const signed = Buffer.from(`${protectedText}.${payloadText}`, 'ascii');
  const key = certificates[0]!.publicKey;
  const valid = signatureValid(algorithm, key, signed, signature);
  return { ok: true, envelope: { format: 'jws', target, certificates, signingScheme: scheme, signingTime, expiry, signatureValid: valid } };
}
