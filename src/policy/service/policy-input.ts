/**
 * Builds the input document of docs/policy-input.md from what the registry knows: the manifest
 * and its image config, the supply-chain trust document, the requester, the namespace's facts.
 */
import { parseManifest } from '../../content/manifest.ts';
import { namespaceOf } from '../../auth/access.ts';
import type { Requester } from '../../distribution/http.ts';
import type { RegistryDeps } from '../../distribution/registry-deps.ts';
import type { EnforcementPoint, PolicyStore } from './policy-store.ts';
import { inspectModel, modelFamilyOf, type ModelFacts } from '../../content/models/inspect-model.ts';
import { blobStoreRangeRead } from '../../content/models/blob-range.ts';

/** The supply-chain answer for a digest (signatures, attestations, SBOM, vulnerabilities). */
export interface TrustSource {
  trustOf(repository: string, digest: string): Promise<Record<string, unknown> | undefined>;
}

export const NO_TRUST = { signatures: [], attestations: [], sbom: null, vulnerabilities: null };

/** Image configs larger than this are not read for labels (they are never that large in practice). */
const MAX_CONFIG_BYTES = 1024 * 1024;
const GIB = 1024 ** 3;

export interface ManifestFacts {
  readonly repository: string;
  readonly reference: string;
  readonly digest: string;
  readonly content: Uint8Array;
  readonly contentType: string;
  readonly pushedAt: Date;
}

export async function artifactFacts(registry: RegistryDeps, facts: ManifestFacts): Promise<Record<string, unknown>> {
  const parsed = parseManifest(facts.content, facts.contentType);
  if (!parsed.ok) throw new Error(`stored manifest ${facts.digest} does not parse: ${parsed.reason}`);
  const manifest = parsed.manifest;
  const [config, ...layers] = manifest.blobs;
  const image = config && manifest.manifests.length === 0 ? await readImageConfig(registry, config.digest, config.size) : undefined;
  const children = manifest.manifests.map((child) => ({ ...descriptor(child), platform: child.platform ?? null }));
  const referencedBytes = [...manifest.blobs, ...manifest.manifests].reduce((sum, descriptor) => sum + descriptor.size, 0);
  return {
    repository: facts.repository,
    namespace: namespaceOf(facts.repository),
    reference: facts.reference,
    tag: facts.reference.includes(':') ? null : facts.reference,
    digest: facts.digest,
    mediaType: manifest.mediaType,
    artifactType: manifest.artifactType ?? null,
    size: facts.content.byteLength,
    totalSize: facts.content.byteLength + referencedBytes,
    annotations: manifest.annotations ?? {},
    labels: image?.labels ?? {},
    config: config && manifest.manifests.length === 0 ? descriptor(config) : null,
    layers: manifest.manifests.length === 0 ? layers.map(descriptor) : [],
    manifests: children,
    subject: manifest.subject?.digest ?? null,
    platform: image?.platform ?? null,
    created: image?.created ?? null,
    pushedAt: facts.pushedAt.toISOString(),
    model: manifest.manifests.length === 0 ? await modelFactsOf(registry, facts) : null,
  };
}

/** Model facts by repository and manifest digest: both content-addressed, so never stale. */
const modelFacts = new Map<string, Promise<ModelFacts | undefined>>();
const MAX_CACHED_MODELS = 2000;

/** What a model artifact is (docs/policy-input.md, artifact.model), read from its config and file headers; null otherwise. */
async function modelFactsOf(registry: RegistryDeps, facts: ManifestFacts): Promise<ModelFacts | null> {
  let manifest: unknown;
  try { manifest = JSON.parse(Buffer.from(facts.content).toString('utf8')); } catch { return null; }
  if (modelFamilyOf(manifest) === undefined) return null;
  const key = `${facts.repository}\u0000${facts.digest}`;
  let pending = modelFacts.get(key);
  if (!pending) {
    if (modelFacts.size >= MAX_CACHED_MODELS) modelFacts.clear();
    const read = blobStoreRangeRead(registry.blobs, (digest) => registry.metadata.linkedBlobSize(facts.repository, digest), `repository ${facts.repository}`);
    pending = inspectModel(manifest, read);
    modelFacts.set(key, pending);
    // Blobs may be missing now and pushed later: only complete readings are remembered.
    pending.then((read) => { if (!read || read.problems.length > 0) modelFacts.delete(key); }, () => modelFacts.delete(key));
  }
  return (await pending) ?? null;
}

export async function namespaceFacts(registry: RegistryDeps, store: PolicyStore, namespace: string): Promise<Record<string, unknown>> {
  const [settings, usage] = await Promise.all([store.getNamespaceSettings(namespace), registry.metadata.namespaceUsage(namespace)]);
  const price = settings?.pricePerGiBMonth;
  return {
    name: namespace,
    labels: settings?.labels ?? {},
    usage,
    quota: settings?.quotaBytes === undefined ? null : { storageBytes: settings.quotaBytes },
    budget: settings?.monthlyBudget === undefined ? null : {
      monthlyStorageCost: settings.monthlyBudget,
      currency: settings.currency ?? 'USD',
      pricePerGiBMonth: price ?? null,
      projectedMonthlyStorageCost: price === undefined ? null : (usage.storageBytes / GIB) * price,
    },
  };
}

export function requesterFacts(requester: Requester, address: string | undefined): Record<string, unknown> {
  return { subject: requester.subject, kind: requester.kind, claims: requester.claims ?? {}, address: address ?? null };
}

export function policyInput(point: EnforcementPoint, parts: {
  artifact: Record<string, unknown> | null;
  trust: Record<string, unknown> | undefined;
  requester: Record<string, unknown>;
  namespace: Record<string, unknown> | null;
  subject?: Record<string, unknown> | null;
  admission?: Record<string, unknown>;
}, now = new Date()): Record<string, unknown> {
  return {
    point,
    now: now.toISOString(),
    artifact: parts.artifact,
    trust: parts.trust ?? NO_TRUST,
    subject: parts.subject ?? null,
    requester: parts.requester,
    namespace: parts.namespace,
    ...(parts.admission ? { admission: parts.admission } : {}),
  };
}

/** What the one input builder reads besides the manifest itself. */
export interface InputSources {
  readonly registry: RegistryDeps;
  readonly trust: TrustSource | undefined;
  namespaceFacts(namespace: string): Promise<Record<string, unknown>>;
}

/**
 * The input for a stored or pushed manifest at the push or pull point: the one builder that
 * enforcement, quarantine re-evaluation and simulation share, so a simulation judges exactly
 * what enforcement would.
 */
export async function manifestInput(
  point: EnforcementPoint, sources: InputSources, manifest: ManifestFacts, requester: Record<string, unknown>, now = new Date(),
): Promise<Record<string, unknown>> {
  const artifact = await artifactFacts(sources.registry, manifest);
  const [trust, namespace, subject] = await Promise.all([
    sources.trust?.trustOf(manifest.repository, manifest.digest),
    sources.namespaceFacts(namespaceOf(manifest.repository)),
    subjectFacts(sources, manifest.repository, artifact),
  ]);
  return policyInput(point, { artifact, trust, subject, requester, namespace }, now);
}

const COSIGN_TAG = /^sha256-([a-f0-9]{64})\.(sig|att|sbom)$/;
const COSIGN_KINDS = { sig: 'signature', att: 'attestation', sbom: 'sbom' } as const;

/** The artifact an attachment is about: its subject (OCI 1.1 referrers) or the digest its cosign tag names. */
export function attachmentOf(artifact: { subject?: unknown; tag?: unknown }): { digest: string; via: 'referrers' | 'tag'; kind: string | null } | undefined {
  if (typeof artifact.subject === 'string') return { digest: artifact.subject, via: 'referrers', kind: null };
  const tag = typeof artifact.tag === 'string' ? COSIGN_TAG.exec(artifact.tag) : null;
  return tag ? { digest: `sha256:${tag[1]}`, via: 'tag', kind: COSIGN_KINDS[tag[2] as keyof typeof COSIGN_KINDS] } : undefined;
}

/**
 * For an attachment (signature, attestation, SBOM …): its subject's facts and trust, so policies
 * judge the attachment with what it is about. Null for anything else. The subject's `artifact` is
 * null when it is not stored (an attachment may arrive first).
 */
async function subjectFacts(sources: InputSources, repository: string, artifact: Record<string, unknown>): Promise<Record<string, unknown> | null> {
  const attachment = attachmentOf(artifact);
  if (!attachment) return null;
  const stored = await sources.registry.metadata.getManifest(repository, attachment.digest);
  const [subjectArtifact, trust] = await Promise.all([
    stored ? artifactFacts(sources.registry, { repository, reference: stored.digest, digest: stored.digest, content: stored.content, contentType: stored.mediaType, pushedAt: stored.pushedAt ?? new Date() }) : null,
    sources.trust?.trustOf(repository, attachment.digest),
  ]);
  return { ...attachment, artifact: subjectArtifact, trust: trust ?? NO_TRUST };
}

type ImageConfigFacts = { labels: Record<string, string>; platform: unknown; created: string | null } | undefined;

/** Image configs are content-addressed, so what was read from one never changes. */
const imageConfigs = new Map<string, Promise<ImageConfigFacts>>();
const MAX_CACHED_CONFIGS = 2000;

function readImageConfig(registry: RegistryDeps, digest: string, size: number): Promise<ImageConfigFacts> {
  let facts = imageConfigs.get(digest);
  if (!facts) {
    if (imageConfigs.size >= MAX_CACHED_CONFIGS) imageConfigs.clear();
    facts = readImageConfigBlob(registry, digest, size);
    imageConfigs.set(digest, facts);
    // A failed or empty read is not remembered: the blob may be readable next time.
    facts.then((read) => { if (!read) imageConfigs.delete(digest); }, () => imageConfigs.delete(digest));
  }
  return facts;
}

async function readImageConfigBlob(registry: RegistryDeps, digest: string, size: number): Promise<ImageConfigFacts> {
  if (size > MAX_CONFIG_BYTES) return undefined;
  const stream = await registry.blobs.open(digest);
  if (!stream) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined; // an artifact's config need not be JSON
  }
  if (typeof config !== 'object' || config === null) return undefined;
  const inner = (config.config ?? {}) as Record<string, unknown>;
  return {
    labels: isStringMap(inner.Labels) ? inner.Labels : {},
    platform: typeof config.os === 'string' ? { os: config.os, architecture: config.architecture ?? null, ...(config.variant ? { variant: config.variant } : {}) } : null,
    created: typeof config.created === 'string' ? config.created : null,
  };
}

function descriptor(value: { mediaType: string; digest: string; size: number }) {
  return { mediaType: value.mediaType, digest: value.digest, size: value.size };
}

function isStringMap(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}
