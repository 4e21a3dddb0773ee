/**
 * Loads OPA's compliance cases from ../shared/opa-compliance and runs one case the way
 * OPA's `TestRego` runner does (see that folder's README.md): modules named test-N.rego,
 * result sets compared as sets of JSON-form values, `sort_bindings`, strict built-in errors,
 * expected error code and message substring, `input_term`.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { compile, parseTerm, RegoError } from '../../src/policy/rego/index.ts';
import { compare, fromJS, keyOf, toJS, RObject, type Value } from '../../src/policy/rego/value.ts';
import { SHARED_DIR as SHARED_ROOT } from '../support/shared.ts';

export const SHARED_DIR = join(SHARED_ROOT, 'opa-compliance');

/** Topics the engine does not implement by design (network or cloud providers). */
export const OUT_OF_SCOPE = new Set(['graphql', 'providers-aws', 'netlookupipaddr']);

export interface ComplianceCase {
  note: string;
  query: string;
  modules?: string[];
  data?: unknown;
  input?: unknown;
  input_term?: string;
  want_result?: Record<string, unknown>[];
  want_error_code?: string;
  want_error?: string;
  strict_error?: boolean;
  sort_bindings?: boolean;
  ignore_generated_vars?: boolean;
  experimental_keywords?: boolean;
}

export interface LoadedCase {
  /** `v1/topic/file.yaml#index` */
  id: string;
  version: 'v0' | 'v1';
  topic: string;
  spec: ComplianceCase;
}

export function sharedAvailable(): boolean {
  return existsSync(SHARED_DIR);
}

export function loadCases(): LoadedCase[] {
  const out: LoadedCase[] = [];
  for (const version of ['v1', 'v0'] as const) {
    const versionDir = join(SHARED_DIR, version);
    for (const topic of readdirSync(versionDir).sort()) {
      if (OUT_OF_SCOPE.has(topic)) continue;
      const topicDir = join(versionDir, topic);
      for (const file of readdirSync(topicDir).sort()) {
        if (!file.endsWith('.yaml') && !file.endsWith('.yml')) continue;
        const doc = parseYaml(readFileSync(join(topicDir, file), 'utf8'), { version: '1.1', intAsBigInt: true }) as { cases?: ComplianceCase[] };
        (doc.cases ?? []).forEach((spec, index) => {
          out.push({ id: `${version}/${topic}/${file}#${index}`, version, topic, spec });
        });
      }
    }
  }
  return out;
}

export interface CaseOutcome {
  passed: boolean;
  reason?: string;
}

const LIMITS = { maxSteps: 2_000_000, timeoutMs: 5_000, maxResults: 10_000 };

export function runCase(c: LoadedCase): CaseOutcome {
  const spec = c.spec;
  let compiled;
  try {
    compiled = compile(
      (spec.modules ?? []).map((source, i) => ({ file: `test-${i}.rego`, source })),
      { regoVersion: c.version, experimentalKeywords: spec.experimental_keywords },
    );
  } catch (e) {
    return { passed: false, reason: `compile: ${short(e)}` };
  }
  const wantsError = spec.want_error_code !== undefined || spec.want_error !== undefined;
  let results;
  try {
    const input = spec.input_term !== undefined ? parseTerm(spec.input_term) : spec.input !== undefined ? fromJS(spec.input) : undefined;
    const data = spec.data !== undefined ? fromJS(spec.data) : new RObject();
    results = compiled.prepare(spec.query).eval({ input, data, strictBuiltinErrors: spec.strict_error ?? false, limits: LIMITS, now: BigInt(Date.now()) * 1_000_000n });
  } catch (e) {
    if (!wantsError) return { passed: false, reason: `error: ${short(e)}` };
    return checkError(spec, e);
  }
  if (wantsError) return { passed: false, reason: `expected error ${spec.want_error_code ?? ''} ${JSON.stringify(spec.want_error ?? '')}, got ${results.length} result(s)` };
  if (!spec.want_result) return { passed: false, reason: 'case has no expectation' };
  return compareResults(spec, results.map((r) => r.bindings));
}

function checkError(spec: ComplianceCase, e: unknown): CaseOutcome {
  const message = e instanceof Error ? e.message : String(e);
  if (spec.want_error_code !== undefined) {
    const code = e instanceof RegoError ? e.code : undefined;
    if (code !== spec.want_error_code) return { passed: false, reason: `want code ${spec.want_error_code}, got ${code ?? 'none'}: ${message.slice(0, 160)}` };
  }
  if (spec.want_error !== undefined && !message.includes(spec.want_error)) {
    return { passed: false, reason: `want error containing ${JSON.stringify(spec.want_error)}, got ${JSON.stringify(message.slice(0, 200))}` };
  }
  return { passed: true };
}

function compareResults(spec: ComplianceCase, actual: Record<string, Value>[]): CaseOutcome {
  const normalise = (bindings: Record<string, Value>): Value => {
    const obj = new RObject();
    for (const [name, value] of Object.entries(bindings)) {
      if (spec.ignore_generated_vars && name.startsWith('__localq')) continue;
      let json = fromJS(toJS(value));
      if (spec.sort_bindings && Array.isArray(json)) json = [...json].sort(compare);
      obj.set(name, json);
    }
    return obj;
  };
  const expected = (spec.want_result ?? []).map((r) => {
    const v = fromJS(r);
    if (!spec.sort_bindings || !(v instanceof RObject)) return v;
    const sorted = new RObject();
    for (const [k, x] of v.entries()) sorted.set(k, Array.isArray(x) ? [...x].sort(compare) : x);
    return sorted;
  });
  const got = actual.map(normalise);
  const wantKeys = new Set(expected.map(keyOf));
  const gotKeys = new Set(got.map(keyOf));
  const same = wantKeys.size === gotKeys.size && [...wantKeys].every((k) => gotKeys.has(k));
  if (same) return { passed: true };
  return { passed: false, reason: `result mismatch: want ${preview(expected)}, got ${preview(got)}` };
}

function preview(vs: Value[]): string {
  const text = JSON.stringify(vs.map((v) => toJS(v)), (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
  return text.length > 300 ? text.slice(0, 300) + '…' : text;
}

function short(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  const line = m.replace(/\s+/g, ' ');
  return line.length > 240 ? line.slice(0, 240) + '…' : line;
}
