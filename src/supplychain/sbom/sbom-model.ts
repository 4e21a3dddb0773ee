/**
 * The normalised view of an SBOM, whatever its format: a flat component list with purls and
 * licences, plus counts. Parsing is bounded — an SBOM over the configured size or component
 * count is refused with a reason rather than half-read.
 */
export interface SbomComponent {
  readonly name: string;
  readonly version?: string;
  readonly purl?: string;
  readonly licenses: readonly string[];
}

export interface NormalisedSbom {
  readonly format: 'cyclonedx' | 'spdx';
  readonly specVersion: string;
  /** The document's subject or name (e.g. "juice-shop@14.1.1"). */
  readonly subject?: string;
  readonly components: readonly SbomComponent[];
  readonly dependencyCount: number;
}

export interface SbomLimits {
  readonly maxBytes: number;
  readonly maxComponents: number;
}

export const DEFAULT_SBOM_LIMITS: SbomLimits = { maxBytes: 64 * 1024 * 1024, maxComponents: 200_000 };

export type SbomParse = { ok: true; sbom: NormalisedSbom } | { ok: false; reason: string };

export const CYCLONEDX_MEDIA_TYPES = ['application/vnd.cyclonedx+json', 'application/vnd.cyclonedx'];
export const SPDX_MEDIA_TYPES = ['application/spdx+json', 'text/spdx+json', 'application/vnd.spdx+json'];
export const CYCLONEDX_PREDICATES = ['https://cyclonedx.org/bom', 'https://cyclonedx.org/schema'];
export const SPDX_PREDICATES = ['https://spdx.dev/Document'];

export function isSbomMediaType(mediaType: string | undefined): boolean {
  const base = (mediaType ?? '').split(';')[0]!.trim().toLowerCase();
  return CYCLONEDX_MEDIA_TYPES.includes(base) || SPDX_MEDIA_TYPES.includes(base);
}

export function isSbomPredicate(predicateType: string): boolean {
  return [...CYCLONEDX_PREDICATES, ...SPDX_PREDICATES].some((prefix) => predicateType.startsWith(prefix));
}

/** Distinct licences of a component list, most common first. */
export function licenseSummary(components: readonly SbomComponent[], limit = 50): { license: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const component of components) for (const license of component.licenses) counts.set(license, (counts.get(license) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, limit).map(([license, count]) => ({ license, count }));
}
