/**
 * The in-memory matching index over OSV records: package key → affected entries. Built from the
 * stored records, updated record by record on import so a re-import replaces a record in place.
 */
import { parsePurl, osvPackage, ecosystemKey } from '../sbom/purl.ts';
import type { SbomComponent } from '../sbom/sbom-model.ts';
import type { OsvAffected, OsvRecord } from './osv-record.ts';
import { recordKeys } from './osv-record.ts';
import { isAffected } from './range-match.ts';
import { severityOf, type Severity } from './severity.ts';

export interface Finding {
  readonly purl: string;
  readonly component: string;
  readonly version: string;
  readonly vulnerabilityId: string;
  readonly aliases: readonly string[];
  readonly summary?: string;
  readonly severity: Severity;
  readonly published?: string;
  /** The first version that fixes it, when the record names one. */
  readonly fixed?: string;
}

export class VulnDatabase {
  readonly #records = new Map<string, OsvRecord>();
  readonly #byPackage = new Map<string, { record: OsvRecord; affected: OsvAffected }[]>();

  get size(): number { return this.#records.size; }

  get(id: string): OsvRecord | undefined { return this.#records.get(id); }

  /** Adds or replaces a record; withdrawn records are removed. Returns the package keys touched. */
  upsert(record: OsvRecord): string[] {
    const touched = new Set<string>();
    const previous = this.#records.get(record.id);
    if (previous) for (const key of this.#unindex(previous)) touched.add(key);
    if (record.withdrawn) {
      this.#records.delete(record.id);
    } else {
      this.#records.set(record.id, record);
      for (const affected of record.affected) {
        const key = ecosystemKey(affected.ecosystem, affected.name);
        let list = this.#byPackage.get(key);
        if (!list) { list = []; this.#byPackage.set(key, list); }
        list.push({ record, affected });
        touched.add(key);
      }
    }
    return [...touched];
  }

  #unindex(record: OsvRecord): string[] {
    const keys = recordKeys(record);
    for (const key of keys) {
      const remaining = (this.#byPackage.get(key) ?? []).filter((entry) => entry.record.id !== record.id);
      if (remaining.length > 0) this.#byPackage.set(key, remaining); else this.#byPackage.delete(key);
    }
    return keys;
  }

  /** Findings for components (deduplicated per purl and record). */
  match(components: readonly SbomComponent[]): Finding[] {
    const findings: Finding[] = [];
    const seen = new Set<string>();
    for (const component of components) {
      const key = componentKey(component);
      if (!key) continue;
      const candidates = this.#byPackage.get(key.key);
      if (!candidates) continue;
      for (const { record, affected } of candidates) {
        const dedupe = `${component.purl}\u0000${record.id}`;
        if (seen.has(dedupe) || !sameRelease(affected.ecosystem, key.release) || !isAffected(affected, key.version)) continue;
        seen.add(dedupe);
        findings.push({
          purl: component.purl!, component: component.name, version: key.version, vulnerabilityId: record.id,
          aliases: record.aliases, summary: record.summary, severity: severityOf(record, affected),
          ...(record.published ? { published: record.published } : {}),
          ...fixedVersion(affected),
        });
      }
    }
    return findings;
  }
}

function fixedVersion(affected: OsvAffected): { fixed?: string } {
  const fixed = affected.ranges.flatMap((range) => range.events).find((event) => event.kind === 'fixed');
  return fixed ? { fixed: fixed.version } : {};
}

/** The OSV package key and version of a component, from its purl (the version in the purl wins). */
export function componentKey(component: SbomComponent): { key: string; version: string; release?: string } | undefined {
  if (!component.purl) return undefined;
  const purl = parsePurl(component.purl);
  const pkg = purl ? osvPackage(purl) : undefined;
  const version = purl?.version ?? component.version;
  if (!pkg || !version) return undefined;
  const release = purl?.type === 'deb' ? debianRelease(purl.qualifiers['distro']) : purl?.type === 'apk' || purl?.type === 'alpine' ? alpineRelease(purl.qualifiers['distro']) : undefined;
  return { key: ecosystemKey(pkg.ecosystem, pkg.name), version, ...(release ? { release } : {}) };
}

const DEBIAN_CODENAMES: Record<string, string> = { stretch: '9', buster: '10', bullseye: '11', bookworm: '12', trixie: '13', forky: '14' };

/** "debian-12", "debian-12.5" or "bookworm" → "12": OSV's Debian ecosystems are per release ("Debian:12"). */
function debianRelease(distro: string | undefined): string | undefined {
  if (!distro) return undefined;
  const numbered = /^(?:debian-)?(\d+)/.exec(distro);
  return numbered?.[1] ?? DEBIAN_CODENAMES[distro.replace(/^debian-/, '')];
}

/** "alpine-3.18.4" or "3.18" → "3.18": OSV's Alpine ecosystems are per branch ("Alpine:v3.18"). */
function alpineRelease(distro: string | undefined): string | undefined {
  return distro ? /^(?:alpine-)?v?(\d+\.\d+)/.exec(distro)?.[1] : undefined;
}

/** A per-release record ("Debian:11", "Alpine:v3.18") only applies to components of that release, when both are known. */
function sameRelease(ecosystem: string, release: string | undefined): boolean {
  const colon = ecosystem.indexOf(':');
  if (colon < 0 || release === undefined) return true;
  const recordRelease = ecosystem.slice(colon + 1).replace(/^v/, '');
  return ecosystem.startsWith('Alpine') ? recordRelease === release : recordRelease.split('.')[0] === release;
}
