/**
 * Roles per namespace and what each may do. Each role includes the ones before it.
 *
 *   reader      pull
 *   writer      pull, push
 *   maintainer  pull, push, delete (manage tags)
 *   admin       everything above, and manage the namespace's members
 */
import type { RepositoryAction } from './access.ts';

export const ROLES = ['reader', 'writer', 'maintainer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const ACTIONS_BY_ROLE: Record<Role, readonly RepositoryAction[]> = {
  reader: ['pull'],
  writer: ['pull', 'push'],
  maintainer: ['pull', 'push', 'delete'],
  admin: ['pull', 'push', 'delete'],
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function actionsOfRole(role: Role): readonly RepositoryAction[] {
  return ACTIONS_BY_ROLE[role];
}

/** The stronger of two roles. */
export function strongerRole(a: Role | undefined, b: Role): Role {
  return a === undefined || ROLES.indexOf(b) > ROLES.indexOf(a) ? b : a;
}

/**
 * Capabilities: registry-wide rights beyond repositories, given to an identity one by one (today
 * to robot accounts; administrators have them all).
 *
 *   admission   call the Kubernetes admission webhook (/admission/validate, /admission/mutate),
 *               which resolves tags of every repository of the registry: give it to the robot a
 *               cluster's API server uses, not to people.
 */
export const CAPABILITIES = ['admission'] as const;
export type Capability = (typeof CAPABILITIES)[number];

export function isCapability(value: unknown): value is Capability {
  return typeof value === 'string' && (CAPABILITIES as readonly string[]).includes(value);
}
