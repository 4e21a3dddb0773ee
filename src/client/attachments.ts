/**
 * Everything attached to an image in any registry: OCI 1.1 referrers (API or tag-schema index)
 * and cosign's sha256-<hex>.sig/.att/.sbom tags, recognised with the same code the registry
 * extension uses, so `wharf verify` judges exactly as Wharf does.
 */
import { cosignTag } from '../supplychain/shared/digest.ts';
import { recogniseManifest } from '../supplychain/ingest/recognise.ts';
import { DEFAULT_SBOM_LIMITS, type SbomComponent } from '../supplychain/sbom/sbom-model.ts';
import type { Attachment } from '../supplychain/index/records.ts';
import type { RegistryClient } from './registry-client.ts';

export interface GatheredAttachments {
  readonly attachments: Attachment[];
  /** SBOM components by `${manifestDigest}#${item}`. */
  readonly components: Map<string, SbomComponent[]>;
}

export async function gatherAttachments(client: RegistryClient, repository: string, subject: string): Promise<GatheredAttachments> {
  const result: GatheredAttachments = { attachments: [], components: new Map() };
  const sources: { reference: string; tag?: string }[] = [];
  for (const referrer of await client.referrers(repository, subject)) sources.push({ reference: referrer.digest });
  for (const suffix of ['sig', 'att', 'sbom'] as const) sources.push({ reference: cosignTag(subject, suffix), tag: cosignTag(subject, suffix) });
  const seen = new Set<string>();
  for (const source of sources) {
    const manifest = await client.getManifest(repository, source.reference);
    if (!manifest || seen.has(manifest.digest)) continue;
    seen.add(manifest.digest);
    const recognised = await recogniseManifest({ repository, digest: manifest.digest, content: manifest.bytes, ...(source.tag ? { tag: source.tag } : {}) }, {
      sbomLimits: DEFAULT_SBOM_LIMITS,
      maxLayers: 64,
      readBlob: async (digest) => {
        try { return await client.getBlob(repository, digest, DEFAULT_SBOM_LIMITS.maxBytes); } catch (error) { return (error as Error).message; }
      },
    });
    result.attachments.push(...recognised.attachments);
    for (const [item, components] of recognised.components) result.components.set(`${manifest.digest}#${item}`, components);
  }
  return result;
}
