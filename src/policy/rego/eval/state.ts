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
  /** Absolute deadline (`Date.now()` time); when given, it wins over timeoutMs. */
  deadline?: number;
  /** Maximum number of query results (default 100,000). */
  maxResults?: number;
  /**
   * Largest string, array, set or object one built-in may build, in characters or elements
   * (default {@link DEFAULT_MAX_VALUE_CELLS}).
   */
  maxValueCells?: number;
  /** Most work built-ins may do, in characters or elements read and built (default unbounded). */
  maxWork?: number;
  /** Whether test.sleep may pause the thread (default true); when false, a sleep exceeds the budget. */
  allowSleep?: boolean;
}

/** 16 Mi characters (32 MiB as UTF-16) or elements: far above what a policy needs, far below what stalls a process. */
export const DEFAULT_MAX_VALUE_CELLS = 16 * 1024 * 1024;

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

/** Which limit an evaluation exceeded. */
export type BudgetLimit = 'time' | 'steps' | 'work' | 'size' | 'sleep';

/**
 * An evaluation's budget exceeded: always fails the evaluation (never a built-in error that
 * non-strict evaluation drops). `limit` says which, so a caller that evaluates under a small
 * budget first can tell "needs more time" from "would fail anyway".
 */
export class BudgetExceeded extends RegoEvalError {
  readonly limit: BudgetLimit;

  constructor(limit: BudgetLimit, message: string, loc?: Location) {
    super(limit === 'time' ? 'eval_cancel_error' : 'eval_limit_error', message, loc);
    this.limit = limit;
  }
}

/** Work units (characters or elements) between two looks at the clock: well under a millisecond of work. */
const WORK_PER_CLOCK_CHECK = 64 * 1024;

/**
 * Counts steps and built-in work and checks the clock; shared by every state of one query
 * evaluation. A step is one expression; work is what built-ins report in proportion to the
 * characters and elements they read and build (see BuiltinContext.budget), so one built-in call
 * that does a lot counts for a lot and cannot outrun the deadline. Every error it throws is a
 * RegoEvalError, which fails the evaluation even outside strict built-in errors.
 */
export class Budget {
  private steps = 0;
  private readonly maxSteps: number;
  readonly deadline: number;
  readonly maxResults: number;
  readonly maxValueCells: number;
  private readonly maxWork: number;
  private readonly allowSleep: boolean;
  private work = 0;
  private workAtNextCheck = WORK_PER_CLOCK_CHECK;

  constructor(limits: EvalLimits = {}) {
    this.maxSteps = limits.maxSteps ?? 10_000_000;
    this.deadline = limits.deadline ?? Date.now() + (limits.timeoutMs ?? 10_000);
    this.maxResults = limits.maxResults ?? 100_000;
    this.maxValueCells = limits.maxValueCells ?? DEFAULT_MAX_VALUE_CELLS;
    this.maxWork = limits.maxWork ?? Number.POSITIVE_INFINITY;
    this.allowSleep = limits.allowSleep ?? true;
  }

  step(loc: Location | undefined): void {
    this.steps++;
    if (this.steps > this.maxSteps) throw new BudgetExceeded('steps', `evaluation exceeded the step limit (${this.maxSteps})`, loc);
    if ((this.steps & 1023) === 0) this.checkClock(loc);
  }

  /** Counts `units` of built-in work; looks at the clock every WORK_PER_CLOCK_CHECK units. */
  charge(units: number): void {
    this.work += units;
    if (this.work < this.workAtNextCheck) return;
    if (this.work > this.maxWork) throw new BudgetExceeded('work', `evaluation exceeded the work limit (${this.maxWork} characters or elements)`);
    this.workAtNextCheck = this.work + WORK_PER_CLOCK_CHECK;
    this.checkClock(undefined);
  }

  /**
   * Before a built-in builds a value of `cells` characters or elements: fails past the size cap
   * (so the value is never built), and counts the building as work.
   */
  reserve(cells: number, what: string): void {
    if (cells > this.maxValueCells) {
      throw new BudgetExceeded('size', `${what}: result too large (${cells} characters or elements; at most ${this.maxValueCells})`);
    }
    this.charge(cells);
  }

  /** Text grown by `added` characters to `length` so far: counts the work, fails past the size cap. */
  grew(added: number, length: number, what: string): void {
    if (length > this.maxValueCells) this.reserve(length, what);
    this.charge(added);
  }

  /** test.sleep: pauses, unless the pause would end past the deadline (then it fails now). */
  sleep(ms: number): void {
    if (!this.allowSleep) throw new BudgetExceeded('sleep', 'test.sleep is not allowed in this evaluation');
    if (Date.now() + ms > this.deadline) throw new BudgetExceeded('time', 'evaluation exceeded the time limit (test.sleep past the deadline)');
    if (ms > 0) Atomics.wait(SLEEP_CELL, 0, 0, ms); // a synchronous pause: evaluation is synchronous
  }

  private checkClock(loc: Location | undefined): void {
    if (Date.now() > this.deadline) throw new BudgetExceeded('time', 'evaluation exceeded the time limit', loc);
  }
}

const SLEEP_CELL = new Int32Array(new SharedArrayBuffer(4));
