/**
 * Evaluates the stored policies that apply to a request. Policies are compiled once per version
 * and kept until the store's generation changes; each evaluation is bounded in time and steps, and
 * a policy that fails follows the failure mode: `closed` (default) counts the failure as a deny.
 */
import { compile, fromJS, toJS, RegoError, type PreparedQuery, type Value } from '../rego/index.ts';
import { wildcardMatch } from '../../content/wildcard.ts';
import type { EnforcementPoint, PolicyMode, PolicyStore, StoredPolicy, Violation } from './policy-store.ts';

export interface EngineSettings {
  readonly failureMode: 'closed' | 'open';
  readonly timeoutMs: number;
  /** How often, at most, the store is asked whether policies changed. */
  readonly refreshIntervalMs: number;
}

export interface Target {
  readonly repository?: string;
  readonly namespace?: string;
  readonly artifactType?: string;
}

export interface Evaluation {
  readonly allow: boolean;
  readonly violations: (Violation & { policy: string; mode: PolicyMode })[];
  readonly quarantine: (Violation & { policy: string })[];
  readonly errors: string[];
  /** `name@version:revision` of each policy evaluated. */
  readonly policies: string[];
  readonly paths: string[];
  readonly durationMs: number;
}

interface LoadedPolicy {
  readonly stored: StoredPolicy;
  readonly key: string;
  readonly data: Value;
  readonly deny: PreparedQuery;
  readonly quarantine: PreparedQuery;
}

export class PolicyEngine {
  readonly #store: PolicyStore;
  readonly #settings: EngineSettings;
  #policies: LoadedPolicy[] = [];
  #generation = -1;
  #checkedAt = 0;
  /** Applicable policies per point and target, for the loaded generation. */
  readonly #applicableCache = new Map<string, LoadedPolicy[]>();
  /** Points at least one loaded policy is bound to. */
  #points = new Set<EnforcementPoint>();

  constructor(store: PolicyStore, settings: EngineSettings) {
    this.#store = store;
    this.#settings = settings;
  }

  /** The generation the loaded policies belong to; caches key on it. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Reloads the policies when the store changed, asking it at most every refreshIntervalMs.
   * Returns nothing when it is not time to ask, so hot paths need not await.
   */
  refresh(force = false, now = Date.now()): Promise<void> | undefined {
    if (!force && now - this.#checkedAt < this.#settings.refreshIntervalMs) return undefined;
    this.#checkedAt = now;
    return this.#reload();
  }

  async #reload(): Promise<void> {
    const generation = await this.#store.generation();
    if (generation === this.#generation) return;
    const loaded: LoadedPolicy[] = [];
    for (const stored of await this.#store.listPolicies()) loaded.push(load(stored));
    this.#policies = loaded;
    this.#points = new Set(loaded.flatMap((policy) => policy.stored.binding.points));
    this.#generation = generation;
    this.#applicableCache.clear();
  }

  /** Whether any loaded policy is bound to the point at all (a cheap first test on hot paths). */
  hasPoint(point: EnforcementPoint): boolean {
    return this.#points.has(point);
  }

  applicable(point: EnforcementPoint, target: Target): StoredPolicy[] {
    return this.#applicable(point, target).map((policy) => policy.stored);
  }

  /** Evaluates every applicable policy against the input. */
  evaluate(point: EnforcementPoint, input: unknown, target: Target): Evaluation {
    return evaluatePolicies(this.#applicable(point, target), input, this.#settings);
  }

  #applicable(point: EnforcementPoint, target: Target): LoadedPolicy[] {
    const key = `${point}\0${target.repository ?? ''}\0${target.namespace ?? ''}\0${target.artifactType ?? ''}`;
    let policies = this.#applicableCache.get(key);
    if (!policies) {
      policies = this.#policies.filter((policy) => applies(policy.stored, point, target));
      if (this.#applicableCache.size > 10_000) this.#applicableCache.clear();
      this.#applicableCache.set(key, policies);
    }
    return policies;
  }
}

/** Evaluates policies that are not stored (a simulation) the same way. */
export function evaluateDefinitions(policies: readonly StoredPolicy[], point: EnforcementPoint, input: unknown, target: Target, settings: EngineSettings): Evaluation {
  return evaluatePolicies(policies.filter((policy) => applies(policy, point, target)).map(load), input, settings);
}

function evaluatePolicies(policies: readonly LoadedPolicy[], input: unknown, settings: EngineSettings): Evaluation {
  const started = performance.now();
  const inputValue = fromJS(input);
  const result: Evaluation = { allow: true, violations: [], quarantine: [], errors: [], policies: [], paths: [], durationMs: 0 };
  for (const policy of policies) {
    result.policies.push(policy.key);
    const base = `data.${policy.stored.package}`;
    result.paths.push(`${base}.deny`, `${base}.quarantine`);
    try {
      const limits = { timeoutMs: settings.timeoutMs, maxSteps: 5_000_000 };
      for (const violation of violationsOf(policy.deny.eval({ input: inputValue, data: policy.data, limits }))) {
        result.violations.push({ ...violation, policy: policy.stored.name, mode: policy.stored.mode });
      }
      for (const violation of violationsOf(policy.quarantine.eval({ input: inputValue, data: policy.data, limits }))) {
        if (policy.stored.mode === 'enforce') result.quarantine.push({ ...violation, policy: policy.stored.name });
      }
    } catch (error) {
      const message = error instanceof RegoError ? error.message : (error as Error).message;
      result.errors.push(`policy ${policy.stored.name}: ${message}`);
      if (settings.failureMode === 'closed' && policy.stored.mode === 'enforce') {
        result.violations.push({ policy: policy.stored.name, mode: 'enforce', code: 'POLICY_ERROR', msg: `policy ${policy.stored.name} failed, and failure mode is closed: ${message}` });
      }
    }
  }
  return {
    ...result,
    allow: !result.violations.some((violation) => violation.mode === 'enforce'),
    durationMs: performance.now() - started,
  };
}

function load(stored: StoredPolicy): LoadedPolicy {
  const compiled = compile([...stored.modules]);
  return {
    stored,
    key: `${stored.name}@${stored.version}:${stored.revision.slice(0, 12)}`,
    data: fromJS(stored.data),
    deny: compiled.prepare(`x := data.${stored.package}.deny`),
    quarantine: compiled.prepare(`x := data.${stored.package}.quarantine`),
  };
}

function applies(policy: StoredPolicy, point: EnforcementPoint, target: Target): boolean {
  const { binding } = policy;
  if (!binding.points.includes(point)) return false;
  return matchesAny(binding.namespaces, target.namespace) && matchesAny(binding.repositories, target.repository)
    && matchesAny(binding.artifactTypes, target.artifactType);
}

/** An empty pattern list matches everything; a list matches an unknown value only through `*`. */
function matchesAny(patterns: readonly string[], value: string | undefined): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((pattern) => pattern === '*' || (value !== undefined && wildcardMatch(pattern, value)));
}

/** The members of the `deny`/`quarantine` set, as violations; undefined rules give none. */
function violationsOf(results: ReturnType<PreparedQuery['eval']>): Violation[] {
  const value = results[0]?.bindings.x;
  if (value === undefined) return [];
  const members = toJS(value);
  const list = Array.isArray(members) ? members : [members];
  return list.map(toViolation);
}

function toViolation(member: unknown): Violation {
  if (typeof member === 'string') return { msg: member };
  if (typeof member === 'object' && member !== null && !Array.isArray(member)) {
    const { msg, code, details } = member as Record<string, unknown>;
    return {
      msg: typeof msg === 'string' ? msg : JSON.stringify(member),
      ...(typeof code === 'string' ? { code } : {}),
      ...(details === undefined ? {} : { details }),
    };
  }
  return { msg: JSON.stringify(member) };
}
