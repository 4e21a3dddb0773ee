/**
 * Is a version affected by an OSV `affected` entry? Explicit `versions` first, then each range
 * evaluated the way the OSV schema specifies: events sorted by version, "introduced" turns
 * affectedness on, "fixed"/"limit" (at or above) and "last_affected" (above) turn it off.
 */
import { comparatorFor, type VersionComparator } from './versions/ecosystem.ts';
import type { OsvAffected, OsvEvent } from './osv-record.ts';

/** Go purls carry "v1.2.3"; OSV Go records say "1.2.3". */
export function normaliseVersion(ecosystem: string, version: string): string {
  return ecosystem === 'Go' ? version.replace(/^v(?=\d)/, '') : version;
}

const KIND_ORDER: Record<OsvEvent['kind'], number> = { introduced: 0, last_affected: 1, fixed: 2, limit: 3 };

function sortedEvents(events: readonly OsvEvent[], compare: VersionComparator): OsvEvent[] | undefined {
  const usable = events.filter((event) => event.version === '0' || compare(event.version, event.version) !== undefined);
  if (usable.length !== events.length) return undefined;
  return [...usable].sort((a, b) => {
    if (a.version === '0' || b.version === '0') return a.version === b.version ? KIND_ORDER[a.kind] - KIND_ORDER[b.kind] : a.version === '0' ? -1 : 1;
    return (compare(a.version, b.version) ?? 0) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind];
  });
}

function inRange(version: string, events: readonly OsvEvent[], compare: VersionComparator): boolean {
  const sorted = sortedEvents(events, compare);
  if (!sorted) return false;
  let affected = false;
  for (const event of sorted) {
    const order = event.version === '0' ? 1 : compare(version, event.version);
    if (order === undefined) return false;
    if (event.kind === 'introduced' && order >= 0) affected = true;
    else if ((event.kind === 'fixed' || event.kind === 'limit') && order >= 0) affected = false;
    else if (event.kind === 'last_affected' && order > 0) affected = false;
  }
  return affected;
}

export function isAffected(entry: OsvAffected, rawVersion: string): boolean {
  const version = normaliseVersion(entry.ecosystem.split(':')[0]!, rawVersion);
  if (entry.versions.has(version) || entry.versions.has(rawVersion)) return true;
  for (const range of entry.ranges) {
    const compare = comparatorFor(entry.ecosystem, range.type);
    if (!compare || compare(version, version) === undefined) continue;
    if (inRange(version, range.events, compare)) return true;
  }
  return false;
}
