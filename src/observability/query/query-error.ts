/** Where in the query text something is: 1-based line and column. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/** A query that cannot run as written; its message starts with the line and column it is about. */
export class QueryError extends Error {
  readonly position: Position;

  constructor(position: Position, problem: string) {
    super(`line ${position.line}, column ${position.column}: ${problem}`);
    this.name = 'QueryError';
    this.position = position;
  }
}
