// A thin node:http client for the benchmark. node:http streams request bodies with backpressure
// and costs less CPU per byte than fetch, which matters when client and server share two cores.
import { Agent, request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  /** Bytes received in the response body; `body` holds all of it with `keepBody`, else the first KiBs. */
  bodyLength: number;
  body: Buffer;
}

export interface HttpOptions {
  method: string;
  headers?: Record<string, string>;
  /** A whole body, or pieces written one at a time as the socket drains. */
  body?: Buffer | Iterable<Buffer>;
  keepBody?: boolean;
  timeoutMs?: number;
}

/** Sends one request and consumes the whole response; rejects on network errors or timeout. */
export function httpRequest(url: string, options: HttpOptions): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: options.method, headers: options.headers, agent }, (response) => {
      const kept: Buffer[] = [];
      let bodyLength = 0;
      response.on('data', (chunk: Buffer) => {
        // The first few KiB are always kept so error bodies can be shown; big bodies are counted only.
        if (options.keepBody || bodyLength < 4096) kept.push(chunk);
        bodyLength += chunk.length;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, bodyLength, body: Buffer.concat(kept) }),
      );
      response.on('error', reject);
    });
    outgoing.setTimeout(options.timeoutMs ?? 120_000, () => {
      outgoing.destroy(new Error(`${options.method} ${url} timed out`));
    });
    outgoing.on('error', reject);
    void writeBody(outgoing, options.body).catch((error: unknown) => outgoing.destroy(error as Error));
  });
}

async function writeBody(outgoing: ReturnType<typeof request>, body: HttpOptions['body']): Promise<void> {
  if (body === undefined || Buffer.isBuffer(body)) {
    outgoing.end(body);
    return;
  }
  for (const piece of body) {
    if (!outgoing.write(piece)) {
      // 'close' too: a server that answers early and hangs up would otherwise leave us waiting.
      const outcome = await new Promise<'drain' | 'close'>((resolve) => {
        const onDrain = (): void => settle('drain');
        const onClose = (): void => settle('close');
        const settle = (how: 'drain' | 'close'): void => {
          outgoing.off('drain', onDrain);
          outgoing.off('close', onClose);
          resolve(how);
        };
        outgoing.once('drain', onDrain);
        outgoing.once('close', onClose);
      });
      if (outcome === 'close') return;
    }
  }
  outgoing.end();
}

/** Throws with the response text when the status is not the expected one. */
export function expectStatus(result: HttpResult, expected: number, what: string): void {
  if (result.status === expected) return;
  throw new Error(`${what}: expected HTTP ${expected}, got ${result.status} ${result.body.toString().slice(0, 300)}`);
}

/** Resolves a Location header (absolute or relative) against the registry base URL. */
export function resolveLocation(baseUrl: string, result: HttpResult): URL {
  const location = result.headers.location;
  if (location === undefined) throw new Error('response has no Location header');
  return new URL(location, baseUrl);
}
