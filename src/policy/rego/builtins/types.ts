/** The contract between the evaluator and every built-in function. */
import type { Value } from '../value.ts';

/** A built-in's own failure: the evaluator reports it as `eval_builtin_error: <name>: <message>`. */
export class BuiltinError extends Error {}

/** A wrong operand type: reported as `eval_type_error: <name>: <message>`, e.g. message
 *  "operand 1 must be string but got number". */
export class BuiltinTypeError extends Error {}

export interface BuiltinContext {
  /** time.now_ns(), fixed for one query evaluation. */
  readonly nowNs: bigint;
  /** Per-query cache: non-deterministic built-ins return the same value for the same args. */
  readonly cache: Map<string, Value>;
  /** Strict built-in errors. */
  readonly strict: boolean;
  /**
   * The evaluation's budget (absent when a built-in is called on its own, as in unit tests).
   * Built-ins whose work can grow far beyond their operands report it here, before building
   * and as they go; its errors are budget errors, which always fail the evaluation.
   */
  readonly budget?: WorkBudget;
}

/** What a built-in sees of the evaluation's budget (see Budget in eval/state.ts). */
export interface WorkBudget {
  /** The size cap: most characters or elements one built-in may build. */
  readonly maxValueCells: number;
  /** Counts `units` characters or elements of work; throws past the deadline or the work limit. */
  charge(units: number): void;
  /** Before building a value of `cells` characters or elements: throws past the size cap, else counts it as work. */
  reserve(cells: number, what: string): void;
  /** Output grown by `added` characters to `length`: counts the work, throws past the size cap. */
  grew(added: number, length: number, what: string): void;
  /** Pauses `ms` milliseconds; throws instead when that would pass the deadline. */
  sleep(ms: number): void;
}

/** Returns the result, or undefined when the call is undefined. Throws BuiltinError/BuiltinTypeError. */
export type BuiltinFn = (args: Value[], ctx: BuiltinContext) => Value | undefined;

/** The same for a built-in of two operands, taking them directly. */
export type BinaryFn = (a: Value, b: Value, ctx: BuiltinContext) => Value | undefined;

export interface BuiltinDecl {
  /** e.g. "strings.replace_n" */
  name: string;
  fn: BuiltinFn;
  /** Operand types in OPA's notation: "string", "number", "any", "array[string]", "set[any]",
   *  "object[string: any]", "any<string, number>" … */
  args: string[];
  /** Result type, same notation. */
  result: string;
  nondeterministic?: boolean;
  /** v0-only built-ins (all, any, re_match, set_diff, cast_*, net.cidr_overlap). */
  deprecated?: boolean;
  /** "+", "==", … for operators. */
  infix?: string;
  /**
   * For the most frequent two-operand built-ins (comparisons, arithmetic, string tests): the
   * built-in taking its operands directly, which spares the evaluator an argument array per
   * call. `fn` is then derived from it (see `binaryBuiltin`), so both behave alike.
   */
  binary?: BinaryFn;
}

/** A two-operand built-in defined by its `binary` form. */
export function binaryBuiltin(decl: Omit<BuiltinDecl, 'fn' | 'binary'>, binary: BinaryFn): BuiltinDecl {
  return { ...decl, binary, fn: (args, ctx) => binary(args[0]!, args[1]!, ctx) };
}
