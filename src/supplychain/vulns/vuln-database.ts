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
        if (seen.has(dedupe) || !isAffected(affected, key.version)) continue;
        seen.add(dedupe);
        findings.push({
          purl: component.purl!, component: component.name, version: key.version, vulnerabilityId: record.id,
          aliases: record.aliases, summary: record.summary, severity: severityOf(record, affected),
        });
      }
    }
    return findings;
  }
}

/** The OSV package key and version of a component, from its purl (the version in the purl wins). */
export function componentKey(component: SbomComponent): { key: string; version: string } | undefined {
  if (!component.purl) return undefined;
  const purl = parsePurl(component.purl);
  const pkg = purl ? osvPackage(purl) : undefined;
  const version = purl?.version ?? component.version;
  if (!pkg || !version) return undefined;
  return { key: ecosystemKey(pkg.ecosystem, pkg.name), version };
}
