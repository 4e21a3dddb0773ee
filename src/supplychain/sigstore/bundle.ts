/**
 * Reading Sigstore bundles (v0.1, v0.2, v0.3) without verifying them: which version, what is
 * signed (a message digest or a DSSE envelope), the signing certificate or key hint. Used to
 * recognise and describe a bundle; `bundle-verifier.ts` does the cryptography.
 */
import { X509Certificate } from 'node:crypto';
import { arrayField, decodeBase64, isObject, objectField, parseJson, stringField } from '../shared/json.ts';

export const BUNDLE_MEDIA_TYPE_PREFIX = 'application/vnd.dev.sigstore.bundle';

export interface BundleSummary {
  readonly version: '0.1' | '0.2' | '0.3';
  readonly content: 'message-signature' | 'dsse';
  /** For message signatures: "sha256:<hex>" of the signed artifact. */
  readonly messageDigest?: string;
  /** For DSSE: the payload type and decoded payload bytes. */
  readonly dssePayloadType?: string;
  readonly dssePayload?: Buffer;
  /** Leaf certificate in PEM, when the bundle is keyless. */
  readonly certificatePem?: string;
  /** Every certificate the bundle carries (v0.1/v0.2 chains may hold intermediates), leaf first. */
  readonly chainPems: readonly string[];
  readonly publicKeyHint?: string;
}

export type BundleParse = { ok: true; json: Record<string, unknown>; summary: BundleSummary } | { ok: false; reason: string };

/** "application/vnd.dev.sigstore.bundle+json;version=0.2" or ".v0.3+json" → version. */
export function bundleVersion(mediaType: string): BundleSummary['version'] | undefined {
  const match = /^application\/vnd\.dev\.sigstore\.bundle(?:\.v(0\.[123])\+json|\+json;\s*version=(0\.[123]))$/.exec(mediaType.trim());
  return (match?.[1] ?? match?.[2]) as BundleSummary['version'] | undefined;
}

export function isBundleMediaType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && bundleVersion(mediaType) !== undefined;
}

function derToPem(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${(der.toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`;
}

function leafCertificate(material: Record<string, unknown> | undefined): string | undefined {
  const single = decodeBase64(stringField(objectField(material, 'certificate'), 'rawBytes'));
  const chain = arrayField(objectField(material, 'x509CertificateChain'), 'certificates');
  const der = single ?? decodeBase64(stringField(chain[0], 'rawBytes'));
  return der && der.length > 0 ? derToPem(der) : undefined;
}

export function parseBundle(bytes: Uint8Array, maxBytes = 4 * 1024 * 1024): BundleParse {
  const parsed = parseJson(bytes, maxBytes);
  if (!parsed.ok) return { ok: false, reason: `bundle is ${parsed.reason}` };
  if (!isObject(parsed.value)) return { ok: false, reason: 'bundle is not a JSON object' };
  const json = parsed.value;
  const version = bundleVersion(stringField(json, 'mediaType') ?? '');
  if (!version) return { ok: false, reason: `unknown bundle media type "${stringField(json, 'mediaType')}"` };
  const material = objectField(json, 'verificationMaterial');
  if (!material) return { ok: false, reason: 'bundle has no verificationMaterial' };
  const chainPems = arrayField(objectField(material, 'x509CertificateChain'), 'certificates')
    .map((entry) => decodeBase64(stringField(entry, 'rawBytes'))).filter((der): der is Buffer => der !== undefined && der.length > 0).map(derToPem);
  const base = { version, certificatePem: leafCertificate(material), chainPems, publicKeyHint: stringField(objectField(material, 'publicKey'), 'hint') };
  const message = objectField(json, 'messageSignature');
  const envelope = objectField(json, 'dsseEnvelope');
  if (message) {
    const digest = decodeBase64(stringField(objectField(message, 'messageDigest'), 'digest'));
    return { ok: true, json, summary: { ...base, content: 'message-signature', messageDigest: digest ? `sha256:${digest.toString('hex')}` : undefined } };
  }
  if (envelope) {
    const payload = decodeBase64(stringField(envelope, 'payload'));
    if (!payload) return { ok: false, reason: 'DSSE envelope payload is missing or not base64' };
    return { ok: true, json, summary: { ...base, content: 'dsse', dssePayloadType: stringField(envelope, 'payloadType'), dssePayload: payload } };
  }
  return { ok: false, reason: 'bundle has neither messageSignature nor dsseEnvelope' };
}

/**
 * The first self-signed (root) certificate of a bundle's chain that is not one of `trustedCertificates`
 * (DER), or undefined. A root the trusted root already holds adds nothing (sigstore-js and
 * sigstore-go accept full chains ending in it); any other would let a bundle vouch for itself.
 */
export function untrustedRootCertificate(chainPems: readonly string[], trustedCertificates: readonly Buffer[]): string | undefined {
  for (const pem of chainPems) {
    let certificate: X509Certificate;
    try { certificate = new X509Certificate(pem); } catch { continue; }
    let selfSigned = false;
    try { selfSigned = certificate.issuer === certificate.subject && certificate.verify(certificate.publicKey); } catch { selfSigned = false; }
    if (selfSigned && !trustedCertificates.some((trusted) => trusted.equals(certificate.raw))) return certificate.subject.replace(/\n/g, ', ');
  }
  return undefined;
}

/** Every CA certificate of a trusted_root.json (DER), from each authority's certChain. */
export function trustedRootCertificates(trustedRoot: unknown): Buffer[] {
  return arrayField(trustedRoot, 'certificateAuthorities')
    .flatMap((authority) => arrayField(objectField(authority, 'certChain'), 'certificates'))
    .map((entry) => decodeBase64(stringField(entry, 'rawBytes')))
    .filter((der): der is Buffer => der !== undefined && der.length > 0);
}

/** Subject alternative name (URI or e-mail) of a PEM certificate, for display. */
export function certificateIdentity(pem: string): string | undefined {
  try {
    const san = new X509Certificate(pem).subjectAltName ?? '';
    const match = /(?:URI|email):([^,]+)/.exec(san);
    return match?.[1]?.trim();
  } catch {
    return undefined;
  }
}
