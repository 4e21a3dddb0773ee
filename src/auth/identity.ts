/**
 * Who made a request, once authenticated, and what they may do to a repository. Pure except for
 * the memberships a user's check reads from the store.
 */
import { expandActions, namespaceOf, type RepositoryAction } from './access.ts';
import type { Grant, IdentityStore } from './identity-store.ts';
import { actionsOfRole, strongerRole, type Role } from './roles.ts';

export type Identity =
  | { readonly kind: 'anonymous'; readonly subject: 'anonymous' }
  | { readonly kind: 'user'; readonly subject: string; readonly accountId: string; readonly name: string; readonly admin: boolean }
  | { readonly kind: 'robot'; readonly subject: string; readonly accountId: string; readonly name: string; readonly grants: readonly Grant[] }
  | { readonly kind: 'oidc'; readonly subject: string; readonly issuer: string; readonly grants: readonly Grant[]; readonly claims?: Readonly<Record<string, unknown>> };

export const ANONYMOUS: Identity = { kind: 'anonymous', subject: 'anonymous' };

/** True when a grant's repository pattern (`team-a/app` or `team-a/*`) covers a repository. */
export function grantCovers(pattern: string, repository: string): boolean {
  if (pattern.endsWith('/*')) return repository.startsWith(pattern.slice(0, -1));
  return pattern === repository;
}

export function actionsFromGrants(grants: readonly Grant[], repository: string): RepositoryAction[] {
  return expandActions(grants.filter((grant) => grantCovers(grant.repositories, repository)).flatMap((grant) => grant.actions));
}

/** Everything `identity` may do to `repository`. Anonymous callers get nothing here: open mode never asks. */
export async function allowedActions(store: IdentityStore, identity: Identity, repository: string): Promise<RepositoryAction[]> {
  switch (identity.kind) {
    case 'anonymous':
      return [];
    case 'robot':
    case 'oidc':
      return actionsFromGrants(identity.grants, repository);
    case 'user': {
      if (identity.admin) return ['pull', 'push', 'delete'];
      const namespace = namespaceOf(repository);
      let role: Role | undefined;
      for (const membership of await store.membershipsOf(identity.name)) {
        if (membership.namespace === namespace) role = strongerRole(role, membership.role);
      }
      return role ? [...actionsOfRole(role)] : [];
    }
  }
}

export function isAdmin(identity: Identity): boolean {
  return identity.kind === 'user' && identity.admin;
}
