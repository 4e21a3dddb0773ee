/**
 * Package URLs (pkg:type/namespace/name@version?qualifiers#subpath), parsed by packageurl-js, the
 * reference implementation of the purl specification (per-type normalisation such as lower-case
 * npm and PyPI names), and how a purl names a package in OSV: the ecosystem and the package name
 * as that ecosystem spells it. Wharf's bound around it: purls longer than 4 KiB are not parsed.
 */
import type * as PackageUrlJs from 'packageurl-js';
import { lazyModule } from '../shared/lazy-module.ts';

const packageurl = lazyModule<typeof PackageUrlJs>('packageurl-js');
const MAX_PURL_LENGTH = 4096;

export interface PackageUrl {
  readonly type: string;
  readonly namespace?: string;
  readonly name: string;
  readonly version?: string;
  readonly qualifiers: Readonly<Record<string, string>>;
}

/** The purl's parts, or undefined for text that is not a valid purl (an SBOM's purl is a hint, never trusted). */
export function parsePurl(text: string): PackageUrl | undefined {
  if (typeof text !== 'string' || !text.startsWith('pkg:') || text.length > MAX_PURL_LENGTH) return undefined;
  let parsed: PackageUrlJs.PackageURL;
  try {
    parsed = packageurl().PackageURL.fromString(text);
  } catch {
    return undefined;
  }
  return {
    type: parsed.type, namespace: parsed.namespace || undefined, name: parsed.name,
    version: parsed.version || undefined, qualifiers: { ...(parsed.qualifiers ?? {}) } as Record<string, string>,
  };
}

const ECOSYSTEMS: Record<string, string> = {
  npm: 'npm', pypi: 'PyPI', maven: 'Maven', golang: 'Go', cargo: 'crates.io', deb: 'Debian', composer: 'Packagist',
  nuget: 'NuGet', gem: 'RubyGems', apk: 'Alpine', alpine: 'Alpine', hex: 'Hex', pub: 'Pub', swift: 'SwiftURL', cran: 'CRAN', hackage: 'Hackage',
};

/** PyPI compares names case-insensitively with runs of -, _ and . equal (PEP 503). */
export function normalisePypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** OSV's (ecosystem, package name) for a purl, or undefined for types OSV does not cover. */
export function osvPackage(purl: PackageUrl): { ecosystem: string; name: string } | undefined {
  const ecosystem = ECOSYSTEMS[purl.type];
  if (!ecosystem) return undefined;
  switch (purl.type) {
    case 'maven': return purl.namespace ? { ecosystem, name: `${purl.namespace}:${purl.name}` } : undefined;
    case 'npm': return { ecosystem, name: purl.namespace ? `${purl.namespace}/${purl.name}` : purl.name };
    case 'golang': return { ecosystem, name: purl.namespace ? `${purl.namespace}/${purl.name}` : purl.name };
    case 'pypi': return { ecosystem, name: normalisePypiName(purl.name) };
    case 'composer': return { ecosystem, name: purl.namespace ? `${purl.namespace}/${purl.name}` : purl.name };
    // Distribution packages: the namespace names the distribution, and OSV has one ecosystem per distribution.
    case 'apk': return { ecosystem: ({ wolfi: 'Wolfi', chainguard: 'Chainguard' } as Record<string, string>)[purl.namespace?.toLowerCase() ?? ''] ?? 'Alpine', name: purl.name };
    case 'deb': return { ecosystem: purl.namespace?.toLowerCase() === 'ubuntu' ? 'Ubuntu' : 'Debian', name: purl.name };
    default: return { ecosystem, name: purl.name };
  }
}

/** The key OSV names are indexed under: ecosystem without its release suffix ("Debian:12" → "Debian"). */
export function ecosystemKey(ecosystem: string, name: string): string {
  const base = ecosystem.split(':')[0]!;
  return `${base}\u0000${base === 'PyPI' ? normalisePypiName(name) : name}`;
}
