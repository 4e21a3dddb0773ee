/**
 * POST /api/v1/query: a usage query in the body ({"query": "FROM pulls |> …"}), answered with its
 * columns and rows. Any authenticated caller may ask; the rows are those of repositories it may
 * pull (administrators and open mode see all).
 */
import { registryError } from '../../distribution/errors.ts';
import { readBody, sendJson, type RequestContext } from '../../distribution/http.ts';
import type { ApiRoute } from '../../server/api-routes.ts';
import { MAX_QUERY_LENGTH } from '../query/compiler.ts';
import { QueryError } from '../query/query-error.ts';
import { QueryFailure } from './query-runner.ts';
import { EVERYTHING, readScopeOf, type UsageQueries } from './usage-queries.ts';
import type { UsageStore } from './usage-store.ts';

export const QUERY_ROUTES: readonly ApiRoute[] = [
  // A query only reads: non-administrators may send one, though it comes as a POST body.
  { method: 'POST', path: '/api/v1/query', access: 'authenticated', writes: 'none' },
];

export async function handleQuery(ctx: RequestContext, queries: UsageQueries, store: UsageStore, flush: () => Promise<void>): Promise<boolean> {
  if (ctx.path !== '/api/v1/query' || ctx.method !== 'POST') return false;
  const text = queryText(await readBody(ctx.req, MAX_QUERY_LENGTH * 4 + 1024));
  const scope = !ctx.access || ctx.principal?.admin ? EVERYTHING : await readScopeOf(ctx.access, store);
  // What was recorded until now is part of the answer.
  await flush();
  try {
    const result = await queries.run(text, scope);
    sendJson(ctx.res, 200, result);
  } catch (error) {
    if (error instanceof QueryError) {
      throw registryError('BAD_REQUEST', { message: error.message, detail: { line: error.position.line, column: error.position.column } });
    }
    if (error instanceof QueryFailure) {
      if (error.kind === 'busy') throw registryError('TOOMANYREQUESTS', { message: error.message });
      if (error.kind === 'timeout') throw registryError('UNAVAILABLE', { message: error.message });
      throw registryError('BAD_REQUEST', { message: `the query could not run: ${error.message}` });
    }
    throw error;
  }
  return true;
}

function queryText(body: Buffer): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw registryError('BAD_REQUEST', { message: 'the body must be JSON: {"query": "FROM pulls |> …"}' });
  }
  const query = (parsed as { query?: unknown } | null)?.query;
  if (typeof query !== 'string' || query.trim() === '') throw registryError('BAD_REQUEST', { message: 'the body must have a "query" string' });
  return query;
}
