/** What each registry route needs, as the access entry a token must carry. Pure. */
import type { RouteMatch } from '../distribution/paths.ts';
import type { AccessEntry, RepositoryAction } from './access.ts';

/** `authenticated`: any identity will do (the /v2/ version check). */
export type Requirement = AccessEntry | 'authenticated';

export function requiredAccess(match: RouteMatch, method: string): Requirement {
  switch (match.route) {
    case 'base':
      return 'authenticated';
    case 'catalog':
      return { type: 'registry', name: 'catalog', actions: ['*'] };
    case 'tags':
    case 'referrers':
    case 'blob':
    case 'manifest':
      return repository(match.name, method === 'DELETE' ? ['delete'] : method === 'PUT' ? ['pull', 'push'] : ['pull']);
    case 'uploads':
    case 'upload':
      // Docker clients ask for "pull,push" to push; pull is needed to check what is already there.
      return repository(match.name, ['pull', 'push']);
  }
}

function repository(name: string, actions: RepositoryAction[]): AccessEntry {
  return { type: 'repository', name, actions };
}

/** Writes and deletes are audited; reads are not. */
export function isAuditedAccess(requirement: Requirement, method: string): boolean {
  return requirement !== 'authenticated' && method !== 'GET' && method !== 'HEAD' && method !== 'PATCH'
    && requirement.actions.some((action) => action === 'push' || action === 'delete');
}
