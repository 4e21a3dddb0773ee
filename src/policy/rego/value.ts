/**
 * Rego values: null, booleans, strings, arbitrary-precision numbers, arrays (plain JS arrays),
 * objects and sets whose keys/members may be any value.
 *
 * Keying is the evaluator's hot path, so `keyOf` returns a string key that is the string itself
 * for (almost) every string value, and a '\u0000'-prefixed canonical encoding for everything
 * else. Objects and sets cache their composite key until they are mutated (only while building).
 */
import { RNumber } from './number.ts';

export { RNumber };

export type Value = null | boolean | string | RNumber | Value[] | RObject | RSet;
export type TypeName = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object' | 'set';

const TAG = '\u0000';

export class RObject {
  private readonly map = new Map<string, [Value, Value]>();
  private cachedKey: string | undefined;
  private cachedTaggedKey: string | undefined;
  private cachedSorted: [Value, Value][] | undefined;

  get size(): number {
    return this.map.size;
  }
  get(key: Value): Value | undefined {
    return this.map.get(keyOf(key))?.[1];
  }
  has(key: Value): boolean {
    return this.map.has(keyOf(key));
  }
  /** Only while building a new object: objects are immutable once shared. */
  set(key: Value, value: Value): void {
    this.cachedKey = undefined;
    this.cachedTaggedKey = undefined;
    this.cachedSorted = undefined;
    this.map.set(keyOf(key), [key, value]);
  }
  delete(key: Value): void {
    this.cachedKey = undefined;
    this.cachedTaggedKey = undefined;
    this.cachedSorted = undefined;
    this.map.delete(keyOf(key));
  }
  *keys(): IterableIterator<Value> {
    for (const e of this.map.values()) yield e[0];
  }
  *values(): IterableIterator<Value> {
    for (const e of this.map.values()) yield e[1];
  }
  entries(): IterableIterator<[Value, Value]> {
    return this.map.values();
  }
  /** Entries in OPA's key order (cached; do not mutate the returned array). */
  sortedEntries(): [Value, Value][] {
    return (this.cachedSorted ??= [...this.map.values()].sort((a, b) => compare(a[0], b[0])));
  }
  /** Canonical key (cached). */
  key(): string {
    if (this.cachedKey === undefined) {
      const parts = this.sortedEntries().map(([k, v]) => canonical(k) + ':' + canonical(v));
      this.cachedKey = '{' + parts.join(',') + '}';
    }
    return this.cachedKey;
  }
  /**
   * `keyOf(this)`, cached: the same string every time, so a Map hashes it once instead of
   * hashing a fresh concatenation on every lookup.
   */
  taggedKey(): string {
    return (this.cachedTaggedKey ??= TAG + this.key());
  }
  static from(entries: Iterable<[Value, Value]>): RObject {
    const o = new RObject();
    for (const [k, v] of entries) o.set(k, v);
    return o;
  }
}

export class RSet {
  private readonly map = new Map<string, Value>();
  private cachedKey: string | undefined;
  private cachedTaggedKey: string | undefined;
  private cachedSorted: Value[] | undefined;
  private cachedMembers: Value[] | undefined;

  get size(): number {
    return this.map.size;
  }
  has(v: Value): boolean {
    return this.map.has(keyOf(v));
  }
  add(v: Value): void {
    const k = keyOf(v);
    if (this.map.has(k)) return;
    this.cachedKey = undefined;
    this.cachedTaggedKey = undefined;
    this.cachedSorted = undefined;
    this.cachedMembers = undefined;
    this.map.set(k, v);
  }
  delete(v: Value): void {
    this.cachedKey = undefined;
    this.cachedTaggedKey = undefined;
    this.cachedSorted = undefined;
    this.cachedMembers = undefined;
    this.map.delete(keyOf(v));
  }
  values(): IterableIterator<Value> {
    return this.map.values();
  }
  /**
   * Members in insertion order, as an array (cached; do not mutate it): sets are iterated
   * again and again (`some x in s` in every rule), and indexing an array is much cheaper than
   * stepping a Map iterator.
   */
  members(): Value[] {
    return (this.cachedMembers ??= [...this.map.values()]);
  }
  /** Members in OPA's order (cached; do not mutate the returned array). */
  sorted(): Value[] {
    return (this.cachedSorted ??= [...this.map.values()].sort(compare));
  }
  key(): string {
    this.cachedKey ??= 's[' + this.sorted().map(canonical).join(',') + ']';
    return this.cachedKey;
  }
  /** `keyOf(this)`, cached (see RObject.taggedKey). */
  taggedKey(): string {
    return (this.cachedTaggedKey ??= TAG + this.key());
  }
  static from(values: Iterable<Value>): RSet {
    const s = new RSet();
    for (const v of values) s.add(v);
    return s;
  }
}

export function isNumber(v: Value | undefined): v is RNumber {
  return v instanceof RNumber;
}
export function isObject(v: Value | undefined): v is RObject {
  return v instanceof RObject;
}
export function isSet(v: Value | undefined): v is RSet {
  return v instanceof RSet;
}
export function isArray(v: Value | undefined): v is Value[] {
  return Array.isArray(v);
}
export function isString(v: Value | undefined): v is string {
  return typeof v === 'string';
}
export function isBoolean(v: Value | undefined): v is boolean {
  return typeof v === 'boolean';
}

export function typeName(v: Value): TypeName {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'string';
  }
  if (v instanceof RNumber) return 'number';
  if (Array.isArray(v)) return 'array';
  if (v instanceof RObject) return 'object';
  return 'set';
}

const TYPE_RANK: Record<TypeName, number> = {
  null: 0,
  boolean: 1,
  number: 2,
  string: 3,
  array: 4,
  object: 5,
  set: 6,
};

/** Keys of the small non-negative integers, built once (array indexes are keyed constantly). */
const SMALL_INT_KEYS: string[] = Array.from({ length: 1024 }, (_, i) => TAG + String(i));

/** Canonical key: equal(a, b) ⇔ keyOf(a) === keyOf(b). Strings map to themselves. */
export function keyOf(v: Value): string {
  if (typeof v === 'string') return v.length > 0 && v.charCodeAt(0) === 0 ? TAG + 's' + v : v;
  if (v instanceof RNumber && v.small >= 0 && v.small < 1024) return SMALL_INT_KEYS[v.small]!;
  if (v instanceof RObject || v instanceof RSet) return v.taggedKey();
  return TAG + canonical(v);
}

/** Self-delimiting canonical encoding (JSON-like, strings quoted, sets marked). */
function canonical(v: Value): string {
  if (v === null) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof RNumber) return v.isSmall() ? String(v.small) : v.canonical();
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i ? ',' : '') + canonical(v[i]!);
    return out + ']';
  }
  return v.key();
}

/** Compares UTF-8 byte order: differs from UTF-16 order only around surrogate pairs. */
function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const xs = x >= 0xd800 && x <= 0xdfff;
      const ys = y >= 0xd800 && y <= 0xdfff;
      // Surrogates encode code points above U+FFFF: they sort after every BMP char in UTF-8.
      if (xs !== ys) return xs ? 1 : -1;
      return x < y ? -1 : 1;
    }
  }
  return a.length - b.length < 0 ? -1 : a.length === b.length ? 0 : 1;
}

/** OPA's total order: null < boolean < number < string < array < object < set. */
export function compare(a: Value, b: Value): number {
  if (a === b) return 0;
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (a instanceof RNumber && b instanceof RNumber) return a.compare(b);
  const ta = TYPE_RANK[typeName(a)];
  const tb = TYPE_RANK[typeName(b)];
  if (ta !== tb) return ta < tb ? -1 : 1;
  switch (ta) {
    case 0:
      return 0;
    case 1:
      return a === b ? 0 : a === false ? -1 : 1;
    case 4:
      return compareArrays(a as Value[], b as Value[]);
    case 5:
      return compareObjects(a as RObject, b as RObject);
    case 6:
      return compareArrays((a as RSet).sorted(), (b as RSet).sorted());
  }
  return 0;
}

function compareArrays(a: Value[], b: Value[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compare(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function compareObjects(a: RObject, b: RObject): number {
  const ea = a.sortedEntries();
  const eb = b.sortedEntries();
  const n = Math.min(ea.length, eb.length);
  for (let i = 0; i < n; i++) {
    const ck = compare(ea[i]![0], eb[i]![0]);
    if (ck !== 0) return ck;
    const cv = compare(ea[i]![1], eb[i]![1]);
    if (cv !== 0) return cv;
  }
  return ea.length === eb.length ? 0 : ea.length < eb.length ? -1 : 1;
}

export function equal(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (typeof a === 'string' || typeof b === 'string') return false;
  if (a instanceof RNumber) return b instanceof RNumber && a.equals(b);
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equal(a[i]!, b[i]!)) return false;
    return true;
  }
  if (a instanceof RObject) {
    if (!(b instanceof RObject) || a.size !== b.size) return false;
    for (const [k, v] of a.entries()) {
      const w = b.get(k);
      if (w === undefined || !equal(v, w)) return false;
    }
    return true;
  }
  if (a instanceof RSet) {
    if (!(b instanceof RSet) || a.size !== b.size) return false;
    for (const v of a.values()) if (!b.has(v)) return false;
    return true;
  }
  return false;
}

/** From JSON.parse / YAML output (bigint and number → RNumber, plain objects → RObject). */
export function fromJS(x: unknown): Value {
  if (x === null || x === undefined) return null;
  switch (typeof x) {
    case 'string':
    case 'boolean':
      return x;
    case 'number':
    case 'bigint':
      return RNumber.of(x);
  }
  if (x instanceof RNumber || x instanceof RObject || x instanceof RSet) return x;
  if (x instanceof JSONNumber) return RNumber.parse(x.text);
  if (Array.isArray(x)) return x.map(fromJS);
  if (x instanceof Map) {
    const o = new RObject();
    for (const [k, v] of x) o.set(fromJS(k), fromJS(v));
    return o;
  }
  if (x instanceof Set) return RSet.from([...x].map(fromJS));
  if (x instanceof Date) return x.toISOString();
  const o = new RObject();
  for (const [k, v] of Object.entries(x as Record<string, unknown>)) o.set(k, fromJS(v));
  return o;
}

/**
 * A number that neither a JS number nor a bigint represents exactly (a decimal such as
 * 0.10000000000000000001): `toJS` returns it wrapped so no precision is lost.
 */
export class JSONNumber {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toJSON(): string {
    return this.text;
  }
}

/** OPA's JSON form: numbers exact (number | bigint | JSONNumber), sets → sorted arrays. */
export function toJS(v: Value): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (v instanceof RNumber) {
    if (v.isSmall()) return v.small;
    if (v.isInteger()) return v.mant;
    const text = v.canonical();
    const n = Number(text);
    return String(n) === text ? n : new JSONNumber(text);
  }
  if (Array.isArray(v)) return v.map(toJS);
  if (v instanceof RSet) return v.sorted().map(toJS);
  const out: Record<string, unknown> = {};
  for (const [k, val] of v.sortedEntries()) out[typeof k === 'string' ? k : toJSONText(k)] = toJS(val);
  return out;
}

/** Canonical JSON text (OPA's serialisation): exact numbers, object keys sorted, sets sorted. */
export function toJSONText(v: Value): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof RNumber) return v.toString();
  if (Array.isArray(v)) return '[' + v.map(toJSONText).join(',') + ']';
  if (v instanceof RSet) return '[' + v.sorted().map(toJSONText).join(',') + ']';
  const parts: string[] = [];
  const entries = v.sortedEntries().map(([k, val]): [string, Value] => [typeof k === 'string' ? k : toJSONText(k), val]);
  // Keys are sorted as the JSON strings they become (Go's encoding/json sorts map keys).
  entries.sort((a, b) => compareStrings(a[0], b[0]));
  for (const [k, val] of entries) parts.push(JSON.stringify(k) + ':' + toJSONText(val));
  return '{' + parts.join(',') + '}';
}

export { compareStrings };
