/**
 * The seam for features beyond the registry API (supply chain, identity, policy, lifecycle…).
 * An extension starts with the registry's services, may subscribe to registry events, and may
 * answer requests under /api/v1/ (returning false for paths that are not its own). Its errors are
 * thrown as RegistryError and written in the same envelope as the registry API's.
 */
import type { WharfConfig } from '../config/config.ts';
import type { RequestContext } from '../distribution/http.ts';
import type { RegistryDeps } from '../distribution/registry-deps.ts';
import type { Logger } from './logger.ts';

export interface ExtensionContext {
  readonly config: WharfConfig;
  readonly registry: RegistryDeps;
  readonly logger: Logger;
}

export interface RunningExtension {
  /** Answers a /api/v1/ request and returns true, or returns false when the path is not its own. */
  handle?(ctx: RequestContext): Promise<boolean>;
  close?(): Promise<void>;
}

export interface Extension {
  readonly name: string;
  start(context: ExtensionContext): Promise<RunningExtension>;
}
