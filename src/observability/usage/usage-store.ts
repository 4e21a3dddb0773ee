/**
 * Where telemetry is kept: the tables of telemetry-schema.ts, written in batches and pruned by
 * age. SQLite now (sqlite-usage-store.ts); a PostgreSQL store would implement the same interface
 * and the query compiler would gain a dialect.
 */

/** One pull or push: a manifest or blob sent or received. */
export interface TransferRecord {
  readonly time: number;
  readonly repository: string;
  readonly digest: string;
  readonly tag?: string;
  readonly kind: 'manifest' | 'blob';
  readonly bytes: number;
  readonly identity: string;
  readonly clientAddress?: string;
  readonly userAgent?: string;
}

/** One policy decision, one row per violated policy (or one with no policy when nothing was violated). */
export interface DecisionRow {
  readonly id: string;
  readonly time: number;
  readonly repository?: string;
  readonly digest?: string;
  readonly point: string;
  readonly identity: string;
  readonly allowed: boolean;
  readonly policy?: string;
  readonly mode?: string;
  readonly message?: string;
}

/** One entry of the identity audit trail. */
export interface AuditRow {
  readonly time: number;
  readonly identity: string;
  readonly action: string;
  readonly resource: string;
  readonly allowed: boolean;
  readonly reason: string;
  readonly clientAddress?: string;
}

export interface StorageRow {
  readonly namespace: string;
  readonly bytes: number;
  readonly repositories: number;
  readonly artifacts: number;
}

/** A manifest the registry holds, under one of its tags (or none). */
export interface ArtifactRow {
  readonly repository: string;
  readonly digest: string;
  readonly tag?: string;
  readonly mediaType: string;
  readonly pushed?: number;
}

export interface TelemetryBatch {
  readonly pulls: readonly TransferRecord[];
  readonly pushes: readonly TransferRecord[];
  readonly decisions: readonly DecisionRow[];
  readonly audit?: readonly AuditRow[];
}

export interface UsageStore {
  migrate(): Promise<void>;
  /** Writes a batch in one transaction. */
  append(batch: TelemetryBatch): Promise<void>;
  /** Records the storage of each namespace for the day `day` (00:00 UTC, ms), replacing an earlier measurement of that day. */
  putStorage(day: number, rows: readonly StorageRow[]): Promise<void>;
  /** Replaces the inventory of what the registry holds. */
  replaceArtifacts(rows: readonly ArtifactRow[]): Promise<void>;
  /** Deletes rows older than `before` (ms); returns how many. */
  prune(before: number): Promise<number>;
  /** Every repository telemetry has a row about, for working out what a caller may read. */
  knownRepositories(): Promise<string[]>;
  /** Every namespace with a storage measurement. */
  knownNamespaces(): Promise<string[]>;
  /** The newest decision time mirrored so far (0 when none). */
  latestDecisionTime(): Promise<number>;
  /** The newest audit entry time mirrored so far (0 when none). */
  latestAuditTime(): Promise<number>;
  close(): Promise<void>;
}
