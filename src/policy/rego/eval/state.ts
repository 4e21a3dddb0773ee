/**
 * Per-query evaluation state: the input, the base data (with `with data…` overrides applied),
 * function mocks, caches of rule results, and the limits that bound an evaluation.
 */
import type { Value } from '../value.ts';
import { RObject } from '../value.ts';
import { RegoEvalError, type Location } from '../errors.ts';

export interface EvalLimits {
  /** Maximum number of expression evaluations (default 10 million). */
  maxSteps?: number;
  /** Wall-clock budget in milliseconds (default 10 seconds). */
  timeoutMs?: number;
  /** Maximum number of query results (default 100,000). */
  maxResults?: number;
}

export type FunctionMock = { kind: 'value'; value: Value } | { kind: 'function'; name: string };

/** Sentinel stored in caches for "computed, and undefined". */
export const UNDEFINED_RESULT = Symbol('undefined');
export type Cached = Value | typeof UNDEFINED_RESULT;

const NO_OVERRIDES = new Map<string, { path: string[]; value: Value }>();
const NO_MOCKS = new Map<string, FunctionMock>();

export class EvalState {
  readonly input: Value | undefined;
  readonly data: RObject;
  /** `with data.<path> as v` replacements, by dotted path key (`a\u0000b`). */
  readonly overrides: Map<string, { path: string[]; value: Value }>;
  readonly mocks: Map<string, FunctionMock>;
  readonly docCache = new Map<number, Cached>();
  /** Nodes whose rules are being evaluated: re-entering one means recursion. */
  readonly inProgress = new Set<number>();

  /**
   * Without `with`, overrides and mocks are shared empty maps: a query evaluation then
   * allocates only what it uses. (Only `with` builds non-empty ones, always fresh.)
   */
  constructor(input: Value | undefined, data: RObject, overrides: Map<string, { path: string[]; value: Value }> = NO_OVERRIDES, mocks: Map<string, FunctionMock> = NO_MOCKS) {
    this.input = input;
    this.data = data;
    this.overrides = overrides;
    this.mocks = mocks;
  }
}

/** Counts steps and checks the clock; shared by every state of one query evaluation. */
export class Budget {
  private steps = 0;
  private readonly maxSteps: number;
  private readonly deadline: number;
  readonly maxResults: number;

  constructor(limits: EvalLimits = {}) {
    this.maxSteps = limits.maxSteps ?? 10_000_000;
    this.deadline = Date.now() + (limits.timeoutMs ?? 10_000);
    this.maxResults = limits.maxResults ?? 100_000;
  }

  step(loc: Location | undefined): void {
    this.steps++;
    if (this.steps > this.maxSteps) throw new RegoEvalError('eval_limit_error', `evaluation exceeded the step limit (${this.maxSteps})`, loc);
    if ((this.steps & 1023) === 0 && Date.now() > this.deadline) throw new RegoEvalError('eval_cancel_error', 'evaluation exceeded the time limit', loc);
  }
}
