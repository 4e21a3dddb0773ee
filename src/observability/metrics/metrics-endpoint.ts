/**
 * GET /metrics and who may read it.
 *
 *   - `metrics.token` set: a scraper sending `Authorization: Bearer <token>` may read it;
 *   - on the main listener with authentication on, an administrator may read it too, and nobody
 *     else: the figures name namespaces and policies, which anonymous callers must not see;
 *   - otherwise (open mode, or the separate `metrics.listen` listener without a token) anyone who
 *     reaches the listener may read it: put that listener where only the scraper reaches it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registryError } from '../../distribution/errors.ts';
import type { RequestContext } from '../../distribution/http.ts';
import { writeError } from '../../server/error-response.ts';
import type { Logger } from '../../server/logger.ts';
import { contentTypeOf, formatFor } from './exposition.ts';
import type { WharfMetrics } from './wharf-metrics.ts';

export class MetricsEndpoint {
  readonly #metrics: WharfMetrics;
  readonly #token: Buffer | undefined;
  constructor(metrics: WharfMetrics, token: string) {
    this.#metrics = metrics;
    this.#token = token === '' ? undefined : digestOf(token);
  }

  /** Answers GET/HEAD /metrics to a caller with the token or, when `requireAdministrator` is given, an administrator. */
  async serve(ctx: RequestContext, requireAdministrator?: (ctx: RequestContext) => Promise<unknown>): Promise<void> {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      throw registryError('UNSUPPORTED', { message: `${ctx.method} is not supported here`, headers: { allow: 'GET, HEAD' } });
    }
    if (!this.#presentsToken(ctx)) {
      if (requireAdministrator) await requireAdministrator(ctx);
      else if (this.#token) {
        throw registryError('UNAUTHORIZED', { message: 'metrics need the bearer token of metrics.token', headers: { 'www-authenticate': 'Bearer realm="wharf-metrics"' } });
      }
    }
    const format = formatFor(ctx.req.headers.accept);
    const body = Buffer.from(await this.#metrics.scrape(format));
    ctx.res.writeHead(200, { 'content-type': contentTypeOf(format), 'content-length': body.byteLength, 'cache-control': 'no-store' });
    ctx.res.end(ctx.method === 'HEAD' ? undefined : body);
  }

  #presentsToken(ctx: RequestContext): boolean {
    const header = ctx.req.headers.authorization;
    if (!this.#token || header === undefined || !/^bearer /i.test(header)) return false;
    // Digests of equal length, so the comparison takes the same time whatever was sent.
    return timingSafeEqual(digestOf(header.slice(7).trim()), this.#token);
  }
}

function digestOf(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export interface MetricsListener {
  readonly url: string;
  close(): Promise<void>;
}

/** A listener of its own that serves only /metrics (`metrics.listen`). */
export async function listenForMetrics(endpoint: MetricsEndpoint, hostPort: string, logger: Logger): Promise<MetricsListener> {
  const colon = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(hostPort.slice(colon + 1));
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const ctx: RequestContext = { req, res, method: req.method ?? 'GET', path, query: new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1)) };
    const answer = path === '/metrics'
      ? endpoint.serve(ctx)
      : Promise.reject(registryError('NOT_FOUND', { message: `this listener serves only /metrics, not ${path}` }));
    answer.catch((error: unknown) => {
      const { internal } = writeError(res, error);
      if (internal) logger.error({ err: error, path }, 'metrics request failed');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`config key metrics.listen: cannot listen on ${hostPort}: ${error.message}`)));
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
