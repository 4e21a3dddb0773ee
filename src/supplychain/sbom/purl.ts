/**
 * Package URLs (pkg:type/namespace/name@version?qualifiers#subpath) and how a purl names a
 * package in OSV: the ecosystem and the package name as that ecosystem spells it.
 */
export interface PackageUrl {
  readonly type: string;
  readonly namespace?: string;
  readonly name: string;
  readonly version?: string;
  readonly qualifiers: Readonly<Record<string, string>>;
}

function decode(part: string): string {
  try { return decodeURIComponent(part); } catch { return part; }
}

export function parsePurl(text: string): PackageUrl | undefined {
  if (typeof text !== 'string' || !text.startsWith('pkg:') || text.length > 4096) return undefined;
  let rest = text.slice(4).replace(/^\/+/, '');
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const qualifiers: Record<string, string> = {};
  const question = rest.indexOf('?');
  if (question >= 0) {
    for (const pair of rest.slice(question + 1).split('&')) {
      const equals = pair.indexOf('=');
      if (equals > 0) qualifiers[pair.slice(0, equals).toLowerCase()] = decode(pair.slice(equals + 1));
    }
    rest = rest.slice(0, question);
  }
  let version: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at > rest.lastIndexOf('/')) {
    version = decode(rest.slice(at + 1));
    rest = rest.slice(0, at);
  }
  const segments = rest.split('/').filter((segment) => segment !== '');
  if (segments.length < 2) return undefined;
  const type = segments[0]!.toLowerCase();
  const name = decode(segments[segments.length - 1]!);
  const namespace = segments.length > 2 ? segments.slice(1, -1).map(decode).join('/') : undefined;
  return { type, namespace, name, version: version === '' ? undefined : version, qualifiers };
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
