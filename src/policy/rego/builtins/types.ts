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
}

/** Returns the result, or undefined when the call is undefined. Throws BuiltinError/BuiltinTypeError. */
export type BuiltinFn = (args: Value[], ctx: BuiltinContext) => Value | undefined;

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
}
