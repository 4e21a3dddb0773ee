/**
 * Making and storing supply-chain artifacts the way cosign does: simple-signing signatures and
 * DSSE attestations in the tag scheme (one layer appended per signature to sha256-<hex>.sig/.att)
 * or as OCI 1.1 referrers; SBOMs attached as referrers or under sha256-<hex>.sbom.
 */
import type { KeyObject } from 'node:crypto';
import { buildSimpleSigning, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE } from '../supplychain/cosign/simple-signing.ts';
import { signWithKey } from '../supplychain/cosign/signature-keys.ts';
import { preAuthEncoding, IN_TOTO_PAYLOAD_TYPE } from '../supplychain/intoto/dsse.ts';
import { cosignTag } from '../supplychain/shared/digest.ts';
import { DSSE_MEDIA_TYPE } from '../supplychain/ingest/recognise.ts';
import type { RegistryClient } from './registry-client.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const EMPTY_CONFIG_BYTES = Buffer.from('{}');
const EMPTY_CONFIG_TYPE = 'application/vnd.oci.empty.v1+json';
export const COSIGN_SIGNATURE_ARTIFACT_TYPE = 'application/vnd.dev.cosign.artifact.sig.v1+json';
export const COSIGN_ATTESTATION_ARTIFACT_TYPE = 'application/vnd.dev.cosign.artifact.att.v1+json';

/** cosign's predicate type shorthands. */
export const PREDICATE_TYPES: Record<string, string> = {
  slsaprovenance: 'https://slsa.dev/provenance/v0.2', slsaprovenance02: 'https://slsa.dev/provenance/v0.2', slsaprovenance1: 'https://slsa.dev/provenance/v1',
  spdx: 'https://spdx.dev/Document', spdxjson: 'https://spdx.dev/Document', cyclonedx: 'https://cyclonedx.org/bom',
  vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1', openvex: 'https://openvex.dev/ns', custom: 'https://cosign.sigstore.dev/attestation/v1',
};

export interface Subject {
  readonly repository: string;
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  /** registry/repository, written into simple-signing payloads. */
  readonly dockerReference: string;
}

interface Layer { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }

/** Appends a layer to a cosign tag's manifest (creating it), as cosign does for each new signature. */
async function appendToTag(client: RegistryClient, subject: Subject, tag: string, layer: Layer): Promise<string> {
  const existing = await client.getManifest(subject.repository, tag);
  const previous = existing ? (JSON.parse(existing.bytes.toString('utf8')) as { layers?: Layer[] }).layers ?? [] : [];
  const config = Buffer.from(JSON.stringify({ architecture: '', config: {}, created: '0001-01-01T00:00:00Z', history: [{ created: '0001-01-01T00:00:00Z' }], os: '', rootfs: { type: 'layers', diff_ids: [...previous, layer].map((entry) => entry.digest) } }));
  const configDescriptor = await client.pushBlob(subject.repository, config);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configDescriptor }, layers: [...previous, layer] }));
  return client.putManifest(subject.repository, tag, manifest, OCI_MANIFEST);
}

async function pushReferrer(client: RegistryClient, subject: Subject, artifactType: string, layer: Layer, annotations: Record<string, string> = {}): Promise<string> {
  const config = await client.pushBlob(subject.repository, EMPTY_CONFIG_BYTES);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType, config: { mediaType: EMPTY_CONFIG_TYPE, ...config }, layers: [layer],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: { 'org.opencontainers.image.created': new Date().toISOString(), ...annotations },
  }));
  // Without the registry's OCI-Subject answer the client also records it in the sha256-<hex> index.
  return (await client.putReferrer(subject.repository, manifest, OCI_MANIFEST)).digest;
}

export async function signImage(client: RegistryClient, subject: Subject, privateKey: KeyObject, options: { referrer: boolean; annotations?: Record<string, string> }): Promise<{ manifest: string; payload: Buffer; signature: string }> {
  const payload = buildSimpleSigning(subject.digest, subject.dockerReference, options.annotations && Object.keys(options.annotations).length > 0 ? options.annotations : null);
  const signature = signWithKey(privateKey, payload).toString('base64');
  const blob = await client.pushBlob(subject.repository, payload);
  const layer: Layer = { mediaType: SIMPLE_SIGNING_MEDIA_TYPE, ...blob, annotations: { [SIGNATURE_ANNOTATION]: signature } };
  const manifest = options.referrer
    ? await pushReferrer(client, subject, COSIGN_SIGNATURE_ARTIFACT_TYPE, layer)
    : await appendToTag(client, subject, cosignTag(subject.digest, 'sig'), layer);
  return { manifest, payload, signature };
}

export async function attestImage(client: RegistryClient, subject: Subject, privateKey: KeyObject, predicateType: string, predicate: unknown, options: { referrer: boolean }): Promise<{ manifest: string; envelope: Buffer }> {
  const statement = Buffer.from(JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1', subject: [{ name: subject.dockerReference, digest: { sha256: subject.digest.slice('sha256:'.length) } }], predicateType, predicate,
  }));
  const sig = signWithKey(privateKey, preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, statement)).toString('base64');
  const envelope = Buffer.from(JSON.stringify({ payloadType: IN_TOTO_PAYLOAD_TYPE, payload: statement.toString('base64'), signatures: [{ keyid: '', sig }] }));
  const blob = await client.pushBlob(subject.repository, envelope);
  const layer: Layer = { mediaType: DSSE_MEDIA_TYPE, ...blob, annotations: { predicateType } };
  const manifest = options.referrer
    ? await pushReferrer(client, subject, COSIGN_ATTESTATION_ARTIFACT_TYPE, layer)
    : await appendToTag(client, subject, cosignTag(subject.digest, 'att'), layer);
  return { manifest, envelope };
}

export async function attachSbom(client: RegistryClient, subject: Subject, document: Buffer, mediaType: string, options: { tagScheme: boolean }): Promise<string> {
  const blob = await client.pushBlob(subject.repository, document);
  const layer: Layer = { mediaType, ...blob };
  if (!options.tagScheme) return pushReferrer(client, subject, mediaType, layer);
  const config = await client.pushBlob(subject.repository, EMPTY_CONFIG_BYTES);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: EMPTY_CONFIG_TYPE, ...config }, layers: [layer] }));
  return client.putManifest(subject.repository, cosignTag(subject.digest, 'sbom'), manifest, OCI_MANIFEST);
}
