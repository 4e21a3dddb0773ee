/**
 * Who exists and what they were granted: users, teams, namespace memberships, robot accounts,
 * trusted OIDC issuers, refresh tokens, token-signing keys and the audit trail. Secrets are never
 * stored: passwords as scrypt hashes, robot secrets and refresh tokens as SHA-256 digests.
 */
import type { RepositoryAction } from './access.ts';
import type { Capability, Role } from './roles.ts';

/** `team-a/app` (one repository) or `team-a/*` (every repository under `team-a/`). */
export interface Grant {
  readonly repositories: string;
  readonly actions: readonly RepositoryAction[];
}

export interface User {
  /**
   * Given by the store when the user is created, never reused: tokens name the account by it, so
   * a user deleted and created again under the same name does not inherit the old one's tokens.
   */
  readonly id: string;
  readonly username: string;
  readonly passwordHash: string;
  readonly admin: boolean;
  readonly createdAt: Date;
}

export interface Membership {
  readonly namespace: string;
  readonly principal: { readonly kind: 'user' | 'team'; readonly name: string };
  readonly role: Role;
}

export interface Robot {
  /** Given by the store when the robot is created, never reused (as a user's id). */
  readonly id: string;
  readonly name: string;
  readonly secretHash: string;
  readonly grants: readonly Grant[];
  /** Registry-wide rights beyond its grants (roles.ts); absent means none. */
  readonly capabilities?: readonly Capability[];
  readonly createdAt: Date;
  readonly expiresAt?: Date;
  readonly revokedAt?: Date;
  readonly lastUsedAt?: Date;
}

/** Claims (exact strings, or glob patterns with `*`) that an OIDC token must all match to get the grants. */
export interface ClaimRule {
  readonly claims: Readonly<Record<string, string>>;
  readonly grants: readonly Grant[];
}

export interface Issuer {
  readonly name: string;
  /** The `iss` claim tokens of this issuer carry. */
  readonly issuer: string;
  readonly audience: string;
  /** A JSON Web Key Set, inline (read from a file when the issuer was added) … */
  readonly jwks?: string;
  /** … or fetched from this URL. */
  readonly jwksUrl?: string;
  readonly rules: readonly ClaimRule[];
}

export interface SigningKey {
  readonly kid: string;
  readonly algorithm: 'ES256';
  readonly privateKeyPem: string;
  readonly createdAt: Date;
  readonly retiredAt?: Date;
}

export interface AuditEvent {
  readonly time: Date;
  readonly identity: string;
  readonly action: string;
  readonly resource: string;
  readonly allowed: boolean;
  readonly reason: string;
  readonly client?: string;
}

export interface IdentityStore {
  migrate(): Promise<void>;
  close(): Promise<void>;

  /** True when at least one user, robot or issuer exists, i.e. someone set authentication up. */
  hasPrincipals(): Promise<boolean>;

  /** Creates the user (with a new id) or updates the one of that name (keeping its id). */
  putUser(user: Omit<User, 'id'>): Promise<void>;
  getUser(username: string): Promise<User | undefined>;
  listUsers(): Promise<User[]>;
  deleteUser(username: string): Promise<boolean>;

  createTeam(name: string): Promise<void>;
  deleteTeam(name: string): Promise<boolean>;
  listTeams(): Promise<{ name: string; members: string[] }[]>;
  addTeamMember(team: string, username: string): Promise<void>;
  removeTeamMember(team: string, username: string): Promise<boolean>;
  teamsOf(username: string): Promise<string[]>;

  setMembership(membership: Membership): Promise<void>;
  removeMembership(namespace: string, principal: Membership['principal']): Promise<boolean>;
  listMemberships(namespace?: string): Promise<Membership[]>;
  /** Memberships that apply to a user: their own and their teams'. */
  membershipsOf(username: string): Promise<Membership[]>;

  /** Creates the robot (with a new id) or updates the one of that name (keeping its id). */
  putRobot(robot: Omit<Robot, 'id'>): Promise<void>;
  getRobot(name: string): Promise<Robot | undefined>;
  listRobots(): Promise<Robot[]>;
  revokeRobot(name: string, at: Date): Promise<boolean>;
  touchRobot(name: string, at: Date): Promise<void>;

  putIssuer(issuer: Issuer): Promise<void>;
  listIssuers(): Promise<Issuer[]>;
  deleteIssuer(name: string): Promise<boolean>;

  putRefreshToken(hash: string, subject: string, expiresAt: Date): Promise<void>;
  /** The subject of an unexpired refresh token, or undefined. */
  getRefreshToken(hash: string, now: Date): Promise<string | undefined>;
  deleteRefreshTokensOf(subject: string): Promise<void>;

  addSigningKey(key: SigningKey): Promise<void>;
  listSigningKeys(): Promise<SigningKey[]>;
  retireSigningKey(kid: string, at: Date): Promise<void>;

  appendAudit(event: AuditEvent): Promise<void>;
  listAudit(filter: { limit: number; identity?: string; allowed?: boolean }): Promise<AuditEvent[]>;
}
