/**
 * One policy's `deny` and `quarantine` rules evaluated under one budget: the part of the engine
 * that runs both on the event loop (the first slice of every evaluation) and on the evaluation
 * threads (policy-worker.ts), so both judge alike.
 */
import { compile, fromJS, toJS, type EvalLimits, type PreparedQuery, type Value } from '../rego/index.ts';
import type { Violation } from './policy-store.ts';

/** What a thread needs to compile a policy: plain data, so it can be posted. */
export interface PolicyProgram {
  /** `name@version:revision`: the same key always means the same program. */
  readonly key: string;
  readonly package: string;
  readonly modules: readonly { readonly file: string; readonly source: string }[];
  readonly data: Readonly<Record<string, unknown>>;
}

export interface CompiledProgram {
  readonly data: Value;
  readonly deny: PreparedQuery;
  readonly quarantine: PreparedQuery;
}

export interface PolicyOutcome {
  readonly violations: Violation[];
  readonly quarantine: Violation[];
}

export function compileProgram(program: PolicyProgram): CompiledProgram {
  const compiled = compile([...program.modules]);
  return {
    data: fromJS(program.data),
    deny: compiled.prepare(`x := data.${program.package}.deny`),
    quarantine: compiled.prepare(`x := data.${program.package}.quarantine`),
  };
}

/** Evaluates both rules under the same limits (one deadline for the two); throws RegoError. */
export function runProgram(program: CompiledProgram, input: Value, limits: EvalLimits): PolicyOutcome {
  return {
    violations: violationsOf(program.deny.eval({ input, data: program.data, limits })),
    quarantine: violationsOf(program.quarantine.eval({ input, data: program.data, limits })),
  };
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
