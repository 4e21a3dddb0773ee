/**
 * Errors raised by the Rego engine, carrying OPA's error codes so callers (and the
 * compliance suite) can match on them.
 */

export interface Location {
  file: string;
  row: number;
  col: number;
}

export type RegoErrorCode =
  | 'rego_parse_error'
  | 'rego_compile_error'
  | 'rego_unsafe_var_error'
  | 'rego_recursion_error'
  | 'rego_type_error'
  | 'eval_conflict_error'
  | 'eval_builtin_error'
  | 'eval_type_error'
  | 'eval_cancel_error'
  | 'eval_limit_error';

export interface RegoErrorDetail {
  code: RegoErrorCode;
  message: string;
  location?: Location;
}

/** Formats one error as OPA does: `file:row:col: code: message` (location omitted when unknown). */
export function formatDetail(detail: RegoErrorDetail): string {
  const where = detail.location ? `${detail.location.file}:${detail.location.row}:${detail.location.col}: ` : '';
  return `${where}${detail.code}: ${detail.message}`;
}

/** One or more compile-time or run-time errors. */
export class RegoError extends Error {
  readonly errors: RegoErrorDetail[];

  constructor(errors: RegoErrorDetail[]) {
    super(errors.length === 1 ? formatDetail(errors[0]) : `${errors.length} errors occurred:\n${errors.map(formatDetail).join('\n')}`);
    this.name = 'RegoError';
    this.errors = errors;
  }

  /** The code of the first error (run-time errors always carry exactly one). */
  get code(): RegoErrorCode {
    return this.errors[0].code;
  }

  static single(code: RegoErrorCode, message: string, location?: Location): RegoError {
    return new RegoError([{ code, message, location }]);
  }
}

/** A run-time error: formatted `file:row: code: message` like OPA's topdown errors. */
export class RegoEvalError extends RegoError {
  constructor(code: RegoErrorCode, message: string, location?: Location) {
    super([{ code, message, location }]);
    const where = location ? `${location.file}:${location.row}: ` : '';
    this.message = `${where}${code}: ${message}`;
    this.name = 'RegoEvalError';
  }
}
