/**
 * Evaluates the stored policies that apply to a request. Policies are compiled once per version
 * and kept until the store's generation changes; each evaluation is bounded in time and steps, and
 * a policy that fails follows the failure mode: `closed` (default) counts the failure as a deny.
 *
 * Where policies run: each starts on the event loop with a small slice of budget (SLICE_MS, and
 * SLICE_WORK characters or elements of built-in work, no test.sleep). Nearly every policy ends
 * well within it, so the common decision costs no thread hop. One that does not is evaluated again
 * from the start on an evaluation thread (policy-threads.ts) under the full budget, and goes there
 * directly until an evaluation there is quick again; the event loop meanwhile serves other requests. So a runaway policy
 * holds the event loop for one slice at most, and the time limit holds on the thread.
 */
import { BudgetExceeded, fromJS, type EvalLimits, type Value } from '../rego/index.ts';
import { wildcardMatch } from '../../content/wildcard.ts';
import type { EnforcementPoint, PolicyMode, PolicyStore, StoredPolicy, Violation } from './policy-store.ts';
import { compileProgram, runProgram, type CompiledProgram, type PolicyOutcome, type PolicyProgram } from './policy-run.ts';
import type { PolicyThreads } from './policy-threads.ts';

/** Event-loop time a policy may take before it moves to a thread. */
export const SLICE_MS = 10;
/** Built-in work (characters or elements read and built) a policy may do on the event loop. */
export const SLICE_WORK = 128 * 1024;
/** Steps of one policy evaluation (both rules), wherever it runs. */
export const MAX_STEPS = 5_000_000;

export interface EngineSettings {
  readonly failureMode: 'closed' | 'open';
  readonly timeoutMs: number;
  /** How often, at most, the store is asked whether policies changed. */
  readonly refreshIntervalMs: number;
  /** Where policies that outgrow their event-loop slice run; without, every policy runs on the event loop under its full budget. */
  readonly threads?: PolicyThreads;
  /** Event-loop time a policy may take before it moves to a thread (default SLICE_MS). */
  readonly sliceMs?: number;
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
  readonly program: PolicyProgram;
  readonly compiled: CompiledProgram;
  /** Outgrew its event-loop slice: later evaluations go to a thread directly, until one is quick there. */
  slow: boolean;
}

/** One policy's result, or why it failed. */
type Settled = { readonly outcome: PolicyOutcome; readonly error?: undefined } | { readonly outcome?: undefined; readonly error: string };

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
    if (loaded.length > 0) this.#settings.threads?.prepare();
  }

  /** Whether any loaded policy is bound to the point at all (a cheap first test on hot paths). */
  hasPoint(point: EnforcementPoint): boolean {
    return this.#points.has(point);
  }

  applicable(point: EnforcementPoint, target: Target): StoredPolicy[] {
    return this.#applicable(point, target).map((policy) => policy.stored);
  }

  /** Evaluates every applicable policy against the input; a promise only when a policy went to a thread. */
  evaluate(point: EnforcementPoint, input: unknown, target: Target): Evaluation | Promise<Evaluation> {
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
export function evaluateDefinitions(policies: readonly StoredPolicy[], point: EnforcementPoint, input: unknown, target: Target, settings: EngineSettings): Evaluation | Promise<Evaluation> {
  return evaluatePolicies(policies.filter((policy) => applies(policy, point, target)).map(load), input, settings);
}

function evaluatePolicies(policies: readonly LoadedPolicy[], input: unknown, settings: EngineSettings): Evaluation | Promise<Evaluation> {
  const started = performance.now();
  let inputValue: Value | undefined;
  const value = () => (inputValue ??= fromJS(input));
  const settled: (Settled | Promise<Settled>)[] = [];
  let onThreads = false;
  for (const policy of policies) {
    const result = evaluatePolicy(policy, input, value, Date.now() + settings.timeoutMs, settings.threads, settings.sliceMs ?? SLICE_MS);
    onThreads ||= result instanceof Promise;
    settled.push(result);
  }
  if (!onThreads) return combine(policies, settled as Settled[], settings, started);
  return Promise.all(settled).then((results) => combine(policies, results, settings, started));
}

/** A policy on the event loop within its slice, or on a thread when it outgrows the slice (or did before). */
function evaluatePolicy(policy: LoadedPolicy, input: unknown, value: () => Value, deadline: number, threads: PolicyThreads | undefined, sliceMs: number): Settled | Promise<Settled> {
  const onThread = (): Promise<Settled> => {
    const sent = performance.now();
    return threads!.run(policy.program, input, deadline, MAX_STEPS).then((outcome) => {
      // Quick this time (the slice may have been cut short by a pause, or the input was easy): it gets the slice again.
      if (performance.now() - sent < SLICE_MS / 2) policy.slow = false;
      return { outcome };
    }, (error: unknown) => ({ error: (error as Error).message }));
  };
  if (threads && policy.slow) return onThread();
  const limits: EvalLimits = threads
    ? { deadline: Math.min(deadline, Date.now() + sliceMs), maxSteps: MAX_STEPS, maxWork: SLICE_WORK, allowSleep: false }
    : { deadline, maxSteps: MAX_STEPS };
  try {
    return { outcome: runProgram(policy.compiled, value(), limits) };
  } catch (error) {
    // Out of the slice's time or work, or sleeping: it needs more than the event loop gives. (Past
    // the size cap or the step limit, it would fail on a thread just the same.)
    if (threads && error instanceof BudgetExceeded && (error.limit === 'time' || error.limit === 'work' || error.limit === 'sleep')) {
      policy.slow = true;
      return onThread();
    }
    return { error: (error as Error).message };
  }
}

function combine(policies: readonly LoadedPolicy[], settled: readonly Settled[], settings: EngineSettings, started: number): Evaluation {
  const result: Evaluation = { allow: true, violations: [], quarantine: [], errors: [], policies: [], paths: [], durationMs: 0 };
  policies.forEach((policy, index) => {
    result.policies.push(policy.key);
    const base = `data.${policy.stored.package}`;
    result.paths.push(`${base}.deny`, `${base}.quarantine`);
    const { outcome, error } = settled[index]!;
    if (outcome) {
      for (const violation of outcome.violations) result.violations.push({ ...violation, policy: policy.stored.name, mode: policy.stored.mode });
      if (policy.stored.mode === 'enforce') for (const violation of outcome.quarantine) result.quarantine.push({ ...violation, policy: policy.stored.name });
      return;
    }
    result.errors.push(`policy ${policy.stored.name}: ${error}`);
    if (settings.failureMode === 'closed' && policy.stored.mode === 'enforce') {
      result.violations.push({ policy: policy.stored.name, mode: 'enforce', code: 'POLICY_ERROR', msg: `policy ${policy.stored.name} failed, and failure mode is closed: ${error}` });
    }
  });
  return {
    ...result,
    allow: !result.violations.some((violation) => violation.mode === 'enforce'),
    durationMs: performance.now() - started,
  };
}

function load(stored: StoredPolicy): LoadedPolicy {
  const key = `${stored.name}@${stored.version}:${stored.revision.slice(0, 12)}`;
  const program: PolicyProgram = { key, package: stored.package, modules: stored.modules, data: stored.data };
  return { stored, key, program, compiled: compileProgram(program), slow: false };
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
