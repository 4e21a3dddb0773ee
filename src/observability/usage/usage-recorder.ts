/**
 * Keeps pull and push records in memory and writes them in batches, off the request path: a pull
 * costs an array push; every `flushIntervalMs` (or as soon as `flushRecords` are waiting) one
 * transaction writes them all. A crash loses at most the records of one interval, never a
 * registry change (those are in the metadata database, written before the record is made).
 */
import type { AuditRow, DecisionRow, TransferRecord, UsageStore } from './usage-store.ts';

export interface RecorderSettings {
  readonly flushIntervalMs: number;
  readonly flushRecords: number;
}

export class UsageRecorder {
  readonly #store: UsageStore;
  readonly #settings: RecorderSettings;
  readonly #onError: (error: unknown) => void;
  #pulls: TransferRecord[] = [];
  #pushes: TransferRecord[] = [];
  #decisions: DecisionRow[] = [];
  #audit: AuditRow[] = [];
  #timer: NodeJS.Timeout | undefined;
  #soon: NodeJS.Immediate | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(store: UsageStore, settings: RecorderSettings, onError: (error: unknown) => void) {
    this.#store = store;
    this.#settings = settings;
    this.#onError = onError;
  }

  start(): void {
    this.#timer = setInterval(() => void this.flush(), this.#settings.flushIntervalMs).unref();
  }

  recordPull(record: TransferRecord): void {
    this.#pulls.push(record);
    this.#flushWhenFull();
  }

  recordPush(record: TransferRecord): void {
    this.#pushes.push(record);
    this.#flushWhenFull();
  }

  recordDecisions(rows: readonly DecisionRow[]): void {
    this.#decisions.push(...rows);
    this.#flushWhenFull();
  }

  recordAudit(rows: readonly AuditRow[]): void {
    this.#audit.push(...rows);
    this.#flushWhenFull();
  }

  /** Records waiting to be written. */
  get pending(): number {
    return this.#pulls.length + this.#pushes.length + this.#decisions.length + this.#audit.length;
  }

  /** Writes everything recorded so far (after any write already under way). */
  flush(): Promise<void> {
    const batch = { pulls: this.#pulls, pushes: this.#pushes, decisions: this.#decisions, audit: this.#audit };
    this.#pulls = [];
    this.#pushes = [];
    this.#decisions = [];
    this.#audit = [];
    this.#flushing = this.#flushing.then(async () => {
      if (batch.pulls.length + batch.pushes.length + batch.decisions.length + batch.audit.length === 0) return;
      try {
        await this.#store.append(batch);
      } catch (error) {
        this.#onError(error);
      }
    });
    return this.#flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    if (this.#soon) clearImmediate(this.#soon);
    await this.flush();
  }

  #flushWhenFull(): void {
    if (this.pending < this.#settings.flushRecords || this.#soon) return;
    this.#soon = setImmediate(() => {
      this.#soon = undefined;
      void this.flush();
    });
  }
}
