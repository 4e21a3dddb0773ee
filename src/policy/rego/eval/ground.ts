/**
 * Constant terms: literals, and arrays, sets and objects built only of literals
 * (`{"registry.example.com", "gcr.io/example"}`). Their value never changes, so it is built
 * once per term and shared by every evaluation. That is safe because values are never changed
 * once built (the one place that extends a rule's value, insertPartial, extends a copy).
 */
import type { Term } from '../ast.ts';
import { RNumber, RObject, RSet, type Value } from '../value.ts';

/** Built values of composite terms; null marks a term that is not constant. */
const composites = new WeakMap<Term, Value | null>();
const numbers = new WeakMap<Term, RNumber>();

/** The value of a constant term, else undefined. */
export function constantTerm(t: Term): Value | undefined {
  switch (t.kind) {
    case 'null':
      return null;
    case 'boolean':
    case 'string':
      return t.value;
    case 'number': {
      let n = numbers.get(t);
      if (n === undefined) numbers.set(t, (n = RNumber.parse(t.text)));
      return n;
    }
    case 'array':
    case 'set':
    case 'object': {
      let v = composites.get(t);
      if (v === undefined) composites.set(t, (v = buildComposite(t) ?? null));
      return v ?? undefined;
    }
    default:
      return undefined;
  }
}

function buildComposite(t: Term & { kind: 'array' | 'set' | 'object' }): Value | undefined {
  if (t.kind === 'object') {
    const out = new RObject();
    for (const [kt, vt] of t.entries) {
      const key = constantTerm(kt);
      const value = constantTerm(vt);
      if (key === undefined || value === undefined) return undefined;
      out.set(key, value);
    }
    return out;
  }
  const items: Value[] = [];
  for (const item of t.items) {
    const v = constantTerm(item);
    if (v === undefined) return undefined;
    items.push(v);
  }
  return t.kind === 'array' ? items : RSet.from(items);
}
