/**
 * `wharf query QUERY [--format table|json|csv] [--data-dir DIR | --server URL]`: a usage query in
 * pipe SQL (src/observability/query), on a running server (POST /api/v1/query, rows of the
 * repositories the caller may pull) or on a data folder's telemetry.db (every row).
 */
import { parseArgs } from 'node:util';
import { UnreachableError } from '../client/fetch-errors.ts';
import { QueryError } from '../observability/query/query-error.ts';
import type { ResultColumn } from '../observability/query/compiler.ts';
import { QueryFailure } from '../observability/usage/query-runner.ts';
import { SqliteUsageStore, telemetryDatabasePath } from '../observability/usage/sqlite-usage-store.ts';
import { EVERYTHING, UsageQueries } from '../observability/usage/usage-queries.ts';
import { requireDataFolder, resolveTarget, TargetError } from './admin-target.ts';
import { COMMAND_TABLE, parseOptions } from './command-table.ts';
import { ServerClient, ServerError } from './server-client.ts';

interface Answer {
  readonly columns: readonly ResultColumn[];
  readonly rows: readonly (readonly unknown[])[];
  readonly truncated: boolean;
}

const FORMATS = ['table', 'json', 'csv'] as const;

export async function queryCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: parseOptions(COMMAND_TABLE.query!.self!.flags), allowPositionals: true, strict: true });
  const format = (values.format ?? 'table') as string;
  try {
    if (!(FORMATS as readonly string[]).includes(format)) throw new TargetError(`--format is one of ${FORMATS.join(', ')}, not "${format}"`);
    if (positionals.length !== 1 || positionals[0]!.trim() === '') throw new TargetError("give the query as one argument, in quotes: wharf query 'FROM pulls |> LIMIT 10'");
    const text = positionals[0]!;
    const target = resolveTarget(values as Record<string, string | undefined>);
    let answer: Answer;
    if (target.kind === 'server') {
      answer = await new ServerClient(target.url, target.credentials).call('POST', '/api/v1/query', { query: text }) as Answer;
    } else {
      requireDataFolder(target);
      answer = await queryFolder(target.config.data, target.config.observability.query, text);
    }
    process.stdout.write(formatAnswer(answer, format as (typeof FORMATS)[number]));
    if (answer.truncated) console.error(`wharf query: the result was cut at ${answer.rows.length} rows (observability.query.maxRows); narrow the query or add LIMIT`);
    return 0;
  } catch (error) {
    if (error instanceof QueryError || error instanceof QueryFailure || error instanceof TargetError || error instanceof ServerError || error instanceof UnreachableError) {
      console.error(`wharf query: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

async function queryFolder(dataDir: string, settings: { timeoutMs: number; maxRows: number }, text: string): Promise<Answer> {
  // A folder whose server never recorded anything still answers (with no rows).
  const store = new SqliteUsageStore(telemetryDatabasePath(dataDir));
  await store.migrate();
  await store.close();
  const queries = new UsageQueries(dataDir, settings);
  try {
    return await queries.run(text, EVERYTHING);
  } finally {
    await queries.close();
  }
}

export function formatAnswer(answer: Answer, format: 'table' | 'json' | 'csv'): string {
  const names = answer.columns.map((column) => column.name);
  if (format === 'json') {
    return `${JSON.stringify(answer.rows.map((row) => Object.fromEntries(names.map((name, index) => [name, row[index] ?? null]))), null, 2)}\n`;
  }
  if (format === 'csv') {
    const cell = (value: unknown) => {
      const text = value === null || value === undefined ? '' : String(value);
      return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    };
    return [names, ...answer.rows].map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
  }
  if (answer.rows.length === 0) return `${names.join('  ')}\n(no rows)\n`;
  const text = (value: unknown) => (value === null || value === undefined ? '' : String(value));
  const widths = names.map((name, index) => Math.max(name.length, ...answer.rows.map((row) => text(row[index]).length)));
  const numeric = answer.columns.map((column) => column.type === 'integer' || column.type === 'real' || column.type === 'interval');
  const line = (cells: string[]) => cells.map((cell, index) => (numeric[index] ? cell.padStart(widths[index]!) : cell.padEnd(widths[index]!))).join('  ').trimEnd();
  return [line(names), ...answer.rows.map((row) => line(row.map(text)))].join('\n') + '\n';
}
