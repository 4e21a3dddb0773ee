/**
 * Wharf's metrics: what each request adds (by route template, method and status class, never by
 * repository or digest, so the number of series stays bounded), what policy decisions add, and
 * what is read at scrape time (cache and upload counters, storage per namespace, process metrics).
 *
 * The request path costs two map lookups with strings the request already has, a few field
 * increments and one bucket search; label children are created once per combination and kept.
 */
import type { Socket } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { RequestContext } from '../../distribution/http.ts';
import type { RouteName } from '../../distribution/paths.ts';
import { isGuardedPath, matchApiRoute, type ApiRoute } from '../../server/api-routes.ts';
import { CounterFamily, GaugeFamily, HistogramFamily, type CounterChild, type Family, type HistogramChild, type MetricType, type Sample } from './families.ts';
import { expose, type CollectedFamily, type ExpositionFormat } from './exposition.ts';

/** The registry routes as templates (paths.ts names them). */
const REGISTRY_ROUTES: Record<RouteName, string> = {
  base: '/v2/',
  catalog: '/v2/_catalog',
  tags: '/v2/{name}/tags/list',
  manifest: '/v2/{name}/manifests/{reference}',
  uploads: '/v2/{name}/blobs/uploads/',
  upload: '/v2/{name}/blobs/uploads/{session}',
  blob: '/v2/{name}/blobs/{digest}',
  referrers: '/v2/{name}/referrers/{digest}',
};
const FIXED_ROUTES = new Set(['/healthz', '/readyz', '/metrics', '/token']);
/** Paths that match no route (404s, scanners) share one label value. */
export const UNMATCHED_ROUTE = 'unmatched';
const METHODS = new Set(['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS']);
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** Request durations from a cached manifest (sub-millisecond) to a large blob upload (minutes). */
const DURATION_BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const POLICY_BOUNDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** Storage per namespace is a scan of the metadata database: refreshed at most this often. */
const USAGE_TTL_MS = 10_000;

/** The route template of a request, for the `route` label. */
export function routeTemplate(method: string, path: string, apiRoutes: readonly ApiRoute[]): string {
  if (path.startsWith('/v2')) {
    const route = registryRouteOf(path);
    return route ? REGISTRY_ROUTES[route] : UNMATCHED_ROUTE;
  }
  if (FIXED_ROUTES.has(path)) return path;
  if (isGuardedPath(path)) {
    try {
      return matchApiRoute(apiRoutes, method, path).matched?.route.path ?? UNMATCHED_ROUTE;
    } catch {
      return UNMATCHED_ROUTE; // an undecodable path segment
    }
  }
  return UNMATCHED_ROUTE;
}

/**
 * The route matchRegistryPath (paths.ts) finds for a path, told by comparing its last segments in
 * place: no regular expression, no substring, no match object. The router's own match costs
 * several hundred nanoseconds, more than all the rest of counting a request; a property test
 * keeps the two in agreement.
 */
export function registryRouteOf(path: string): RouteName | undefined {
  if (path === '/v2/' || path === '/v2') return 'base';
  if (path === '/v2/_catalog') return 'catalog';
  if (!path.startsWith('/v2/')) return undefined;
  // A repository name is at least one character: segments matched below must start after index 4.
  if (path.endsWith('/tags/list') && path.length - 10 > 4) return 'tags';
  const last = path.lastIndexOf('/');
  const previous = last > 4 ? path.lastIndexOf('/', last - 1) : -1;
  if (previous <= 3) return undefined;
  const lastEmpty = last === path.length - 1;
  const segmentIs = (start: number, end: number, word: string) => end - start === word.length && path.startsWith(word, start);
  // …/blobs/uploads (the session-less upload route, also written with a trailing slash)
  if (previous > 4 && segmentIs(previous + 1, last, 'blobs') && segmentIs(last + 1, path.length, 'uploads')) return 'uploads';
  const beforePrevious = previous > 4 ? path.lastIndexOf('/', previous - 1) : -1;
  if (beforePrevious > 4 && segmentIs(previous + 1, last, 'uploads') && segmentIs(beforePrevious + 1, previous, 'blobs')) return lastEmpty ? 'uploads' : 'upload';
  if (lastEmpty || previous <= 4) return undefined;
  if (segmentIs(previous + 1, last, 'manifests')) return 'manifest';
  if (segmentIs(previous + 1, last, 'blobs')) return 'blob';
  if (segmentIs(previous + 1, last, 'referrers')) return 'referrers';
  return undefined;
}

/**
 * Why an authentication failed, told from the response and the credentials the caller sent (the
 * bounded set of reasons a guard has): undefined when the response is no authentication failure.
 */
export function authFailureReason(status: number, route: string, authorization: string | undefined): string | undefined {
  const scheme = authorization === undefined ? '' : authorization.slice(0, authorization.indexOf(' ') + 1).toLowerCase();
  if (status === 401) {
    if (authorization === undefined || authorization === '') return 'missing_credentials';
    if (scheme === 'bearer ') return 'invalid_token';
    if (scheme === 'basic ') return 'invalid_credentials';
    return 'malformed_credentials';
  }
  // Upload routes answer 429 for their own limits; elsewhere a 429 to a password is a throttled login.
  if (status === 429 && scheme === 'basic ' && route !== REGISTRY_ROUTES.uploads && route !== REGISTRY_ROUTES.upload) return 'throttled';
  return undefined;
}

interface RouteChildren {
  readonly received: CounterChild;
  readonly sent: CounterChild;
  /** By method, then by status class (index 0 for 1xx … 4 for 5xx). */
  readonly byMethod: Map<string, { count: CounterChild; duration: HistogramChild }[]>;
}

/** What a scrape reads from the running registry. */
export interface ScrapeSources {
  readonly manifestCache: { readonly hits: number; readonly misses: number };
  readonly uploads: { totals(): { sessions: number; stagedBytes: number } };
  readonly metadata: { usageByNamespace(): Promise<{ namespace: string; storageBytes: number; artifacts: number }[]> };
  /** Every /api/v1/ route declared, read when first needed (extensions may start after this one). */
  apiRoutes(): readonly ApiRoute[];
  /** Told about a scrape-time source that failed (the scrape goes on without it). */
  onError?(error: unknown, message: string): void;
}

export interface PolicyDecisionLike {
  readonly policies: readonly string[];
  readonly violations: readonly { policy: string; mode: string }[];
  readonly quarantine: readonly { policy: string }[];
  readonly durationMs: number;
}

export class WharfMetrics {
  readonly #requests = new CounterFamily('wharf_http_requests_total', 'HTTP requests served, by route template, method and status class.', ['route', 'method', 'status_class']);
  readonly #durations = new HistogramFamily('wharf_http_request_duration_seconds', 'Time from a request\'s arrival until its handler finished, by route template, method and status class.', ['route', 'method', 'status_class'], DURATION_BOUNDS);
  readonly #received = new CounterFamily('wharf_http_received_bytes_total', 'Bytes received on connections (headers and bodies), by route template.', ['route']);
  readonly #sent = new CounterFamily('wharf_http_sent_bytes_total', 'Bytes sent on connections (headers and bodies), by route template.', ['route']);
  readonly #authFailures = new CounterFamily('wharf_auth_failures_total', 'Requests refused for their credentials (401, or 429 for throttled logins), by reason.', ['reason']);
  readonly #policyDecisions = new CounterFamily('wharf_policy_decisions_total', 'Policy evaluations, by enforcement point, policy name and that policy\'s result (allow, deny, warn, quarantine).', ['point', 'policy', 'result']);
  readonly #policyDurations = new HistogramFamily('wharf_policy_evaluation_duration_seconds', 'Time to evaluate the applicable policies of one decision, by enforcement point.', ['point'], POLICY_BOUNDS);
  readonly #cacheHits = new CounterFamily('wharf_manifest_cache_hits_total', 'Manifest lookups by tag answered from the in-memory cache.');
  readonly #cacheMisses = new CounterFamily('wharf_manifest_cache_misses_total', 'Manifest lookups by tag that went to the metadata store.');
  readonly #uploadSessions = new GaugeFamily('wharf_upload_sessions_open', 'Upload sessions open (started, not yet completed or cancelled).', []);
  readonly #stagedBytes = new GaugeFamily('wharf_upload_staged_bytes', 'Bytes received for uploads not yet completed.', []);
  readonly #namespaceBytes = new GaugeFamily('wharf_namespace_storage_bytes', 'Bytes stored per namespace (distinct blobs of its repositories plus manifests).', ['namespace']);
  readonly #namespaceArtifacts = new GaugeFamily('wharf_namespace_artifacts', 'Manifests stored per namespace.', ['namespace']);

  readonly #byRoute = new Map<string, RouteChildren>();
  readonly #sockets = new WeakMap<Socket, { read: number; written: number }>();
  readonly #sources: ScrapeSources;
  readonly #process = new Registry();
  #apiRoutes: readonly ApiRoute[] | undefined;
  #usage: { until: number; rows: { namespace: string; storageBytes: number; artifacts: number }[] } | undefined;
  #usageRefresh: Promise<void> | undefined;

  constructor(sources: ScrapeSources) {
    this.#sources = sources;
    collectDefaultMetrics({ register: this.#process });
  }

  /** Counts a finished request (the hot path). */
  requestFinished(ctx: RequestContext, status: number, durationMs: number): void {
    const method = METHODS.has(ctx.method) ? ctx.method : 'OTHER';
    this.#apiRoutes ??= this.#sources.apiRoutes();
    const route = routeTemplate(method, ctx.path, this.#apiRoutes);
    let children = this.#byRoute.get(route);
    if (!children) this.#byRoute.set(route, (children = { received: this.#received.child(route), sent: this.#sent.child(route), byMethod: new Map() }));
    let byStatus = children.byMethod.get(method);
    if (!byStatus) {
      byStatus = STATUS_CLASSES.map((statusClass) => ({ count: this.#requests.child(route, method, statusClass), duration: this.#durations.child(route, method, statusClass) }));
      children.byMethod.set(method, byStatus);
    }
    const statusIndex = Math.min(Math.max(Math.floor(status / 100) - 1, 0), 4);
    const cell = byStatus[statusIndex]!;
    cell.count.value++;
    cell.duration.observe(durationMs / 1000);
    this.#countBytes(ctx.req.socket, children);
    if (status === 401 || status === 429) {
      const reason = authFailureReason(status, route, ctx.req.headers.authorization);
      if (reason) this.#authFailures.child(reason).value++;
    }
  }

  /** Counts one policy decision: each evaluated policy with its own result, and the time taken. */
  policyDecided(point: string, decision: PolicyDecisionLike): void {
    if (decision.policies.length === 0) return;
    this.#policyDurations.child(point).observe(decision.durationMs / 1000);
    for (const evaluated of decision.policies) {
      // `name@version:revision`: the name alone keeps the series across policy updates.
      const name = evaluated.split('@')[0]!;
      this.#policyDecisions.child(point, name, policyResult(name, decision)).value++;
    }
  }

  /** The exposition of every metric, reading the scrape-time sources first. */
  async scrape(format: ExpositionFormat, now = Date.now()): Promise<string> {
    this.#cacheHits.child().value = this.#sources.manifestCache.hits;
    this.#cacheMisses.child().value = this.#sources.manifestCache.misses;
    const totals = this.#sources.uploads.totals();
    this.#uploadSessions.child().value = totals.sessions;
    this.#stagedBytes.child().value = totals.stagedBytes;
    // The first scrape waits for the figures; later ones serve the last figures and, when they are
    // older than USAGE_TTL_MS, refresh them after answering (the scan blocks while it runs).
    if (!this.#usage) await this.#refreshUsage(now);
    else if (this.#usage.until <= now) setImmediate(() => void this.#refreshUsage(now));
    const usage = this.#usage?.rows ?? [];
    this.#namespaceBytes.reset();
    this.#namespaceArtifacts.reset();
    for (const row of usage) {
      this.#namespaceBytes.child(row.namespace).value = row.storageBytes;
      this.#namespaceArtifacts.child(row.namespace).value = row.artifacts;
    }
    const families: (Family | CollectedFamily)[] = [
      this.#requests, this.#durations, this.#received, this.#sent, this.#authFailures,
      this.#policyDecisions, this.#policyDurations, this.#cacheHits, this.#cacheMisses,
      this.#uploadSessions, this.#stagedBytes, this.#namespaceBytes, this.#namespaceArtifacts,
      ...await this.#processFamilies(),
    ];
    return expose(families, format);
  }

  /** Recomputes storage per namespace (one at a time); a failure keeps the last figures until the next try. */
  #refreshUsage(now: number): Promise<void> {
    this.#usageRefresh ??= this.#sources.metadata.usageByNamespace()
      .then((rows) => { this.#usage = { until: now + USAGE_TTL_MS, rows }; })
      .catch((error: unknown) => this.#sources.onError?.(error, 'computing storage per namespace failed'))
      .finally(() => { this.#usageRefresh = undefined; });
    return this.#usageRefresh;
  }

  #countBytes(socket: Socket, children: RouteChildren): void {
    // Socket counters are cumulative over a keep-alive connection: count what this request added.
    let seen = this.#sockets.get(socket);
    if (!seen) this.#sockets.set(socket, (seen = { read: 0, written: 0 }));
    const read = socket.bytesRead;
    const written = socket.bytesWritten;
    children.received.value += read - seen.read;
    children.sent.value += written - seen.written;
    seen.read = read;
    seen.written = written;
  }

  /** prom-client's standard process and Node.js metrics (process_cpu_seconds_total, nodejs_heap_…). */
  async #processFamilies(): Promise<CollectedFamily[]> {
    const metrics = await this.#process.getMetricsAsJSON();
    // nodejs_active_{handles,requests,resources}_total are gauges named like counters (promtool
    // flags them); each is the sum of the same family without the suffix, which stays.
    return metrics.filter((metric) => !(metric.type as unknown as string === 'gauge' && metric.name.endsWith('_total'))).map((metric) => ({
      name: metric.name,
      help: metric.help,
      type: metric.type as unknown as MetricType,
      samples: metric.values.map((value): Sample => ({
        name: (value as { metricName?: string }).metricName ?? metric.name,
        labels: Object.entries(value.labels).map(([name, labelValue]) => [name, String(labelValue)] as const),
        value: value.value,
      })),
    }));
  }
}

function policyResult(name: string, decision: PolicyDecisionLike): string {
  const violations = decision.violations.filter((violation) => violation.policy === name);
  if (violations.some((violation) => violation.mode === 'enforce')) return 'deny';
  if (decision.quarantine.some((held) => held.policy === name)) return 'quarantine';
  if (violations.length > 0) return 'warn';
  return 'allow';
}
