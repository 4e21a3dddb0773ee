/**
 * Defensive JSON reading for documents that come from the outside (pushed blobs, envelopes,
 * SBOMs): parsing never throws, and field access is typed as `unknown` until checked.
 */
export type JsonObject = Record<string, unknown>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

export function parseJson(bytes: Uint8Array | string, maxBytes = Number.POSITIVE_INFINITY): ParseResult<unknown> {
  const length = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
  if (length > maxBytes) return { ok: false, reason: `document is ${length} bytes, over the limit of ${maxBytes}` };
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, reason: `not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function stringField(object: unknown, key: string): string | undefined {
  if (!isObject(object)) return undefined;
  const value = object[key];
  return typeof value === 'string' ? value : undefined;
}

export function objectField(object: unknown, key: string): JsonObject | undefined {
  if (!isObject(object)) return undefined;
  const value = object[key];
  return isObject(value) ? value : undefined;
}

export function arrayField(object: unknown, key: string): unknown[] {
  if (!isObject(object)) return [];
  const value = object[key];
  return Array.isArray(value) ? value : [];
}

/** Strict base64 (standard or URL alphabet) to bytes; undefined when the text is not base64. */
export function decodeBase64(text: unknown): Buffer | undefined {
  if (typeof text !== 'string') return undefined;
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact)) return undefined;
  return Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}
