/**
 * Routes of the registry API, matched from the end of the path because repository names contain
 * slashes. A match only splits the path; names and references are validated by the handlers.
 *
 *   /v2/                                   base
 *   /v2/_catalog                           catalog
 *   /v2/<name>/tags/list                   tags
 *   /v2/<name>/manifests/<reference>       manifest
 *   /v2/<name>/blobs/uploads/              uploads
 *   /v2/<name>/blobs/uploads/<id>          upload
 *   /v2/<name>/blobs/<digest>              blob
 *   /v2/<name>/referrers/<digest>          referrers
 */
export type RouteName = 'base' | 'catalog' | 'tags' | 'manifest' | 'uploads' | 'upload' | 'blob' | 'referrers';

export interface RouteMatch {
  readonly route: RouteName;
  readonly name: string;
  readonly argument: string;
}

const PATTERNS: readonly [RouteName, RegExp][] = [
  ['tags', /^\/v2\/(.+)\/tags\/list$/],
  ['manifest', /^\/v2\/(.+)\/manifests\/([^/]+)$/],
  ['uploads', /^\/v2\/(.+)\/blobs\/uploads\/?()$/],
  ['upload', /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/],
  ['blob', /^\/v2\/(.+)\/blobs\/([^/]+)$/],
  ['referrers', /^\/v2\/(.+)\/referrers\/([^/]+)$/],
];

export function matchRegistryPath(path: string): RouteMatch | undefined {
  if (path === '/v2/' || path === '/v2') return { route: 'base', name: '', argument: '' };
  if (path === '/v2/_catalog') return { route: 'catalog', name: '', argument: '' };
  for (const [route, pattern] of PATTERNS) {
    const match = pattern.exec(path);
    if (match) return { route, name: match[1]!, argument: match[2] ?? '' };
  }
  return undefined;
}
