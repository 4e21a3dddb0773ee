/**
 * Runs compiled usage queries in a child process with a deadline (see query-process.ts for why a
 * process). One query at a time; a few more may wait, past that the caller is told to come back.
 * A query past its deadline kills the process; the next query starts a new one.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CompiledQuery, ResultColumn } from '../query/compiler.ts';
import type { QueryRequest, QueryResponse } from './query-process.ts';

const PROCESS_PATH = fileURLToPath(new URL('./query-process.ts', import.meta.url));

export interface QueryResult {
  readonly columns: readonly ResultColumn[];
  /** Values as JSON has them: times as ISO 8601 strings, intervals in seconds, booleans as true/false. */
  readonly rows: readonly unknown[][];
  /** More rows matched than the row limit; `rows` holds the first ones. */
  readonly truncated: boolean;
  readonly elapsedMs: number;
}

export class QueryFailure extends Error {
  readonly kind: 'timeout' | 'busy' | 'failed';

  constructor(kind: 'timeout' | 'busy' | 'failed', message: string) {
    super(message);
    this.name = 'QueryFailure';
    this.kind = kind;
  }
}

export interface RunnerSettings {
  readonly database: string;
  readonly tables: readonly string[];
  readonly timeoutMs: number;
  readonly maxRows: number;
  /** Queries that may wait behind the running one. */
  readonly maxWaiting?: number;
}

export class QueryRunner {
  readonly #settings: RunnerSettings;
  #child: ChildProcess | undefined;
  #ready: Promise<ChildProcess> | undefined;
  #nextId = 1;
  #waiting = 0;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(settings: RunnerSettings) {
    this.#settings = settings;
  }

  run(compiled: CompiledQuery): Promise<QueryResult> {
    if (this.#closed) return Promise.reject(new QueryFailure('failed', 'the query runner is closed'));
    if (this.#waiting >= (this.#settings.maxWaiting ?? 8)) {
      return Promise.reject(new QueryFailure('busy', 'too many usage queries are waiting; try again shortly'));
    }
    this.#waiting++;
    const result = this.#tail.then(() => {
      this.#waiting--;
      return this.#runNow(compiled);
    });
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** The query process's id, while one runs (tests check a stopped one is gone). */
  get processId(): number | undefined {
    return this.#child?.pid;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#stop();
  }

  async #runNow(compiled: CompiledQuery): Promise<QueryResult> {
    const child = await this.#process();
    const request: QueryRequest = {
      id: this.#nextId++, database: this.#settings.database, tables: this.#settings.tables,
      sql: compiled.sql, params: compiled.params, maxRows: this.#settings.maxRows,
    };
    const started = performance.now();
    return new Promise<QueryResult>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      const onMessage = (response: QueryResponse) => {
        if (response.id !== request.id) return;
        finish();
        if ('error' in response) return reject(new QueryFailure('failed', response.error));
        resolve({ columns: compiled.columns, rows: response.rows.map((row) => formatRow(row, compiled.columns)), truncated: response.truncated, elapsedMs: performance.now() - started });
      };
      const onExit = () => {
        finish();
        if (this.#child === child) this.#child = undefined;
        reject(new QueryFailure('failed', 'the query process ended unexpectedly'));
      };
      const timer = setTimeout(() => {
        finish();
        this.#stop();
        reject(new QueryFailure('timeout', `the query ran longer than ${this.#settings.timeoutMs} ms and was stopped; narrow it with WHERE time > now() - INTERVAL … or a smaller LIMIT`));
      }, this.#settings.timeoutMs);
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.send(request);
    });
  }

  /** The query process, once it has started (its start-up does not count against a query's deadline). */
  #process(): Promise<ChildProcess> {
    if (!this.#child || !this.#ready) {
      // No inherited flags (a test runner's, an inspector's): the child is a plain script.
      const child = fork(PROCESS_PATH, [], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      this.#child = child;
      this.#ready = new Promise<ChildProcess>((resolve, reject) => {
        const onMessage = (message: unknown) => {
          if ((message as { ready?: boolean }).ready !== true) return;
          child.off('exit', onExit);
          child.off('message', onMessage);
          // An idle runner keeps no process alive; a running query is held by its deadline timer.
          child.unref();
          child.channel?.unref();
          resolve(child);
        };
        const onExit = () => {
          if (this.#child === child) this.#stop();
          reject(new QueryFailure('failed', 'the query process could not start'));
        };
        child.on('message', onMessage);
        child.on('exit', onExit);
        child.on('error', () => undefined);
      });
    }
    return this.#ready;
  }

  #stop(): void {
    const child = this.#child;
    this.#child = undefined;
    this.#ready = undefined;
    if (child && child.exitCode === null) child.kill('SIGKILL');
  }
}

function formatRow(row: unknown[], columns: readonly ResultColumn[]): unknown[] {
  return row.map((value, index) => {
    if (value === null || value === undefined) return null;
    switch (columns[index]?.type) {
      case 'timestamp': {
        const time = new Date(Number(value));
        return Number.isNaN(time.getTime()) ? null : time.toISOString();
      }
      case 'interval':
        return Number(value) / 1000;
      case 'boolean':
        return Number(value) !== 0;
      default:
        return value;
    }
  });
}
