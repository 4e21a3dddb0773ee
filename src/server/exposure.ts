/**
 * Secure by default: without authentication, Wharf serves anonymous full access, which is only
 * acceptable when nobody but this machine can reach it.
 */
import { isIP } from 'node:net';
import type { WharfConfig } from '../config/config.ts';

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** Why the configuration must not start, or undefined when it may. */
export function exposureProblem(config: WharfConfig): string | undefined {
  if (config.auth.enabled || config.auth.allowAnonymous || isLoopback(config.listen.host)) return undefined;
  return `refusing to serve anonymous full access on ${config.listen.host}, which is not a loopback address: `
    + 'enable authentication (auth.enabled: true, see the README) or pass --allow-anonymous to accept it';
}
