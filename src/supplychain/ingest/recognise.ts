/**
 * Recognises what a pushed manifest attaches to another artifact, the way the standard tools
 * store it: cosign's tag scheme (sha256-<hex>.sig/.att/.sbom), OCI 1.1 referrers (`subject`) with
 * Sigstore bundles, Notary Project envelopes, DSSE/in-toto attestations and SBOM documents.
 * Reading is bounded; anything unreadable becomes a record with the reason, never an exception.
 */
import { arrayField, isObject, objectField, parseJson, stringField } from '../shared/json.ts';
import { parseCosignTag } from '../shared/digest.ts';
import { BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE } from '../cosign/simple-signing.ts';
import { isBundleMediaType, parseBundle } from '../sigstore/bundle.ts';
import { COSE_MEDIA_TYPE, NOTARY_SIGNATURE_ARTIFACT_TYPE } from '../notation/envelope.ts';
import { parseEnvelopeBytes } from '../intoto/dsse.ts';
import { COSIGN_SIGN_PREDICATE, parseStatement } from '../intoto/statement.ts';
import { normaliseSbom } from '../sbom/parse-sbom.ts';
import { isSbomMediaType, isSbomPredicate, type SbomComponent, type SbomLimits } from '../sbom/sbom-model.ts';
import type { Attachment, AttachmentDetail, AttachmentFormat, AttachmentKind, Evidence } from '../index/records.ts';

export const DSSE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
export const IN_TOTO_MEDIA_TYPE = 'application/vnd.in-toto+json';

export interface PushedManifest {
  readonly repository: string;
  readonly digest: string;
  readonly content: Uint8Array;
  readonly tag?: string;
}

export interface RecogniseOptions {
  /** Reads a blob of the repository: its bytes, or a reason it cannot be read (absent, too large). */
  readonly readBlob: (digest: string, size: number) => Promise<Buffer | string>;
  readonly sbomLimits: SbomLimits;
  readonly maxLayers: number;
}

export interface Recognised {
  readonly attachments: Attachment[];
  readonly components: Map<number, SbomComponent[]>;
}

interface Layer { readonly mediaType: string; readonly digest: string; readonly size: number; readonly annotations: Record<string, string> }

function layersOf(manifest: Record<string, unknown>): Layer[] {
  return arrayField(manifest, 'layers').flatMap((layer) => {
    const mediaType = stringField(layer, 'mediaType'), digest = stringField(layer, 'digest');
    const size = isObject(layer) ? layer['size'] : undefined;
    if (!mediaType || !digest || typeof size !== 'number') return [];
    const annotations: Record<string, string> = {};
    for (const [key, value] of Object.entries(objectField(layer, 'annotations') ?? {})) if (typeof value === 'string') annotations[key] = value;
    return [{ mediaType, digest, size, annotations }];
  });
}

/** Subject and route of an attachment manifest, or undefined when the manifest attaches to nothing. */
function attachmentTarget(manifest: Record<string, unknown>, tag: string | undefined): { subject: string; via: 'referrer' | 'tag'; tag?: string } | undefined {
  const subject = stringField(objectField(manifest, 'subject'), 'digest');
  if (subject) return { subject, via: 'referrer' };
  const cosign = tag ? parseCosignTag(tag) : undefined;
  return cosign ? { subject: cosign.subject, via: 'tag', tag } : undefined;
}

export async function recogniseManifest(pushed: PushedManifest, options: RecogniseOptions): Promise<Recognised> {
  const result: Recognised = { attachments: [], components: new Map() };
  const parsed = parseJson(pushed.content);
  if (!parsed.ok || !isObject(parsed.value)) return result;
  const manifest = parsed.value;
  const target = attachmentTarget(manifest, pushed.tag);
  if (!target) return result;
  const artifactType = stringField(manifest, 'artifactType') ?? stringField(objectField(manifest, 'config'), 'mediaType');
  const layers = layersOf(manifest).slice(0, options.maxLayers);
  const add = (item: number, kind: AttachmentKind, format: AttachmentFormat, mediaType: string, evidence: Evidence, detail: AttachmentDetail) => {
    result.attachments.push({ repository: pushed.repository, manifestDigest: pushed.digest, item, subject: target.subject, kind, format, via: target.via, ...(target.tag ? { tag: target.tag } : {}), ...(artifactType ? { artifactType } : {}), mediaType, evidence, detail });
  };
  for (const [index, layer] of layers.entries()) {
    const bytes = await options.readBlob(layer.digest, layer.size);
    if (typeof bytes === 'string') {
      add(index, kindGuess(layer.mediaType, artifactType), 'unknown', layer.mediaType, { type: 'none' }, { problem: bytes });
      continue;
    }
    recogniseLayer(index, layer, bytes, artifactType, options.sbomLimits, add, result.components);
  }
  return result;
}

type Add = (item: number, kind: AttachmentKind, format: AttachmentFormat, mediaType: string, evidence: Evidence, detail: AttachmentDetail) => void;

function kindGuess(mediaType: string, artifactType: string | undefined): AttachmentKind {
  if (mediaType === SIMPLE_SIGNING_MEDIA_TYPE || artifactType === NOTARY_SIGNATURE_ARTIFACT_TYPE || isBundleMediaType(mediaType)) return 'signature';
  if (mediaType === DSSE_MEDIA_TYPE || mediaType === IN_TOTO_MEDIA_TYPE) return 'attestation';
  return isSbomMediaType(mediaType) || isSbomMediaType(artifactType) ? 'sbom' : 'other';
}

function recogniseLayer(index: number, layer: Layer, bytes: Buffer, artifactType: string | undefined, limits: SbomLimits, add: Add, components: Map<number, SbomComponent[]>): void {
  const base64 = bytes.toString('base64');
  if (layer.mediaType === SIMPLE_SIGNING_MEDIA_TYPE) {
    const evidence: Evidence = { type: 'cosign', payload: base64, signature: layer.annotations[SIGNATURE_ANNOTATION] ?? '',
      ...(layer.annotations[CERTIFICATE_ANNOTATION] ? { certificate: layer.annotations[CERTIFICATE_ANNOTATION] } : {}),
      ...(layer.annotations[CHAIN_ANNOTATION] ? { chain: layer.annotations[CHAIN_ANNOTATION] } : {}),
      ...(layer.annotations[BUNDLE_ANNOTATION] ? { rekorBundle: layer.annotations[BUNDLE_ANNOTATION] } : {}) };
    add(index, 'signature', 'cosign-simple-signing', layer.mediaType, evidence, {});
    return;
  }
  // Every layer of a Notary signature artifact is its envelope; a wrong media type fails integrity later.
  if (artifactType === NOTARY_SIGNATURE_ARTIFACT_TYPE) {
    add(index, 'signature', layer.mediaType === COSE_MEDIA_TYPE ? 'notation-cose' : 'notation-jws', layer.mediaType, { type: 'notation', envelope: base64, mediaType: layer.mediaType }, {});
    return;
  }
  if (isBundleMediaType(layer.mediaType) || isBundleMediaType(artifactType)) {
    recogniseBundle(index, layer, bytes, add, limits, components);
    return;
  }
  if (layer.mediaType === DSSE_MEDIA_TYPE || (layer.mediaType === IN_TOTO_MEDIA_TYPE && bytes.includes('"payloadType"'))) {
    const envelope = parseEnvelopeBytes(bytes);
    const evidence: Evidence = { type: 'dsse', envelope: base64, ...(layer.annotations[CERTIFICATE_ANNOTATION] ? { certificate: layer.annotations[CERTIFICATE_ANNOTATION] } : {}),
      ...(layer.annotations[BUNDLE_ANNOTATION] ? { rekorBundle: layer.annotations[BUNDLE_ANNOTATION] } : {}) };
    if (!envelope.ok) { add(index, 'attestation', 'dsse', layer.mediaType, evidence, { problem: envelope.reason }); return; }
    recogniseStatement(index, layer.mediaType, 'dsse', evidence, parseJson(envelope.envelope.payload), add, limits, components);
    return;
  }
  if (layer.mediaType === IN_TOTO_MEDIA_TYPE) {
    recogniseStatement(index, layer.mediaType, 'in-toto-statement', { type: 'none' }, parseJson(bytes), add, limits, components);
    return;
  }
  if (isSbomMediaType(layer.mediaType) || isSbomMediaType(artifactType)) {
    const sbom = normaliseSbomBytes(bytes, limits);
    if (!sbom.ok) { add(index, 'sbom', isSpdxType(layer.mediaType) ? 'spdx' : 'cyclonedx', layer.mediaType, { type: 'none' }, { problem: sbom.reason }); return; }
    components.set(index, [...sbom.sbom.components]);
    add(index, 'sbom', sbom.sbom.format, layer.mediaType, { type: 'none' }, { sbom: { format: sbom.sbom.format, specVersion: sbom.sbom.specVersion, componentCount: sbom.sbom.components.length, subject: sbom.sbom.subject } });
  }
}

function isSpdxType(mediaType: string): boolean {
  return mediaType.includes('spdx');
}

function normaliseSbomBytes(bytes: Buffer, limits: SbomLimits) {
  const parsed = parseJson(bytes, limits.maxBytes);
  return parsed.ok ? normaliseSbom(parsed.value, limits) : { ok: false as const, reason: `SBOM ${parsed.reason.startsWith('document is') ? parsed.reason.slice('document '.length) : `is ${parsed.reason}`}` };
}

function recogniseBundle(index: number, layer: Layer, bytes: Buffer, add: Add, limits: SbomLimits, components: Map<number, SbomComponent[]>): void {
  const evidence: Evidence = { type: 'sigstore-bundle', bundle: bytes.toString('base64') };
  const bundle = parseBundle(bytes);
  if (!bundle.ok) { add(index, 'signature', 'sigstore-bundle', layer.mediaType, evidence, { problem: bundle.reason }); return; }
  if (bundle.summary.content === 'message-signature') { add(index, 'signature', 'sigstore-bundle', layer.mediaType, evidence, {}); return; }
  const statement = parseJson(bundle.summary.dssePayload ?? Buffer.alloc(0));
  recogniseStatement(index, layer.mediaType, 'sigstore-bundle', evidence, statement, add, limits, components);
}

/** A statement is a signature when it is cosign's sign predicate, else an attestation (maybe carrying an SBOM). */
function recogniseStatement(index: number, mediaType: string, format: AttachmentFormat, evidence: Evidence, value: ReturnType<typeof parseJson>, add: Add, limits: SbomLimits, components: Map<number, SbomComponent[]>): void {
  if (!value.ok) { add(index, 'attestation', format, mediaType, evidence, { problem: `statement is ${value.reason}` }); return; }
  const statement = parseStatement(value.value);
  if (!statement.ok) { add(index, 'attestation', format, mediaType, evidence, { problem: statement.reason }); return; }
  const { predicateType, provenance, predicate } = statement.statement;
  if (predicateType === COSIGN_SIGN_PREDICATE) { add(index, 'signature', format, mediaType, evidence, { predicateType }); return; }
  const detail: AttachmentDetail = { predicateType, ...(provenance ? { provenance } : {}) };
  if (isSbomPredicate(predicateType)) {
    const sbom = normaliseSbom(predicate, limits);
    if (sbom.ok) {
      components.set(index, [...sbom.sbom.components]);
      add(index, 'attestation', format, mediaType, evidence, { ...detail, sbom: { format: sbom.sbom.format, specVersion: sbom.sbom.specVersion, componentCount: sbom.sbom.components.length, subject: sbom.sbom.subject } });
      return;
    }
    add(index, 'attestation', format, mediaType, evidence, { ...detail, problem: `SBOM predicate: ${sbom.reason}` });
    return;
  }
  add(index, 'attestation', format, mediaType, evidence, detail);
}

