/**
 * IdentityStore on SQLite (node:sqlite), in its own database file beside the registry metadata
 * (`<data>/identity.db`), so that the CLI can administer it while the server runs (WAL mode).
 */
import { randomUUID } from 'node:crypto';
import type { StatementSync } from 'node:sqlite';
import { SqliteDatabase } from '../storage/sqlite-database.ts';
import type {
  AuditEvent, IdentityStore, Issuer, Membership, Robot, SigningKey, User,
} from './identity-store.ts';
import type { Role } from './roles.ts';

type Row = Record<string, unknown>;

/** Append-only: a released migration is never edited. (`wharf migrate` reads the count.) */
export const SQLITE_IDENTITY_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE users (username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, admin INTEGER NOT NULL, created_at INTEGER NOT NULL);
  CREATE TABLE teams (name TEXT PRIMARY KEY);
  CREATE TABLE team_members (
    team TEXT NOT NULL REFERENCES teams(name) ON DELETE CASCADE,
    username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    PRIMARY KEY (team, username)
  );
  CREATE TABLE memberships (
    namespace TEXT NOT NULL, principal_kind TEXT NOT NULL CHECK (principal_kind IN ('user', 'team')),
    principal TEXT NOT NULL, role TEXT NOT NULL, PRIMARY KEY (namespace, principal_kind, principal)
  );
  CREATE TABLE robots (
    name TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, grants TEXT NOT NULL, created_at INTEGER NOT NULL,
    expires_at INTEGER, revoked_at INTEGER, last_used_at INTEGER
  );
  CREATE TABLE issuers (name TEXT PRIMARY KEY, issuer TEXT NOT NULL, audience TEXT NOT NULL, jwks TEXT, jwks_url TEXT, rules TEXT NOT NULL);
  CREATE TABLE refresh_tokens (hash TEXT PRIMARY KEY, subject TEXT NOT NULL, expires_at INTEGER NOT NULL);
  CREATE INDEX refresh_tokens_by_subject ON refresh_tokens(subject);
  CREATE TABLE signing_keys (kid TEXT PRIMARY KEY, algorithm TEXT NOT NULL, private_key_pem TEXT NOT NULL, created_at INTEGER NOT NULL, retired_at INTEGER);
  CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY, time INTEGER NOT NULL, identity TEXT NOT NULL, action TEXT NOT NULL,
    resource TEXT NOT NULL, allowed INTEGER NOT NULL, reason TEXT NOT NULL, client TEXT
  );
  `,
  `ALTER TABLE robots ADD COLUMN capabilities TEXT NOT NULL DEFAULT '[]';`,
  // Accounts get an id that a re-created account of the same name does not share (tokens carry it).
  `
  ALTER TABLE users ADD COLUMN id TEXT;
  UPDATE users SET id = lower(hex(randomblob(16)));
  CREATE UNIQUE INDEX users_by_id ON users(id);
  ALTER TABLE robots ADD COLUMN id TEXT;
  UPDATE robots SET id = lower(hex(randomblob(16)));
  CREATE UNIQUE INDEX robots_by_id ON robots(id);
  `,
];

export class SqliteIdentityStore implements IdentityStore {
  readonly #db: SqliteDatabase;

  constructor(path: string) {
    this.#db = new SqliteDatabase(path);
  }

  async migrate(): Promise<void> {
    this.#db.migrate(SQLITE_IDENTITY_MIGRATIONS);
  }

  async close(): Promise<void> {
    this.#db.close();
  }

  async hasPrincipals(): Promise<boolean> {
    const row = this.#sql(`SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM robots) + (SELECT COUNT(*) FROM issuers) AS n`).get() as Row;
    return Number(row.n) > 0;
  }

  async putUser(user: Omit<User, 'id'>): Promise<void> {
    this.#sql(`INSERT INTO users (id, username, password_hash, admin, created_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, admin = excluded.admin`)
      .run(randomUUID(), user.username, user.passwordHash, user.admin ? 1 : 0, user.createdAt.getTime());
  }

  async getUser(username: string): Promise<User | undefined> {
    const row = this.#sql('SELECT * FROM users WHERE username = ?').get(username) as Row | undefined;
    return row && toUser(row);
  }

  async listUsers(): Promise<User[]> {
    return (this.#sql('SELECT * FROM users ORDER BY username').all() as Row[]).map(toUser);
  }

  async deleteUser(username: string): Promise<boolean> {
    return this.#db.transaction(() => {
      this.#sql(`DELETE FROM memberships WHERE principal_kind = 'user' AND principal = ?`).run(username);
      this.#sql('DELETE FROM refresh_tokens WHERE subject = ?').run(`user:${username}`);
      return Number(this.#sql('DELETE FROM users WHERE username = ?').run(username).changes) > 0;
    });
  }

  async createTeam(name: string): Promise<void> {
    this.#sql('INSERT INTO teams (name) VALUES (?) ON CONFLICT DO NOTHING').run(name);
  }

  async deleteTeam(name: string): Promise<boolean> {
    return this.#db.transaction(() => {
      this.#sql(`DELETE FROM memberships WHERE principal_kind = 'team' AND principal = ?`).run(name);
      return Number(this.#sql('DELETE FROM teams WHERE name = ?').run(name).changes) > 0;
    });
  }

  async listTeams(): Promise<{ name: string; members: string[] }[]> {
    const teams = this.#sql('SELECT name FROM teams ORDER BY name').all() as Row[];
    const members = this.#sql('SELECT username FROM team_members WHERE team = ? ORDER BY username');
    return teams.map((team) => ({
      name: team.name as string,
      members: (members.all(team.name as string) as Row[]).map((row) => row.username as string),
    }));
  }

  async addTeamMember(team: string, username: string): Promise<void> {
    this.#sql('INSERT INTO team_members (team, username) VALUES (?, ?) ON CONFLICT DO NOTHING').run(team, username);
  }

  async removeTeamMember(team: string, username: string): Promise<boolean> {
    return Number(this.#sql('DELETE FROM team_members WHERE team = ? AND username = ?').run(team, username).changes) > 0;
  }

  async teamsOf(username: string): Promise<string[]> {
    return (this.#sql('SELECT team FROM team_members WHERE username = ? ORDER BY team').all(username) as Row[]).map((row) => row.team as string);
  }

  async setMembership(membership: Membership): Promise<void> {
    this.#sql(`INSERT INTO memberships (namespace, principal_kind, principal, role) VALUES (?, ?, ?, ?)
      ON CONFLICT (namespace, principal_kind, principal) DO UPDATE SET role = excluded.role`)
      .run(membership.namespace, membership.principal.kind, membership.principal.name, membership.role);
  }

  async removeMembership(namespace: string, principal: Membership['principal']): Promise<boolean> {
    return Number(this.#sql('DELETE FROM memberships WHERE namespace = ? AND principal_kind = ? AND principal = ?')
      .run(namespace, principal.kind, principal.name).changes) > 0;
  }

  async listMemberships(namespace?: string): Promise<Membership[]> {
    const rows = namespace === undefined
      ? this.#sql('SELECT * FROM memberships ORDER BY namespace, principal_kind, principal').all()
      : this.#sql('SELECT * FROM memberships WHERE namespace = ? ORDER BY principal_kind, principal').all(namespace);
    return (rows as Row[]).map(toMembership);
  }

  async membershipsOf(username: string): Promise<Membership[]> {
    const rows = this.#sql(`SELECT * FROM memberships WHERE (principal_kind = 'user' AND principal = ?)
      OR (principal_kind = 'team' AND principal IN (SELECT team FROM team_members WHERE username = ?))`).all(username, username);
    return (rows as Row[]).map(toMembership);
  }

  async putRobot(robot: Omit<Robot, 'id'>): Promise<void> {
    this.#sql(`INSERT INTO robots (id, name, secret_hash, grants, capabilities, created_at, expires_at, revoked_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET secret_hash = excluded.secret_hash, grants = excluded.grants, capabilities = excluded.capabilities,
      expires_at = excluded.expires_at, revoked_at = excluded.revoked_at`).run(
      randomUUID(), robot.name, robot.secretHash, JSON.stringify(robot.grants), JSON.stringify(robot.capabilities ?? []), robot.createdAt.getTime(),
      robot.expiresAt?.getTime() ?? null, robot.revokedAt?.getTime() ?? null, robot.lastUsedAt?.getTime() ?? null,
    );
  }

  async getRobot(name: string): Promise<Robot | undefined> {
    const row = this.#sql('SELECT * FROM robots WHERE name = ?').get(name) as Row | undefined;
    return row && toRobot(row);
  }

  async listRobots(): Promise<Robot[]> {
    return (this.#sql('SELECT * FROM robots ORDER BY name').all() as Row[]).map(toRobot);
  }

  async revokeRobot(name: string, at: Date): Promise<boolean> {
    return Number(this.#sql('UPDATE robots SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL').run(at.getTime(), name).changes) > 0;
  }

  async touchRobot(name: string, at: Date): Promise<void> {
    this.#sql('UPDATE robots SET last_used_at = ? WHERE name = ?').run(at.getTime(), name);
  }

  async putIssuer(issuer: Issuer): Promise<void> {
    this.#sql(`INSERT INTO issuers (name, issuer, audience, jwks, jwks_url, rules) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET issuer = excluded.issuer, audience = excluded.audience, jwks = excluded.jwks,
      jwks_url = excluded.jwks_url, rules = excluded.rules`)
      .run(issuer.name, issuer.issuer, issuer.audience, issuer.jwks ?? null, issuer.jwksUrl ?? null, JSON.stringify(issuer.rules));
  }

  async listIssuers(): Promise<Issuer[]> {
    return (this.#sql('SELECT * FROM issuers ORDER BY name').all() as Row[]).map((row) => ({
      name: row.name as string,
      issuer: row.issuer as string,
      audience: row.audience as string,
      jwks: (row.jwks as string | null) ?? undefined,
      jwksUrl: (row.jwks_url as string | null) ?? undefined,
      rules: JSON.parse(row.rules as string),
    }));
  }

  async deleteIssuer(name: string): Promise<boolean> {
    return Number(this.#sql('DELETE FROM issuers WHERE name = ?').run(name).changes) > 0;
  }

  async putRefreshToken(hash: string, subject: string, expiresAt: Date): Promise<void> {
    this.#sql('INSERT INTO refresh_tokens (hash, subject, expires_at) VALUES (?, ?, ?)').run(hash, subject, expiresAt.getTime());
  }

  async getRefreshToken(hash: string, now: Date): Promise<string | undefined> {
    const row = this.#sql('SELECT subject FROM refresh_tokens WHERE hash = ? AND expires_at > ?').get(hash, now.getTime()) as Row | undefined;
    return row?.subject as string | undefined;
  }

  async deleteRefreshTokensOf(subject: string): Promise<void> {
    this.#sql('DELETE FROM refresh_tokens WHERE subject = ?').run(subject);
  }

  async addSigningKey(key: SigningKey): Promise<void> {
    this.#sql('INSERT INTO signing_keys (kid, algorithm, private_key_pem, created_at, retired_at) VALUES (?, ?, ?, ?, ?)')
      .run(key.kid, key.algorithm, key.privateKeyPem, key.createdAt.getTime(), key.retiredAt?.getTime() ?? null);
  }

  async listSigningKeys(): Promise<SigningKey[]> {
    return (this.#sql('SELECT * FROM signing_keys ORDER BY created_at').all() as Row[]).map((row) => ({
      kid: row.kid as string,
      algorithm: 'ES256',
      privateKeyPem: row.private_key_pem as string,
      createdAt: new Date(Number(row.created_at)),
      retiredAt: optionalDate(row.retired_at),
    }));
  }

  async retireSigningKey(kid: string, at: Date): Promise<void> {
    this.#sql('UPDATE signing_keys SET retired_at = ? WHERE kid = ? AND retired_at IS NULL').run(at.getTime(), kid);
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    this.#sql('INSERT INTO audit_events (time, identity, action, resource, allowed, reason, client) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(event.time.getTime(), event.identity, event.action, event.resource, event.allowed ? 1 : 0, event.reason, event.client ?? null);
  }

  async listAudit(filter: { limit: number; identity?: string; allowed?: boolean }): Promise<AuditEvent[]> {
    const rows = this.#sql(`SELECT * FROM audit_events WHERE (?1 IS NULL OR identity = ?1) AND (?2 IS NULL OR allowed = ?2)
      ORDER BY id DESC LIMIT ?3`).all(filter.identity ?? null, filter.allowed === undefined ? null : (filter.allowed ? 1 : 0), filter.limit) as Row[];
    return rows.map((row) => ({
      time: new Date(Number(row.time)),
      identity: row.identity as string,
      action: row.action as string,
      resource: row.resource as string,
      allowed: Number(row.allowed) === 1,
      reason: row.reason as string,
      client: (row.client as string | null) ?? undefined,
    }));
  }

  #sql(text: string): StatementSync {
    return this.#db.sql(text);
  }
}

function toUser(row: Row): User {
  return { id: row.id as string, username: row.username as string, passwordHash: row.password_hash as string, admin: Number(row.admin) === 1, createdAt: new Date(Number(row.created_at)) };
}

function toMembership(row: Row): Membership {
  return { namespace: row.namespace as string, principal: { kind: row.principal_kind as 'user' | 'team', name: row.principal as string }, role: row.role as Role };
}

function toRobot(row: Row): Robot {
  return {
    id: row.id as string,
    name: row.name as string,
    secretHash: row.secret_hash as string,
    grants: JSON.parse(row.grants as string),
    capabilities: JSON.parse(row.capabilities as string),
    createdAt: new Date(Number(row.created_at)),
    expiresAt: optionalDate(row.expires_at),
    revokedAt: optionalDate(row.revoked_at),
    lastUsedAt: optionalDate(row.last_used_at),
  };
}

function optionalDate(value: unknown): Date | undefined {
  return value === null || value === undefined ? undefined : new Date(Number(value));
}
