/**
 * What the compiler may read: tables, their columns and types, and how each table's rows are
 * scoped to a caller. The usage store supplies the telemetry tables (usage/telemetry-schema.ts);
 * the compiler refuses every other name.
 */

/** `timestamp` is milliseconds since the epoch in SQL and an ISO 8601 string in results; `interval` is milliseconds. */
export type ValueType = 'integer' | 'real' | 'text' | 'boolean' | 'timestamp' | 'interval' | 'null';

export interface ColumnSchema {
  readonly name: string;
  readonly type: ValueType;
  readonly description: string;
}

export interface TableSchema {
  readonly name: string;
  readonly description: string;
  readonly columns: readonly ColumnSchema[];
  /** The column a caller's read scope filters on (rows of repositories, or of namespaces, they may read), or `administrators`: no rows for anyone else. */
  readonly scopedBy: 'repository' | 'namespace' | 'administrators';
}

/** Which rows a caller may see: everything (administrators, open mode), or rows of these repositories and namespaces. */
export type ReadScope =
  | { readonly all: true }
  | { readonly all: false; readonly repositories: readonly string[]; readonly namespaces: readonly string[] };
