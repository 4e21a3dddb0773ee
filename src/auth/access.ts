/**
 * Access entries, as the Docker/OCI token protocol names them: a resource type and name, and the
 * actions allowed on it. Pure: parsing of `scope` strings, the access a request needs, and
 * intersections.
 *
 *   repository:team-a/app:pull,push      registry:catalog:*
 */
import { repositoryNameProblem } from '../content/names.ts';

export type RepositoryAction = 'pull' | 'push' | 'delete';
export const REPOSITORY_ACTIONS: readonly RepositoryAction[] = ['pull', 'push', 'delete'];

export interface AccessEntry {
  readonly type: 'repository' | 'registry';
  readonly name: string;
  readonly actions: readonly string[];
}

/**
 * Parses one `scope` value. Returns undefined for anything malformed — an invalid repository name
 * (`..`, upper case, wildcards), an unknown type or action — so it grants nothing.
 */
export function parseScope(scope: string): AccessEntry | undefined {
  const firstColon = scope.indexOf(':');
  const lastColon = scope.lastIndexOf(':');
  if (firstColon <= 0 || lastColon === firstColon) return undefined;
  const type = scope.slice(0, firstColon);
  const name = scope.slice(firstColon + 1, lastColon);
  const actions = scope.slice(lastColon + 1).split(',');
  if (type === 'registry') {
    return name === 'catalog' && actions.length === 1 && actions[0] === '*' ? { type, name, actions: ['*'] } : undefined;
  }
  if (type !== 'repository' || repositoryNameProblem(name) !== undefined) return undefined;
  if (actions.length === 0 || !actions.every((action) => action === '*' || (REPOSITORY_ACTIONS as string[]).includes(action))) return undefined;
  return { type, name, actions: expandActions(actions) };
}

/** `*` means every repository action. */
export function expandActions(actions: readonly string[]): RepositoryAction[] {
  const set = new Set<RepositoryAction>();
  for (const action of actions) {
    if (action === '*') REPOSITORY_ACTIONS.forEach((a) => set.add(a));
    else if ((REPOSITORY_ACTIONS as string[]).includes(action)) set.add(action as RepositoryAction);
  }
  return REPOSITORY_ACTIONS.filter((action) => set.has(action));
}

export function formatScope(entry: AccessEntry): string {
  return `${entry.type}:${entry.name}:${entry.actions.join(',')}`;
}

/** True when `granted` contains every action of `needed`. */
export function covers(granted: readonly AccessEntry[], needed: AccessEntry): boolean {
  const entry = granted.find((g) => g.type === needed.type && g.name === needed.name);
  if (!entry) return false;
  if (needed.type === 'registry') return entry.actions.includes('*');
  return needed.actions.every((action) => entry.actions.includes(action));
}

/** The namespace of a repository: its first path segment (`team-a/app` → `team-a`). */
export function namespaceOf(repository: string): string {
  const slash = repository.indexOf('/');
  return slash === -1 ? repository : repository.slice(0, slash);
}
