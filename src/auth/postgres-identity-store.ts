/**
 * IdentityStore on PostgreSQL, for several Wharf processes sharing one database (tables prefixed
 * `identity_`, migrations recorded as store `identity` beside the registry metadata's and the
 * policies'). Users, robots, token-signing keys and refresh tokens live here once for every
 * replica: a token signed by one replica verifies on all, a password set on one works on all.
 *
 * Names are compared with COLLATE "C", so lists come out in byte order as on SQLite. Account ids
 * are given here (random UUIDs), never reused, as the SQLite store does.
 */
import { randomUUID } from 'node:crypto';
import { PostgresDatabase, type PostgresOptions } from '../storage/postgres-database.ts';
import type { AuditEvent, IdentityStore, Issuer, Membership, Robot, SigningKey, User } from './identity-store.ts';
import type { Role } from './roles.ts';

type Row = Record<string, unknown>;

/** Append-only: a released migration is never edited. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE identity_users (
    username text COLLATE "C" PRIMARY KEY, id text NOT NULL UNIQUE, password_hash text NOT NULL, admin boolean NOT NULL,
    created_at timestamptz NOT NULL
  );
  CREATE TABLE identity_teams (name text COLLATE "C" PRIMARY KEY);
  CREATE TABLE identity_team_members (
    team text COLLATE "C" NOT NULL REFERENCES identity_teams(name) ON DELETE CASCADE,
    username text COLLATE "C" NOT NULL REFERENCES identity_users(username) ON DELETE CASCADE,
    PRIMARY KEY (team, username)
  );
  CREATE INDEX identity_team_members_by_user ON identity_team_members(username);
  CREATE TABLE identity_memberships (
    namespace text COLLATE "C" NOT NULL, principal_kind text COLLATE "C" NOT NULL CHECK (principal_kind IN ('user', 'team')),
    principal text COLLATE "C" NOT NULL, role text NOT NULL, PRIMARY KEY (namespace, principal_kind, principal)
  );
  CREATE INDEX identity_memberships_by_principal ON identity_memberships(principal_kind, principal);
  CREATE TABLE identity_robots (
    name text COLLATE "C" PRIMARY KEY, id text NOT NULL UNIQUE, secret_hash text NOT NULL, grants jsonb NOT NULL,
    capabilities jsonb NOT NULL DEFAULT '[]', created_at timestamptz NOT NULL,
    expires_at timestamptz, revoked_at timestamptz, last_used_at timestamptz
  );
  CREATE TABLE identity_issuers (
    name text COLLATE "C" PRIMARY KEY, issuer text NOT NULL, audience text NOT NULL, jwks text, jwks_url text, rules jsonb NOT NULL
  );
  CREATE TABLE identity_refresh_tokens (hash text PRIMARY KEY, subject text NOT NULL, expires_at timestamptz NOT NULL);
  CREATE INDEX identity_refresh_tokens_by_subject ON identity_refresh_tokens(subject);
  CREATE TABLE identity_signing_keys (
    kid text PRIMARY KEY, algorithm text NOT NULL, private_key_pem text NOT NULL, created_at timestamptz NOT NULL, retired_at timestamptz
  );
  CREATE TABLE identity_audit_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, time timestamptz NOT NULL, identity text NOT NULL, action text NOT NULL,
    resource text NOT NULL, allowed boolean NOT NULL, reason text NOT NULL, client text
  );
  CREATE INDEX identity_audit_events_by_identity ON identity_audit_events(identity, id DESC);
  `,
];

export class PostgresIdentityStore implements IdentityStore {
  readonly #db: PostgresDatabase;

  constructor(options: PostgresOptions) {
    this.#db = new PostgresDatabase(options);
  }

  async migrate(): Promise<void> {
    await this.#db.migrate('identity', MIGRATIONS);
  }

  async close(): Promise<void> {
    await this.#db.close();
  }

  async hasPrincipals(): Promise<boolean> {
    const { rows } = await this.#db.query(`SELECT EXISTS (SELECT 1 FROM identity_users) OR EXISTS (SELECT 1 FROM identity_robots)
      OR EXISTS (SELECT 1 FROM identity_issuers) AS any`);
    return rows[0]!.any === true;
  }

  async putUser(user: Omit<User, 'id'>): Promise<void> {
    await this.#db.query(`INSERT INTO identity_users (id, username, password_hash, admin, created_at) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, admin = excluded.admin`,
    [randomUUID(), user.username, user.passwordHash, user.admin, user.createdAt]);
  }

  async getUser(username: string): Promise<User | undefined> {
    const { rows } = await this.#db.query('SELECT * FROM identity_users WHERE username = $1', [username]);
    return rows[0] && toUser(rows[0]);
  }

  async listUsers(): Promise<User[]> {
    const { rows } = await this.#db.query('SELECT * FROM identity_users ORDER BY username');
    return rows.map(toUser);
  }

  async deleteUser(username: string): Promise<boolean> {
    return this.#db.transaction(async (client) => {
      await client.query(`DELETE FROM identity_memberships WHERE principal_kind = 'user' AND principal = $1`, [username]);
      await client.query('DELETE FROM identity_refresh_tokens WHERE subject = $1', [`user:${username}`]);
      return ((await client.query('DELETE FROM identity_users WHERE username = $1', [username])).rowCount ?? 0) > 0;
    });
  }

  async createTeam(name: string): Promise<void> {
    await this.#db.query('INSERT INTO identity_teams (name) VALUES ($1) ON CONFLICT DO NOTHING', [name]);
  }

  async deleteTeam(name: string): Promise<boolean> {
    return this.#db.transaction(async (client) => {
      await client.query(`DELETE FROM identity_memberships WHERE principal_kind = 'team' AND principal = $1`, [name]);
      return ((await client.query('DELETE FROM identity_teams WHERE name = $1', [name])).rowCount ?? 0) > 0;
    });
  }

  async listTeams(): Promise<{ name: string; members: string[] }[]> {
    // One query: each team with its members in byte order (an empty team gets an empty list).
    const { rows } = await this.#db.query(`SELECT t.name, COALESCE(array_agg(m.username ORDER BY m.username) FILTER (WHERE m.username IS NOT NULL), '{}') AS members
      FROM identity_teams t LEFT JOIN identity_team_members m ON m.team = t.name GROUP BY t.name ORDER BY t.name`);
    return rows.map((row) => ({ name: row.name as string, members: row.members as string[] }));
  }

  async addTeamMember(team: string, username: string): Promise<void> {
    await this.#db.query('INSERT INTO identity_team_members (team, username) VALUES ($1, $2) ON CONFLICT DO NOTHING', [team, username]);
  }

  async removeTeamMember(team: string, username: string): Promise<boolean> {
    return ((await this.#db.query('DELETE FROM identity_team_members WHERE team = $1 AND username = $2', [team, username])).rowCount ?? 0) > 0;
  }

  async teamsOf(username: string): Promise<string[]> {
    const { rows } = await this.#db.query('SELECT team FROM identity_team_members WHERE username = $1 ORDER BY team', [username]);
    return rows.map((row) => row.team as string);
  }

  async setMembership(membership: Membership): Promise<void> {
    await this.#db.query(`INSERT INTO identity_memberships (namespace, principal_kind, principal, role) VALUES ($1, $2, $3, $4)
      ON CONFLICT (namespace, principal_kind, principal) DO UPDATE SET role = excluded.role`,
    [membership.namespace, membership.principal.kind, membership.principal.name, membership.role]);
  }

  async removeMembership(namespace: string, principal: Membership['principal']): Promise<boolean> {
    const result = await this.#db.query('DELETE FROM identity_memberships WHERE namespace = $1 AND principal_kind = $2 AND principal = $3',
      [namespace, principal.kind, principal.name]);
    return (result.rowCount ?? 0) > 0;
  }

  async listMemberships(namespace?: string): Promise<Membership[]> {
    const { rows } = namespace === undefined
      ? await this.#db.query('SELECT * FROM identity_memberships ORDER BY namespace, principal_kind, principal')
      : await this.#db.query('SELECT * FROM identity_memberships WHERE namespace = $1 ORDER BY principal_kind, principal', [namespace]);
    return rows.map(toMembership);
  }

  async membershipsOf(username: string): Promise<Membership[]> {
    const { rows } = await this.#db.query(`SELECT * FROM identity_memberships WHERE (principal_kind = 'user' AND principal = $1)
      OR (principal_kind = 'team' AND principal IN (SELECT team FROM identity_team_members WHERE username = $1))`, [username]);
    return rows.map(toMembership);
  }

  async putRobot(robot: Omit<Robot, 'id'>): Promise<void> {
    await this.#db.query(`INSERT INTO identity_robots (id, name, secret_hash, grants, capabilities, created_at, expires_at, revoked_at, last_used_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
      ON CONFLICT (name) DO UPDATE SET secret_hash = excluded.secret_hash, grants = excluded.grants, capabilities = excluded.capabilities,
      expires_at = excluded.expires_at, revoked_at = excluded.revoked_at`, [
      randomUUID(), robot.name, robot.secretHash, JSON.stringify(robot.grants), JSON.stringify(robot.capabilities ?? []), robot.createdAt,
      robot.expiresAt ?? null, robot.revokedAt ?? null, robot.lastUsedAt ?? null,
    ]);
  }

  async getRobot(name: string): Promise<Robot | undefined> {
    const { rows } = await this.#db.query('SELECT * FROM identity_robots WHERE name = $1', [name]);
    return rows[0] && toRobot(rows[0]);
  }

  async listRobots(): Promise<Robot[]> {
    const { rows } = await this.#db.query('SELECT * FROM identity_robots ORDER BY name');
    return rows.map(toRobot);
  }

  async revokeRobot(name: string, at: Date): Promise<boolean> {
    const result = await this.#db.query('UPDATE identity_robots SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL', [at, name]);
    return (result.rowCount ?? 0) > 0;
  }

  async touchRobot(name: string, at: Date): Promise<void> {
    await this.#db.query('UPDATE identity_robots SET last_used_at = $1 WHERE name = $2', [at, name]);
  }

  async putIssuer(issuer: Issuer): Promise<void> {
    await this.#db.query(`INSERT INTO identity_issuers (name, issuer, audience, jwks, jwks_url, rules) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (name) DO UPDATE SET issuer = excluded.issuer, audience = excluded.audience, jwks = excluded.jwks,
      jwks_url = excluded.jwks_url, rules = excluded.rules`,
    [issuer.name, issuer.issuer, issuer.audience, issuer.jwks ?? null, issuer.jwksUrl ?? null, JSON.stringify(issuer.rules)]);
  }

  async listIssuers(): Promise<Issuer[]> {
    const { rows } = await this.#db.query('SELECT * FROM identity_issuers ORDER BY name');
    return rows.map((row) => ({
      name: row.name as string,
      issuer: row.issuer as string,
      audience: row.audience as string,
      jwks: (row.jwks as string | null) ?? undefined,
      jwksUrl: (row.jwks_url as string | null) ?? undefined,
      rules: row.rules as Issuer['rules'],
    }));
  }

  async deleteIssuer(name: string): Promise<boolean> {
    return ((await this.#db.query('DELETE FROM identity_issuers WHERE name = $1', [name])).rowCount ?? 0) > 0;
  }

  async putRefreshToken(hash: string, subject: string, expiresAt: Date): Promise<void> {
    await this.#db.query('INSERT INTO identity_refresh_tokens (hash, subject, expires_at) VALUES ($1, $2, $3)', [hash, subject, expiresAt]);
  }

  async getRefreshToken(hash: string, now: Date): Promise<string | undefined> {
    const { rows } = await this.#db.query('SELECT subject FROM identity_refresh_tokens WHERE hash = $1 AND expires_at > $2', [hash, now]);
    return rows[0]?.subject as string | undefined;
  }

  async deleteRefreshTokensOf(subject: string): Promise<void> {
    await this.#db.query('DELETE FROM identity_refresh_tokens WHERE subject = $1', [subject]);
  }

  async addSigningKey(key: SigningKey): Promise<void> {
    await this.#db.query('INSERT INTO identity_signing_keys (kid, algorithm, private_key_pem, created_at, retired_at) VALUES ($1, $2, $3, $4, $5)',
      [key.kid, key.algorithm, key.privateKeyPem, key.createdAt, key.retiredAt ?? null]);
  }

  async listSigningKeys(): Promise<SigningKey[]> {
    const { rows } = await this.#db.query('SELECT * FROM identity_signing_keys ORDER BY created_at, kid');
    return rows.map((row) => ({
      kid: row.kid as string,
      algorithm: 'ES256',
      privateKeyPem: row.private_key_pem as string,
      createdAt: row.created_at as Date,
      retiredAt: (row.retired_at as Date | null) ?? undefined,
    }));
  }

  async retireSigningKey(kid: string, at: Date): Promise<void> {
    await this.#db.query('UPDATE identity_signing_keys SET retired_at = $1 WHERE kid = $2 AND retired_at IS NULL', [at, kid]);
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    await this.#db.query('INSERT INTO identity_audit_events (time, identity, action, resource, allowed, reason, client) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [event.time, event.identity, event.action, event.resource, event.allowed, event.reason, event.client ?? null]);
  }

  async listAudit(filter: { limit: number; identity?: string; allowed?: boolean }): Promise<AuditEvent[]> {
    const { rows } = await this.#db.query(`SELECT * FROM identity_audit_events WHERE ($1::text IS NULL OR identity = $1) AND ($2::boolean IS NULL OR allowed = $2)
      ORDER BY id DESC LIMIT $3`, [filter.identity ?? null, filter.allowed ?? null, filter.limit]);
    return rows.map((row) => ({
      time: row.time as Date,
      identity: row.identity as string,
      action: row.action as string,
      resource: row.resource as string,
      allowed: row.allowed as boolean,
      reason: row.reason as string,
      client: (row.client as string | null) ?? undefined,
    }));
  }
}

function toUser(row: Row): User {
  return { id: row.id as string, username: row.username as string, passwordHash: row.password_hash as string, admin: row.admin as boolean, createdAt: row.created_at as Date };
}

function toMembership(row: Row): Membership {
  return { namespace: row.namespace as string, principal: { kind: row.principal_kind as 'user' | 'team', name: row.principal as string }, role: row.role as Role };
}

function toRobot(row: Row): Robot {
  return {
    id: row.id as string,
    name: row.name as string,
    secretHash: row.secret_hash as string,
    grants: row.grants as Robot['grants'],
    capabilities: row.capabilities as Robot['capabilities'],
    createdAt: row.created_at as Date,
    expiresAt: (row.expires_at as Date | null) ?? undefined,
    revokedAt: (row.revoked_at as Date | null) ?? undefined,
    lastUsedAt: (row.last_used_at as Date | null) ?? undefined,
  };
}
