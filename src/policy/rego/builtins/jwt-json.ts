/** JSON text to a Rego value with exact numbers (Go's decoder keeps the last duplicate key too). */
import { RNumber, RObject, type Value } from '../value.ts';

interface ReviverContext {
  source?: string;
}

/** Parses JSON; numbers keep their source text exactly, objects become RObject. */
export function parseJSONValue(text: string): Value {
  return JSON.parse(text, function revive(this: unknown, _key: string, value: unknown, context?: ReviverContext) {
    if (typeof value === 'number') return RNumber.parse(context?.source ?? String(value));
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof RNumber) && !(value instanceof RObject)) {
      return RObject.from(Object.entries(value as Record<string, Value>));
    }
    return value;
  }) as Value;
}
