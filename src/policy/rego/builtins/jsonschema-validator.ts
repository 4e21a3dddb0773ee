/**
 * A JSON Schema validator (drafts 4, 6 and 7 keywords) reporting errors the way gojsonschema,
 * which OPA uses, words them: { field, type, desc }, where field is "(root)" or a dotted path.
 */
import { RNumber, RObject, RSet, equal, type Value } from '../value.ts';
import { regoText } from './rego-text.ts';
import { compileRegex } from './regex.ts';

export interface SchemaError {
  field: string;
  type: string;
  desc: string;
}

const PRIMITIVES = ['array', 'boolean', 'integer', 'number', 'null', 'object', 'string'];

export class SchemaInvalid extends Error {}

/** Checks a schema's own shape (the parts gojsonschema rejects when loading it). */
export function checkSchema(schema: Value): void {
  if (typeof schema === 'boolean') return;
  if (!(schema instanceof RObject)) throw new SchemaInvalid('Invalid JSON schema: must be an object or a boolean');
  const type = schema.get('type');
  if (type !== undefined) {
    const types = Array.isArray(type) ? type : [type];
    for (const t of types) {
      if (typeof t !== 'string' || !PRIMITIVES.includes(t)) {
        throw new SchemaInvalid(
          `has a primitive type that is NOT VALID -- given: /${typeof t === 'string' ? t : regoText(t)}/ Expected valid values are:[${PRIMITIVES.join(' ')}]`,
        );
      }
    }
  }
  for (const [k, v] of schema.entries()) {
    if (k === 'properties' || k === 'definitions' || k === 'patternProperties' || k === '$defs' || k === 'dependencies') {
      if (v instanceof RObject) for (const sub of v.values()) if (sub instanceof RObject || typeof sub === 'boolean') checkSchema(sub);
    } else if (k === 'items' || k === 'additionalProperties' || k === 'not' || k === 'additionalItems' || k === 'contains' || k === 'if' || k === 'then' || k === 'else' || k === 'propertyNames') {
      if (Array.isArray(v)) v.forEach(checkSchema);
      else if (v instanceof RObject || typeof v === 'boolean') checkSchema(v);
    } else if (k === 'allOf' || k === 'anyOf' || k === 'oneOf') {
      if (!Array.isArray(v)) throw new SchemaInvalid(`${k} must be of type array`);
      v.forEach(checkSchema);
    }
  }
}

function typeOf(v: Value): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'string') return 'string';
  if (v instanceof RNumber) return v.isInteger() ? 'integer' : 'number';
  if (Array.isArray(v) || v instanceof RSet) return 'array';
  return 'object';
}

function fieldOf(path: string[]): string {
  return path.length === 0 ? '(root)' : path.join('.');
}

function num(v: Value | undefined): RNumber | undefined {
  return v instanceof RNumber ? v : undefined;
}

function shown(v: Value): string {
  return typeof v === 'string' ? `"${v}"` : regoText(v);
}

const FORMATS: Record<string, RegExp> = {
  'date-time': /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
  date: /^\d{4}-\d{2}-\d{2}$/,
  email: /^[^@\s]+@[^@\s]+$/,
  ipv4: /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/,
  uuid: /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
};

export class Validator {
  private readonly root: Value;
  readonly errors: SchemaError[] = [];

  constructor(root: Value) {
    this.root = root;
  }

  private fail(path: string[], type: string, desc: string): void {
    this.errors.push({ field: fieldOf(path), type, desc });
  }

  private resolve(ref: string): Value {
    if (!ref.startsWith('#')) throw new SchemaInvalid(`unsupported $ref ${ref}`);
    let cur: Value | undefined = this.root;
    for (const raw of ref.slice(1).split('/').filter((s) => s !== '')) {
      const part = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
      cur = cur instanceof RObject ? cur.get(part) : Array.isArray(cur) ? cur[Number(part)] : undefined;
      if (cur === undefined) throw new SchemaInvalid(`Object has no key '${part}'`);
    }
    return cur;
  }

  /** True when `doc` is valid against `schema` (errors are collected either way). */
  validate(schema: Value, doc: Value, path: string[]): boolean {
    const before = this.errors.length;
    this.check(schema, doc, path);
    return this.errors.length === before;
  }

  /** Validity without recording errors (for anyOf/oneOf/not/if). */
  private quietly(schema: Value, doc: Value, path: string[]): boolean {
    const before = this.errors.length;
    const ok = this.validate(schema, doc, path);
    this.errors.length = before;
    return ok;
  }

  private check(schema: Value, doc: Value, path: string[]): void {
    if (schema === true) return;
    if (schema === false) return this.fail(path, 'false', 'False always fails validation');
    if (!(schema instanceof RObject)) return;
    const ref = schema.get('$ref');
    if (typeof ref === 'string') return this.check(this.resolve(ref), doc, path);
    this.checkType(schema, doc, path);
    this.checkEnum(schema, doc, path);
    this.checkCombinators(schema, doc, path);
    if (doc instanceof RNumber) this.checkNumber(schema, doc, path);
    else if (typeof doc === 'string') this.checkString(schema, doc, path);
    else if (Array.isArray(doc) || doc instanceof RSet) this.checkArray(schema, Array.isArray(doc) ? doc : doc.sorted(), path);
    else if (doc instanceof RObject) this.checkObject(schema, doc, path);
  }

  private checkType(schema: RObject, doc: Value, path: string[]): void {
    const type = schema.get('type');
    if (type === undefined) return;
    const types = (Array.isArray(type) ? type : [type]).filter((t): t is string => typeof t === 'string');
    const actual = typeOf(doc);
    const ok = types.includes(actual) || (actual === 'integer' && types.includes('number'));
    if (!ok) this.fail(path, 'invalid_type', `Invalid type. Expected: ${types.join('/')}, given: ${actual}`);
  }

  private checkEnum(schema: RObject, doc: Value, path: string[]): void {
    const options = schema.get('enum');
    if (Array.isArray(options) && !options.some((o) => equal(o, doc))) {
      this.fail(path, 'enum', `${fieldOf(path)} must be one of the following: ${options.map(shown).join(', ')}`);
    }
    const constant = schema.get('const');
    if (constant !== undefined && !equal(constant, doc)) {
      this.fail(path, 'const', `${fieldOf(path)} does not match: ${shown(constant)}`);
    }
  }

  private checkCombinators(schema: RObject, doc: Value, path: string[]): void {
    const allOf = schema.get('allOf');
    if (Array.isArray(allOf) && !allOf.every((s) => this.quietly(s, doc, path))) {
      allOf.forEach((s) => this.validate(s, doc, path));
      this.fail(path, 'number_all_of', 'Must validate all the schemas (allOf)');
    }
    const anyOf = schema.get('anyOf');
    if (Array.isArray(anyOf) && !anyOf.some((s) => this.quietly(s, doc, path))) {
      this.fail(path, 'number_any_of', 'Must validate at least one schema (anyOf)');
    }
    const oneOf = schema.get('oneOf');
    if (Array.isArray(oneOf) && oneOf.filter((s) => this.quietly(s, doc, path)).length !== 1) {
      this.fail(path, 'number_one_of', 'Must validate one and only one schema (oneOf)');
    }
    const not = schema.get('not');
    if (not !== undefined && this.quietly(not, doc, path)) this.fail(path, 'number_not', 'Must not validate the schema (not)');
    const cond = schema.get('if');
    if (cond !== undefined) {
      const branch = this.quietly(cond, doc, path) ? 'then' : 'else';
      const target = schema.get(branch);
      if (target !== undefined && !this.validate(target, doc, path)) {
        this.fail(path, `condition_${branch}`, `Must validate "${branch}" as "if" was ${branch === 'then' ? 'valid' : 'not valid'}`);
      }
    }
  }

  private checkNumber(schema: RObject, n: RNumber, path: string[]): void {
    const draft4Exclusive = (k: string) => schema.get(k) === true;
    const min = num(schema.get('minimum'));
    if (min) {
      if (draft4Exclusive('exclusiveMinimum') ? n.compare(min) <= 0 : n.compare(min) < 0) {
        if (draft4Exclusive('exclusiveMinimum')) this.fail(path, 'number_gt', `Must be greater than ${min}`);
        else this.fail(path, 'number_gte', `Must be greater than or equal to ${min}`);
      }
    }
    const max = num(schema.get('maximum'));
    if (max) {
      if (draft4Exclusive('exclusiveMaximum') ? n.compare(max) >= 0 : n.compare(max) > 0) {
        if (draft4Exclusive('exclusiveMaximum')) this.fail(path, 'number_lt', `Must be less than ${max}`);
        else this.fail(path, 'number_lte', `Must be less than or equal to ${max}`);
      }
    }
    const xmin = num(schema.get('exclusiveMinimum'));
    if (xmin && n.compare(xmin) <= 0) this.fail(path, 'number_gt', `Must be greater than ${xmin}`);
    const xmax = num(schema.get('exclusiveMaximum'));
    if (xmax && n.compare(xmax) >= 0) this.fail(path, 'number_lt', `Must be less than ${xmax}`);
    const multiple = num(schema.get('multipleOf'));
    if (multiple && multiple.sign() > 0 && !n.div(multiple).isInteger()) {
      this.fail(path, 'multiple_of', `Must be a multiple of ${multiple}`);
    }
  }

  private checkString(schema: RObject, s: string, path: string[]): void {
    const length = [...s].length;
    const min = num(schema.get('minLength'))?.toSafeInteger();
    if (min !== undefined && length < min) this.fail(path, 'string_gte', `String length must be greater than or equal to ${min}`);
    const max = num(schema.get('maxLength'))?.toSafeInteger();
    if (max !== undefined && length > max) this.fail(path, 'string_lte', `String length must be less than or equal to ${max}`);
    const pattern = schema.get('pattern');
    if (typeof pattern === 'string' && !compileRegex(pattern).test(s)) {
      this.fail(path, 'pattern', `Does not match pattern '${pattern}'`);
    }
    const format = schema.get('format');
    if (typeof format === 'string' && FORMATS[format] && !FORMATS[format]!.test(s)) {
      this.fail(path, 'format', `Does not match format '${format}'`);
    }
  }

  private checkArray(schema: RObject, items: Value[], path: string[]): void {
    const min = num(schema.get('minItems'))?.toSafeInteger();
    if (min !== undefined && items.length < min) this.fail(path, 'array_min_items', `Array must have at least ${min} items`);
    const max = num(schema.get('maxItems'))?.toSafeInteger();
    if (max !== undefined && items.length > max) this.fail(path, 'array_max_items', `Array must have at most ${max} items`);
    if (schema.get('uniqueItems') === true) {
      outer: for (let i = 0; i < items.length; i++) {
        for (let j = i + 1; j < items.length; j++) {
          if (equal(items[i]!, items[j]!)) {
            this.fail(path, 'unique', `array items[${i},${j}] must be unique`);
            break outer;
          }
        }
      }
    }
    const itemSchema = schema.get('items');
    if (Array.isArray(itemSchema)) {
      items.forEach((x, i) => {
        if (i < itemSchema.length) this.validate(itemSchema[i]!, x, [...path, String(i)]);
        else {
          const extra = schema.get('additionalItems');
          if (extra === false) this.fail(path, 'array_no_additional_items', `No additional items allowed on array`);
          else if (extra !== undefined) this.validate(extra, x, [...path, String(i)]);
        }
      });
    } else if (itemSchema !== undefined) {
      items.forEach((x, i) => this.validate(itemSchema, x, [...path, String(i)]));
    }
    const contains = schema.get('contains');
    if (contains !== undefined && !items.some((x) => this.quietly(contains, x, path))) {
      this.fail(path, 'contains', 'At least one of the items must match');
    }
  }

  private checkObject(schema: RObject, o: RObject, path: string[]): void {
    const required = schema.get('required');
    if (Array.isArray(required)) {
      for (const k of required) if (!o.has(k)) this.fail(path, 'required', `${String(k)} is required`);
    }
    const minP = num(schema.get('minProperties'))?.toSafeInteger();
    if (minP !== undefined && o.size < minP) this.fail(path, 'array_min_properties', `Must have at least ${minP} properties`);
    const maxP = num(schema.get('maxProperties'))?.toSafeInteger();
    if (maxP !== undefined && o.size > maxP) this.fail(path, 'array_max_properties', `Must have at most ${maxP} properties`);
    const props = schema.get('properties');
    const patterns = schema.get('patternProperties');
    const additional = schema.get('additionalProperties');
    for (const [k, v] of o.sortedEntries()) {
      if (typeof k !== 'string') continue;
      let matched = false;
      const sub = props instanceof RObject ? props.get(k) : undefined;
      if (sub !== undefined) {
        matched = true;
        this.validate(sub, v, [...path, k]);
      }
      if (patterns instanceof RObject) {
        for (const [p, ps] of patterns.entries()) {
          if (typeof p === 'string' && compileRegex(p).test(k)) {
            matched = true;
            this.validate(ps, v, [...path, k]);
          }
        }
      }
      if (!matched && additional !== undefined) {
        if (additional === false) this.fail(path, 'additional_property_not_allowed', `Additional property ${k} is not allowed`);
        else this.validate(additional, v, [...path, k]);
      }
    }
    const names = schema.get('propertyNames');
    if (names !== undefined) for (const k of o.keys()) this.validate(names, k, path);
    const deps = schema.get('dependencies');
    if (deps instanceof RObject) {
      for (const [k, dep] of deps.entries()) {
        if (!o.has(k)) continue;
        if (Array.isArray(dep)) {
          for (const d of dep) if (!o.has(d)) this.fail(path, 'missing_dependency', `Has a dependency on ${String(d)}`);
        } else this.validate(dep, o, path);
      }
    }
  }
}
