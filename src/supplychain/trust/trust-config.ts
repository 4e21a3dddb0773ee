/**
 * The operator's trust configuration, as one JSON document (config file or PUT /api/v1/trust):
 *
 *   { "cosign":   { "keys": [{ "name": "release", "publicKey": "-----BEGIN PUBLIC KEY-----…" }] },
 *     "keyless":  { "trustedRoot": { …trusted_root.json… },
 *                   "identities": [{ "subject": "https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main",
 *                                    "issuer": "https://token.actions.githubusercontent.com" }] },
 *     "notation": { "trustStores": { "ca:acme": ["-----BEGIN CERTIFICATE-----…"] },
 *                   "trustPolicy": { …Notary Project trust policy v1.0… } } }
 *
 * Validation is all-or-nothing with the first problem as the reason. The version is a hash of the
 * canonical document: verification results are stored per version, so a change re-verifies and
 * an identical re-upload does not.
 */
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { arrayField, isObject, objectField, parseJson, stringField } from '../shared/json.ts';
import { describeKey } from '../cosign/signature-keys.ts';
import { parseTrustPolicy, type TrustPolicyDocument } from '../notation/trust-policy.ts';
import { trustedRootProblem, type BundleTrust, type KeylessIdentity } from '../sigstore/bundle-verifier.ts';
import type { TrustStores } from '../notation/verify.ts';

export interface TrustDocument {
  readonly cosign: { readonly keys: readonly { readonly name: string; readonly publicKey: string }[] };
  readonly keyless: { readonly trustedRoot?: unknown; readonly identities: readonly KeylessIdentity[] };
  readonly notation: { readonly trustStores: TrustStores; readonly trustPolicy?: unknown };
}

/** The validated configuration with parsed keys, ready for verifiers. */
export interface TrustConfig {
  readonly version: string;
  readonly document: TrustDocument;
  readonly cosignKeys: readonly { readonly name: string; readonly key: KeyObject }[];
  readonly bundleTrust: BundleTrust;
  readonly notaryPolicy?: TrustPolicyDocument;
  readonly notaryStores: TrustStores;
}

export type TrustParse = { ok: true; trust: TrustConfig } | { ok: false; reason: string };

export const EMPTY_TRUST_DOCUMENT: TrustDocument = { cosign: { keys: [] }, keyless: { identities: [] }, notation: { trustStores: {} } };

/** JSON with sorted keys, so equal documents hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) return `{${Object.keys(value).sort().filter((key) => value[key] !== undefined).map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
  return JSON.stringify(value);
}

function parseKeys(value: unknown): TrustDocument['cosign']['keys'] | string {
  const keys: { name: string; publicKey: string }[] = [];
  for (const [index, entry] of arrayField(value, 'keys').entries()) {
    const name = stringField(entry, 'name') ?? `key-${index + 1}`;
    const publicKey = stringField(entry, 'publicKey');
    if (!publicKey) return `cosign key "${name}" has no publicKey (PEM)`;
    let key: KeyObject;
    try { key = createPublicKey(publicKey); } catch (error) { return `cosign key "${name}" is not a PEM public key: ${(error as Error).message}`; }
    const kind = describeKey(key);
    if (!/^(ECDSA (prime256v1|secp384r1|secp521r1)|ed25519|RSA)/.test(kind)) return `cosign key "${name}" is a ${kind} key; ECDSA P-256/P-384/P-521, Ed25519 or RSA are supported`;
    if (keys.some((existing) => existing.name === name)) return `cosign key name "${name}" is used twice`;
    keys.push({ name, publicKey });
  }
  return keys;
}

function parseIdentities(value: unknown): KeylessIdentity[] | string {
  const identities: KeylessIdentity[] = [];
  for (const entry of arrayField(value, 'identities')) {
    const subject = stringField(entry, 'subject'), issuer = stringField(entry, 'issuer');
    if (!subject || !issuer) return 'every keyless identity needs a subject and an issuer (exact, or /regex/)';
    for (const pattern of [subject, issuer]) {
      if (pattern.length > 2 && pattern.startsWith('/') && pattern.endsWith('/')) {
        try { new RegExp(pattern.slice(1, -1)); } catch { return `keyless identity pattern ${pattern} is not a valid regular expression`; }
      }
    }
    identities.push({ subject, issuer });
  }
  return identities;
}

function parseStores(value: unknown): TrustStores | string {
  const stores: Record<string, string[]> = {};
  for (const [name, certificates] of Object.entries(objectField(value, 'trustStores') ?? {})) {
    if (!/^(ca|signingAuthority|tsa):[A-Za-z0-9_.-]+$/.test(name)) return `trust store name "${name}" is not <ca|signingAuthority|tsa>:<name>`;
    if (!Array.isArray(certificates) || certificates.some((pem) => typeof pem !== 'string')) return `trust store "${name}" must be a list of PEM certificates`;
    if (certificates.length === 0) return `trust store "${name}" holds no certificate`;
    for (const pem of certificates as string[]) {
      let certificate: X509Certificate;
      try { certificate = new X509Certificate(pem); } catch { return `trust store "${name}" holds something that is not a PEM certificate`; }
      // notation's trust store rules: CA certificates or self-signed signing certificates; TSA stores hold root CAs only.
      const subject = certificate.subject ? certificate.subject.replace(/\n/g, ', ') : '(empty subject)';
      const selfSigned = certificate.subject === certificate.issuer && certificate.verify(certificate.publicKey);
      if (!certificate.ca && !selfSigned) return `trust store "${name}": certificate ${subject} is neither a CA certificate nor self-signed`;
      if (name.startsWith('tsa:') && !selfSigned) return `tsa trust store "${name}": certificate ${subject} is not a root CA certificate`;
    }
    stores[name] = certificates as string[];
  }
  return stores;
}

export function parseTrustDocument(value: unknown): TrustParse {
  if (!isObject(value)) return { ok: false, reason: 'trust configuration must be a JSON object' };
  const unknown = Object.keys(value).filter((key) => !['cosign', 'keyless', 'notation'].includes(key));
  if (unknown.length > 0) return { ok: false, reason: `unknown trust configuration section(s): ${unknown.join(', ')}` };
  const keys = parseKeys(objectField(value, 'cosign'));
  if (typeof keys === 'string') return { ok: false, reason: keys };
  const keyless = objectField(value, 'keyless');
  const identities = parseIdentities(keyless);
  if (typeof identities === 'string') return { ok: false, reason: identities };
  const trustedRoot = keyless?.['trustedRoot'];
  if (trustedRoot !== undefined && (!isObject(trustedRoot) || !String(trustedRoot['mediaType'] ?? '').startsWith('application/vnd.dev.sigstore.trustedroot'))) {
    return { ok: false, reason: 'keyless.trustedRoot must be a Sigstore trusted_root.json document' };
  }
  const rootProblem = trustedRoot === undefined ? undefined : trustedRootProblem(trustedRoot);
  if (rootProblem) return { ok: false, reason: `keyless.trustedRoot: ${rootProblem}` };
  const notation = objectField(value, 'notation');
  const stores = parseStores(notation);
  if (typeof stores === 'string') return { ok: false, reason: stores };
  let notaryPolicy: TrustPolicyDocument | undefined;
  if (notation?.['trustPolicy'] !== undefined) {
    const policy = parseTrustPolicy(notation['trustPolicy']);
    if (!policy.ok) return { ok: false, reason: `notation.trustPolicy: ${policy.reason}` };
    notaryPolicy = policy.policy;
  }
  const document: TrustDocument = {
    cosign: { keys },
    keyless: { ...(trustedRoot !== undefined ? { trustedRoot } : {}), identities },
    notation: { trustStores: stores, ...(notation?.['trustPolicy'] !== undefined ? { trustPolicy: notation['trustPolicy'] } : {}) },
  };
  const version = `sha256:${createHash('sha256').update(canonicalJson(document)).digest('hex')}`;
  const cosignKeys = keys.map((entry) => ({ name: entry.name, key: createPublicKey(entry.publicKey) }));
  return {
    ok: true,
    trust: {
      version, document, cosignKeys, notaryPolicy, notaryStores: stores,
      bundleTrust: { trustedRoot, identities, publicKeys: keys.map((entry) => ({ name: entry.name, pem: entry.publicKey })) },
    },
  };
}

export function parseTrustBytes(bytes: Uint8Array | string): TrustParse {
  const parsed = parseJson(bytes, 16 * 1024 * 1024);
  return parsed.ok ? parseTrustDocument(parsed.value) : { ok: false, reason: `trust configuration is ${parsed.reason}` };
}

export function emptyTrust(): TrustConfig {
  const parsed = parseTrustDocument(EMPTY_TRUST_DOCUMENT);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.trust;
}
