/**
 * Which Wharf an administration command acts on: a running server (through its /api/v1 API) or
 * a data folder on this machine. In falling precedence:
 *
 *   --server URL  >  --data-dir DIR (or --data DIR, or --config FILE)  >  $WHARF_SERVER
 *   >  $WHARF_DATA / $WHARF_CONFIG  >  the server of the last `wharf login`  >  ./wharf-data
 *
 * A data folder is never created here: a command run from the wrong directory must not start an
 * empty store the server never sees, so a missing folder is refused with the path and the ways
 * to name the right one.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig, type WharfConfig } from '../config/config.ts';

export class TargetError extends Error {}

export type AdminTarget =
  | { readonly kind: 'server'; readonly url: string; readonly origin: string; readonly credentials?: { username: string; password: string } }
  | { readonly kind: 'folder'; readonly path: string; readonly origin: string; readonly config: WharfConfig };

interface TargetFlags {
  readonly server?: string;
  readonly 'data-dir'?: string;
  readonly data?: string;
  readonly config?: string;
}

/** Files whose presence makes a folder a Wharf data folder (one made by `wharf serve` has all). */
const DATA_FOLDER_MARKERS = ['metadata.db', 'identity.db', 'policy.db', 'blobs'];

export function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): AdminTarget {
  if (flags.server !== undefined) return serverTarget(flags.server, '--server', env);
  const folderFlag = flags['data-dir'] !== undefined ? '--data-dir' : flags.data !== undefined ? '--data' : undefined;
  if (folderFlag !== undefined && flags['data-dir'] !== undefined && flags.data !== undefined) {
    throw new TargetError('give the data folder once: --data-dir DIR (--data is its older spelling)');
  }
  if (folderFlag !== undefined || flags.config !== undefined) {
    const path = flags['data-dir'] ?? flags.data;
    return folderTarget(loadFolderConfig(flags.config, env, path), folderFlag ?? `data in ${flags.config}`);
  }
  if (env.WHARF_SERVER) return serverTarget(env.WHARF_SERVER, 'WHARF_SERVER', env);
  if (env.WHARF_DATA !== undefined || env.WHARF_CONFIG !== undefined) {
    return folderTarget(loadFolderConfig(env.WHARF_CONFIG, env, undefined), env.WHARF_DATA !== undefined ? 'WHARF_DATA' : `data in ${env.WHARF_CONFIG}`);
  }
  const remembered = readCredentialsFile(env).default;
  if (remembered) return serverTarget(remembered, `wharf login (${credentialsPath(env)})`, env);
  return folderTarget(loadFolderConfig(undefined, env, undefined), 'the default');
}

function loadFolderConfig(file: string | undefined, env: NodeJS.ProcessEnv, data: string | undefined): WharfConfig {
  try {
    return loadConfig({ file, env, flags: { data } });
  } catch (error) {
    if (error instanceof ConfigError) throw new TargetError(error.message);
    throw error;
  }
}

function folderTarget(config: WharfConfig, origin: string): AdminTarget {
  return { kind: 'folder', path: resolve(config.data), origin, config };
}

function serverTarget(url: string, origin: string, env: NodeJS.ProcessEnv): AdminTarget {
  const normalized = normalizeServerUrl(url);
  const stored = readCredentialsFile(env).servers?.[normalized];
  const username = env.WHARF_USERNAME ?? stored?.username;
  const password = env.WHARF_PASSWORD ?? stored?.password;
  return {
    kind: 'server', url: normalized, origin,
    ...(username !== undefined && password !== undefined ? { credentials: { username, password } } : {}),
  };
}

/** `http://host:port` without a trailing slash; a bare host:port is taken as http on loopback, else https. */
export function normalizeServerUrl(text: string): string {
  const withScheme = /^https?:\/\//i.test(text) ? text : `${/^(localhost|127\.|\[::1\])/.test(text) ? 'http' : 'https'}://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new TargetError(`"${text}" is not a server URL (like http://127.0.0.1:5000)`);
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

/** Refuses a data folder that does not exist or is not one, saying how to name the right one. */
export function requireDataFolder(target: Extract<AdminTarget, { kind: 'folder' }>): void {
  const how = 'name the data folder with --data-dir DIR (or WHARF_DATA), or act on a running server with --server URL (or WHARF_SERVER, or `wharf login URL`)';
  let info;
  try {
    info = statSync(target.path);
  } catch {
    throw new TargetError(`no Wharf data folder at ${target.path} (from ${target.origin}); nothing was created. Start \`wharf serve --data-dir ${target.path}\` once to make it, or ${how}`);
  }
  if (!info.isDirectory()) {
    throw new TargetError(`${target.path} (from ${target.origin}) is a file, not a Wharf data folder; a policy's data document is given with --data-file FILE. To choose the folder, ${how}`);
  }
  const entries = readdirSync(target.path);
  if (entries.length > 0 && !DATA_FOLDER_MARKERS.some((marker) => entries.includes(marker))) {
    throw new TargetError(`${target.path} (from ${target.origin}) is not a Wharf data folder (it has none of ${DATA_FOLDER_MARKERS.join(', ')}); ${how}`);
  }
}

/** One line for help and errors: what a command would act on, and why. */
export function describeTarget(target: AdminTarget): string {
  if (target.kind === 'server') {
    return `the Wharf server ${target.url} (from ${target.origin}; ${target.credentials ? `as ${target.credentials.username}` : 'without credentials'})`;
  }
  return `the data folder ${target.path} (from ${target.origin}${existsSync(target.path) ? '' : '; it does not exist'})`;
}

// ---- stored credentials --------------------------------------------------------------------

interface CredentialsFile {
  default?: string;
  servers?: Record<string, { username: string; password: string }>;
}

/** $XDG_CONFIG_HOME/wharf/credentials.json, else ~/.config/wharf/credentials.json. */
export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'wharf', 'credentials.json');
}

export function readCredentialsFile(env: NodeJS.ProcessEnv = process.env): CredentialsFile {
  const path = credentialsPath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  try {
    const value = JSON.parse(text) as CredentialsFile;
    return typeof value === 'object' && value !== null ? value : {};
  } catch {
    throw new TargetError(`${path} is not valid JSON; remove it and run \`wharf login URL\` again`);
  }
}

/** Writes the credentials file readable by its owner only (it holds passwords, as docker's does). */
export function writeCredentialsFile(file: CredentialsFile, env: NodeJS.ProcessEnv = process.env): string {
  const path = credentialsPath(env);
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
  return path;
}
