/**
 * OSV records reduced to what matching needs: per affected package its ecosystem, name, ranges
 * (type + introduced/fixed/last_affected/limit events) and explicit versions; plus severity.
 */
import { arrayField, isObject, objectField, stringField } from '../shared/json.ts';
import { ecosystemKey, normalisePypiName } from '../sbom/purl.ts';

export interface OsvEvent {
  readonly kind: 'introduced' | 'fixed' | 'last_affected' | 'limit';
  readonly version: string;
}

export interface OsvAffected {
  readonly ecosystem: string;
  readonly name: string;
  readonly ranges: readonly { readonly type: string; readonly events: readonly OsvEvent[] }[];
  readonly versions: ReadonlySet<string>;
  /** Severity given for this package only (CVSS vectors or a label). */
  readonly severity: readonly OsvSeverity[];
  readonly label?: string;
}

export interface OsvSeverity {
  readonly type: string;
  readonly score: string;
}

export interface OsvRecord {
  readonly id: string;
  readonly modified: string;
  /** When the vulnerability was first published (policies judge how long it has been known). */
  readonly published?: string;
  readonly withdrawn?: string;
  readonly summary?: string;
  readonly aliases: readonly string[];
  readonly severity: readonly OsvSeverity[];
  /** database_specific.severity, as GHSA records carry it ("HIGH", "MODERATE"…). */
  readonly severityLabel?: string;
  readonly affected: readonly OsvAffected[];
}

export type RecordParse = { ok: true; record: OsvRecord } | { ok: false; reason: string };

const EVENT_KINDS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;

function severities(value: unknown): OsvSeverity[] {
  return arrayField(value, 'severity').flatMap((entry) => {
    const type = stringField(entry, 'type'), score = stringField(entry, 'score');
    return type && score ? [{ type, score }] : [];
  });
}

function parseAffected(entry: unknown): OsvAffected | undefined {
  const pkg = objectField(entry, 'package');
  const ecosystem = stringField(pkg, 'ecosystem');
  const name = stringField(pkg, 'name');
  if (!ecosystem || !name) return undefined;
  const ranges = arrayField(entry, 'ranges').flatMap((range) => {
    const type = stringField(range, 'type');
    if (!type) return [];
    const events: OsvEvent[] = [];
    for (const event of arrayField(range, 'events')) {
      if (!isObject(event)) continue;
      for (const kind of EVENT_KINDS) {
        const version = event[kind];
        if (typeof version === 'string') events.push({ kind, version });
      }
    }
    return [{ type, events }];
  });
  const versions = new Set(arrayField(entry, 'versions').filter((version): version is string => typeof version === 'string'));
  const label = stringField(objectField(entry, 'ecosystem_specific'), 'severity') ?? stringField(objectField(entry, 'database_specific'), 'severity');
  return { ecosystem, name: ecosystem.startsWith('PyPI') ? normalisePypiName(name) : name, ranges, versions, severity: severities(entry), label };
}

export function parseOsvRecord(value: unknown): RecordParse {
  if (!isObject(value)) return { ok: false, reason: 'OSV record is not a JSON object' };
  const id = stringField(value, 'id');
  const modified = stringField(value, 'modified');
  if (!id || !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(id)) return { ok: false, reason: `OSV record id "${id}" is missing or malformed` };
  if (!modified) return { ok: false, reason: `OSV record ${id} has no modified time` };
  const affected = arrayField(value, 'affected').map(parseAffected).filter((entry): entry is OsvAffected => entry !== undefined);
  return {
    ok: true,
    record: {
      id, modified, published: stringField(value, 'published'), withdrawn: stringField(value, 'withdrawn'), summary: stringField(value, 'summary')?.slice(0, 500),
      aliases: arrayField(value, 'aliases').filter((alias): alias is string => typeof alias === 'string'),
      severity: severities(value),
      severityLabel: stringField(objectField(value, 'database_specific'), 'severity'),
      affected,
    },
  };
}

/** Index keys of the packages a record affects. */
export function recordKeys(record: OsvRecord): string[] {
  return [...new Set(record.affected.map((entry) => ecosystemKey(entry.ecosystem, entry.name)))];
}

/** JSON for storage: the `versions` sets become arrays. */
export function serializeOsvRecord(record: OsvRecord): string {
  return JSON.stringify(record, (_key, value: unknown) => (value instanceof Set ? [...value] : value));
}

export function deserializeOsvRecord(text: string): OsvRecord {
  const raw = JSON.parse(text) as OsvRecord & { affected: (Omit<OsvAffected, 'versions'> & { versions: string[] })[] };
  return { ...raw, affected: raw.affected.map((entry) => ({ ...entry, versions: new Set(entry.versions) })) };
}
