/**
 * The routes of the management API (/api/v1/) and of admission (/admission/), declared by the
 * extensions that serve them, with the access each needs. Pure.
 *
 * The declaration is what the guard checks before any handler runs (so a refusal never depends on
 * whether the thing asked for exists):
 *   - `access` says who may call the route at all: `admin`, `admission` (administrators and
 *     identities with the admission capability) or `authenticated` (anyone logged in; the handler
 *     then shows only what the caller may read);
 *   - a `{repository}` in the path means pull access to that repository is needed as well.
 * A request under /api/v1/ or /admission/ that matches no declared route is for administrators
 * only, so a route someone forgot to declare is never open.
 */
import { registryError } from '../distribution/errors.ts';

export type ApiAccess = 'admin' | 'admission' | 'authenticated';

export interface ApiRoute {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** `/api/v1/repositories/{repository}/manifests/{digest}/trust`: `{repository}` may span slashes, other parameters may not. */
  readonly path: string;
  readonly access: ApiAccess;
  /**
   * Who may send a POST, PUT or DELETE to the route, beyond what `access` says:
   * - `admins` (the default): only administrators change anything under /api/v1/;
   * - `handler`: anyone `access` lets in; the handler checks the caller's access to everything it
   *   changes (TUF publications by a delegated role need push access to each repository they name);
   * - `none`: the request changes nothing (a query sent as a body), so it is judged like a GET.
   */
  readonly writes?: 'admins' | 'handler' | 'none';
}

export interface MatchedApiRoute {
  readonly route: ApiRoute;
  readonly params: Readonly<Record<string, string>>;
  /** The repository the path names, when it names one: the caller needs pull access to it. */
  readonly repository?: string;
}

/** The paths whose requests are authenticated and checked against the declared routes. */
export function isGuardedPath(path: string): boolean {
  return path.startsWith('/api/v1/') || path.startsWith('/admission/');
}

const compiled = new WeakMap<ApiRoute, { pattern: RegExp; names: string[] }>();

function compile(route: ApiRoute): { pattern: RegExp; names: string[] } {
  let entry = compiled.get(route);
  if (!entry) {
    const names: string[] = [];
    const source = route.path.split(/(\{[a-z]+\})/i).map((part) => {
      const parameter = /^\{([a-z]+)\}$/i.exec(part);
      if (!parameter) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(parameter[1]!);
      return parameter[1] === 'repository' ? '(.+)' : '([^/]+)';
    }).join('');
    entry = { pattern: new RegExp(`^${source}$`), names };
    compiled.set(route, entry);
  }
  return entry;
}

/**
 * The declared route a request is for (HEAD is served by GET routes), or, when there is none, the
 * methods that routes of the same path take (empty when no route has this path).
 */
export function matchApiRoute(routes: readonly ApiRoute[], method: string, path: string): { matched?: MatchedApiRoute; allowedMethods: string[] } {
  const wanted = method === 'HEAD' ? 'GET' : method;
  const allowedMethods = new Set<string>();
  for (const route of routes) {
    const { pattern, names } = compile(route);
    const match = pattern.exec(path);
    if (!match) continue;
    if (route.method !== wanted) {
      allowedMethods.add(route.method);
      continue;
    }
    const params: Record<string, string> = {};
    names.forEach((name, index) => { params[name] = decodeParameter(match[index + 1]!); });
    return { matched: { route, params, ...(params.repository === undefined ? {} : { repository: params.repository }) }, allowedMethods: [] };
  }
  return { allowedMethods: [...allowedMethods] };
}

/** A concrete path for a route, with every parameter replaced (tests walk the routes with it). */
export function routePath(route: ApiRoute, params: Readonly<Record<string, string>>): string {
  return route.path.replace(/\{([a-z]+)\}/gi, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for {${name}} of ${route.path}`);
    return name === 'repository' ? value : encodeURIComponent(value);
  });
}

function decodeParameter(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw registryError('BAD_REQUEST', { message: `"${text}" is not a valid path segment` });
  }
}
