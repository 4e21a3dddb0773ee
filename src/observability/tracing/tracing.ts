/**
 * OpenTelemetry traces, loaded only when `tracing.otlpEndpoint` is set (metrics-extension.ts
 * imports this module dynamically). Each request runs in a server span named by its route
 * template, continuing the caller's trace when it sends a W3C `traceparent`, and answers with the
 * `traceparent` of its own span. Blob store, metadata store and policy evaluations called while it
 * runs become child spans: their instances are decorated once at start-up (see decorate.ts), so no
 * call site changes and nothing is wrapped when tracing is off. Spans leave in batches over
 * OTLP/HTTP with JSON encoding.
 *
 * The active span travels in an AsyncLocalStorage of this module, not in OpenTelemetry's global
 * context manager, so two registries in one process (the tests) keep their traces apart.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type TextMapGetter, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestContext } from '../../distribution/http.ts';
import type { RegistryDeps } from '../../distribution/registry-deps.ts';
import type { RunningExtension } from '../../server/extension.ts';
import type { Logger } from '../../server/logger.ts';
import type { TracingConfig } from '../metrics/observability-keys.ts';
import { routeTemplate } from '../metrics/wharf-metrics.ts';
import { traceMethods } from './decorate.ts';

export interface RunningTracing {
  /** Runs a request's handling in a span; returns the trace id for its log line. */
  around(ctx: RequestContext, handle: () => Promise<void>): Promise<string>;
  /** Sends the spans still queued, then stops. */
  close(): Promise<void>;
}

const HEADER_GETTER: TextMapGetter<IncomingHttpHeaders> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => headers[key.toLowerCase()],
};

const BLOB_STORE_METHODS = ['stat', 'open', 'append', 'stagedSize', 'readStaged', 'commit', 'discard', 'delete', 'listStaged', 'check'];

export async function startTracing(
  settings: TracingConfig, registry: RegistryDeps, running: ReadonlyMap<string, RunningExtension>, logger: Logger,
): Promise<RunningTracing> {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName }),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: settings.otlpEndpoint }), scheduledDelayMillis: 1000 })],
  });
  const tracer: Tracer = provider.getTracer('wharf');
  const propagator = new W3CTraceContextPropagator();
  const active = new AsyncLocalStorage<Context>();

  traceMethods(registry.blobs, BLOB_STORE_METHODS, { tracer, active, prefix: 'storage.blobs', attributes: { 'wharf.storage': 'blobs' } });
  traceMethods(registry.metadata, publicMethodsOf(registry.metadata, ['migrate', 'close']), {
    tracer, active, prefix: 'db', kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'sqlite' },
  });
  const policy = running.get('policy') as (RunningExtension & { service?: object }) | undefined;
  if (policy?.service) traceMethods(policy.service, ['decide'], { tracer, active, prefix: 'policy', describe: (args) => ({ 'wharf.policy.point': String(args[0]) }) });

  let apiRoutes: RunningExtension['apiRoutes'];
  logger.info({ endpoint: settings.otlpEndpoint }, 'exporting traces');
  return {
    async around(ctx, handle) {
      apiRoutes ??= [...running.values()].flatMap((extension) => extension.apiRoutes ?? []);
      const route = routeTemplate(ctx.method, ctx.path, apiRoutes);
      const parent = propagator.extract(ROOT_CONTEXT, ctx.req.headers, HEADER_GETTER);
      const span = tracer.startSpan(`${ctx.method} ${route}`, {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': ctx.method, 'http.route': route, 'url.path': ctx.path },
      }, parent);
      const spanContext = trace.setSpan(parent, span);
      propagator.inject(spanContext, ctx.res, { set: (res, key, value) => { if (!res.headersSent) res.setHeader(key, value); } });
      try {
        await active.run(spanContext, handle);
      } finally {
        const status = ctx.res.statusCode;
        span.setAttribute('http.response.status_code', status);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      }
      return span.spanContext().traceId;
    },
    async close() {
      await provider.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'sending the last spans failed'));
    },
  };
}

/** The methods a class instance offers (its prototype's), less those named. */
function publicMethodsOf(instance: object, except: readonly string[]): string[] {
  const prototype = Object.getPrototypeOf(instance) as object;
  return Object.getOwnPropertyNames(prototype).filter((name) => name !== 'constructor' && !except.includes(name)
    && typeof (prototype as Record<string, unknown>)[name] === 'function');
}
