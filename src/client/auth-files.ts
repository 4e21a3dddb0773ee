/**
 * Registry credentials from the usual container auth files, first match wins:
 * $REGISTRY_AUTH_FILE, ${XDG_RUNTIME_DIR}/containers/auth.json, ~/.config/containers/auth.json,
 * $DOCKER_CONFIG/config.json or ~/.docker/config.json. Entries are `auths[host].auth` =
 * base64("user:password") (or separate username/password, or an identitytoken).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Credentials {
  readonly username?: string;
  readonly password?: string;
  /** OAuth2 refresh token (docker's `identitytoken`). */
  readonly identityToken?: string;
}

export function authFilePaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env['HOME'] ?? homedir();
  const paths: string[] = [];
  if (env['REGISTRY_AUTH_FILE']) paths.push(env['REGISTRY_AUTH_FILE']);
  if (env['XDG_RUNTIME_DIR']) paths.push(join(env['XDG_RUNTIME_DIR'], 'containers', 'auth.json'));
  paths.push(join(env['XDG_CONFIG_HOME'] ?? join(home, '.config'), 'containers', 'auth.json'));
  paths.push(join(env['DOCKER_CONFIG'] ?? join(home, '.docker'), 'config.json'));
  return paths;
}

function hostKeys(registry: string): string[] {
  if (registry === 'docker.io') return ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/', 'https://index.docker.io/v1'];
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
}

function fromEntry(entry: unknown): Credentials | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const record = entry as Record<string, unknown>;
  if (typeof record['identitytoken'] === 'string' && record['identitytoken']) return { identityToken: record['identitytoken'] };
  if (typeof record['auth'] === 'string' && record['auth']) {
    const decoded = Buffer.from(record['auth'], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof record['username'] === 'string' && typeof record['password'] === 'string') return { username: record['username'], password: record['password'] };
  return undefined;
}

export function findCredentials(registry: string, env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  for (const path of authFilePaths(env)) {
    let document: unknown;
    try { document = JSON.parse(readFileSync(path, 'utf8')); } catch { continue; }
    const auths = (document as { auths?: Record<string, unknown> } | undefined)?.auths ?? {};
    for (const key of hostKeys(registry)) {
      const credentials = fromEntry(auths[key]);
      if (credentials) return credentials;
    }
  }
  return undefined;
}
