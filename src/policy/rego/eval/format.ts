/**
 * Rego's textual form of values, as OPA prints them in template strings and `print`:
 * strings raw at the top level, everything else in Rego term syntax (`set()`, `{1, 2}`).
 */
import { RNumber, RObject, RSet, type Value } from '../value.ts';

export function formatTemplateValue(v: Value): string {
  return typeof v === 'string' ? v : termString(v);
}

export function formatPrintValue(v: Value): string {
  return typeof v === 'string' ? v : termString(v);
}

/** A value in Rego term syntax (strings quoted). */
export function termString(v: Value): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof RNumber) return v.toString();
  if (Array.isArray(v)) return '[' + v.map(termString).join(', ') + ']';
  if (v instanceof RSet) return v.size === 0 ? 'set()' : '{' + v.sorted().map(termString).join(', ') + '}';
  if (v instanceof RObject) return '{' + v.sortedEntries().map(([k, x]) => `${termString(k)}: ${termString(x)}`).join(', ') + '}';
  return String(v);
}
