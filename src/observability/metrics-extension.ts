/**
 * Metrics and traces as a registry extension: counts every request (request hooks), every policy
 * decision (the policy service's observers), serves GET /metrics on the main listener or on a
 * listener of its own, and, when `tracing.otlpEndpoint` is set, runs each request in a trace span
 * with its storage, database and policy calls as child spans. It starts after the others, whose
 * services it observes; tracing code is loaded only when tracing is on.
 */
import type { RequestContext } from '../distribution/http.ts';
import type { Extension, RequestHooks, RunningExtension } from '../server/extension.ts';
import { listenForMetrics, MetricsEndpoint, type MetricsListener } from './metrics/metrics-endpoint.ts';
import { WharfMetrics, type PolicyDecisionLike } from './metrics/wharf-metrics.ts';

/** What the policy extension offers this one, when it runs. */
interface PolicyLike extends RunningExtension {
  readonly service: { observeDecisions(observe: (point: string, decision: PolicyDecisionLike) => void): () => void };
}

export const metricsExtension = {
  name: 'metrics',
  async start({ config, registry, logger, running }) {
    const tracing = config.tracing.otlpEndpoint === ''
      ? undefined
      : await (await import('./tracing/tracing.ts')).startTracing(config.tracing, registry, running, logger);
    const hooks: RequestHooks = tracing ? { around: (ctx, handle) => tracing.around(ctx, handle) } : {};
    if (!config.metrics.enabled) {
      return { requestHooks: hooks, close: async () => tracing?.close() } satisfies RunningExtension;
    }

    const metrics = new WharfMetrics({
      manifestCache: registry.manifestCache,
      uploads: registry.uploads,
      metadata: registry.metadata,
      apiRoutes: () => [...running.values()].flatMap((extension) => extension.apiRoutes ?? []),
      onError: (error, message) => logger.error({ err: error }, message),
    });
    const policy = running.get('policy') as PolicyLike | undefined;
    const stopObserving = policy?.service.observeDecisions((point, decision) => metrics.policyDecided(point, decision));
    const endpoint = new MetricsEndpoint(metrics, config.metrics.token);
    const identity = running.get('identity');
    // With authentication on, the main listener shows metrics to the token's holder and administrators only.
    const requireAdministrator = config.auth.enabled && identity?.authenticateApi
      ? (ctx: RequestContext) => identity.authenticateApi!(ctx, undefined)
      : undefined;
    let listener: MetricsListener | undefined;
    if (config.metrics.listen !== '') {
      try {
        listener = await listenForMetrics(endpoint, config.metrics.listen, logger);
      } catch (error) {
        // Not started, so never closed by the registry: let go of what this start took.
        stopObserving?.();
        await tracing?.close();
        throw error;
      }
      logger.info({ url: `${listener.url}/metrics` }, 'serving metrics');
    }
    return {
      metricsUrl: listener && `${listener.url}/metrics`,
      requestHooks: { ...hooks, finished: (ctx, status, durationMs) => metrics.requestFinished(ctx, status, durationMs) },
      async handle(ctx) {
        if (ctx.path !== '/metrics' || listener) return false;
        await endpoint.serve(ctx, requireAdministrator);
        return true;
      },
      async close() {
        stopObserving?.();
        await listener?.close();
        await tracing?.close();
      },
    } satisfies RunningExtension & { metricsUrl?: string };
  },
} satisfies Extension;
