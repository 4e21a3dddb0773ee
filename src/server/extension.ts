/**
 * The seam for features beyond the registry API (supply chain, identity, policy, lifecycle…).
 * An extension starts with the registry's services, may subscribe to registry events, and may
 * answer requests outside /v2/ (returning false for paths that are not its own). Its errors are
 * thrown as RegistryError and written in the same envelope as the registry API's.
 *
 * One extension (identity) may also guard: `authorize` runs before every registry handler and
 * `authenticateApi` before every /api/v1/ and /admission/ request, extensions' routes included.
 */
import type { WharfConfig } from '../config/config.ts';
import type { AccessChecker, RequestContext } from '../distribution/http.ts';
import type { RouteMatch } from '../distribution/paths.ts';
import type { ManifestGates, RegistryDeps } from '../distribution/registry-deps.ts';
import type { ApiRoute, MatchedApiRoute } from './api-routes.ts';
import type { Logger } from './logger.ts';

export interface ExtensionContext {
  readonly config: WharfConfig;
  readonly registry: RegistryDeps;
  readonly logger: Logger;
  /** The extensions started before this one, by name. */
  readonly running: ReadonlyMap<string, RunningExtension>;
}

export interface RunningExtension {
  /** Answers a request outside /v2/ and returns true, or returns false when the path is not its own. */
  handle?(ctx: RequestContext): Promise<boolean>;
  /** Checks a registry request (throws UNAUTHORIZED/DENIED) and returns what else the caller may do. */
  authorize?(ctx: RequestContext, match: RouteMatch): Promise<AccessChecker>;
  /**
   * Authenticates a /api/v1/ or /admission/ request, checks the access its declared route needs
   * (undefined: a path nobody declared, for administrators only), and returns its context with
   * the principal and the caller's access set (throws UNAUTHORIZED/DENIED).
   */
  authenticateApi?(ctx: RequestContext, route: MatchedApiRoute | undefined): Promise<RequestContext>;
  /** The /api/v1/ and /admission/ routes this extension answers, with the access each needs (api-routes.ts). */
  readonly apiRoutes?: readonly ApiRoute[];
  /** Sees every request as it is served (metrics, traces); see RequestHooks. */
  readonly requestHooks?: RequestHooks;
  /** Decides on manifest pushes and pulls (one extension at most: the policy service). */
  readonly gates?: ManifestGates;
  close?(): Promise<void>;
}

/**
 * What an observing extension does around each request. Both are optional and absent hooks cost
 * the request nothing; neither may throw.
 */
export interface RequestHooks {
  /**
   * Runs a request's whole handling (which never throws: errors are already written as responses),
   * e.g. inside a trace span. Returns an id for the request's log line (the trace id), if any.
   * One extension at most.
   */
  around?(ctx: RequestContext, handle: () => Promise<void>): Promise<string | undefined>;
  /** Called synchronously once the handling finished, with the status sent and the time taken. */
  finished?(ctx: RequestContext, status: number, durationMs: number): void;
}

export interface Extension {
  readonly name: string;
  start(context: ExtensionContext): Promise<RunningExtension>;
}
