/**
 * Administration of identities, shared by the `wharf user|team|member|robot|issuer` commands and
 * the management API: validates input, hashes secrets, and returns robot secrets exactly once.
 */
import { REPOSITORY_ACTIONS, type RepositoryAction } from './access.ts';
import { repositoryNameProblem } from '../content/names.ts';
import type { ClaimRule, Grant, IdentityStore, Issuer, Membership, Robot } from './identity-store.ts';
import { CAPABILITIES, isCapability, isRole, type Capability, type Role } from './roles.ts';
import { hashPassword, newSecret, secretDigest } from './secrets.ts';
import { ROBOT_PREFIX } from './authenticator.ts';

export class AdminInputError extends Error {}

const PRINCIPAL_NAME = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;
const MIN_PASSWORD_LENGTH = 8;

export class IdentityAdmin {
  readonly #store: IdentityStore;

  constructor(store: IdentityStore) {
    this.#store = store;
  }

  async addUser(username: string, password: string, admin = false): Promise<void> {
    requireName(username, 'username');
    requirePassword(password);
    if (await this.#store.getUser(username)) throw new AdminInputError(`user ${username} already exists`);
    await this.#store.putUser({ username, passwordHash: await hashPassword(password), admin, createdAt: new Date() });
  }

  async setPassword(username: string, password: string): Promise<void> {
    requirePassword(password);
    const user = await this.#requireUser(username);
    await this.#store.putUser({ ...user, passwordHash: await hashPassword(password) });
    // A changed password ends every session the old one opened.
    await this.#store.deleteRefreshTokensOf(`user:${username}`);
  }

  async setAdmin(username: string, admin: boolean): Promise<void> {
    const user = await this.#requireUser(username);
    await this.#store.putUser({ ...user, admin });
  }

  async removeUser(username: string): Promise<void> {
    if (!(await this.#store.deleteUser(username))) throw new AdminInputError(`no user ${username}`);
  }

  async createTeam(name: string): Promise<void> {
    requireName(name, 'team name');
    await this.#store.createTeam(name);
  }

  async addTeamMember(team: string, username: string): Promise<void> {
    if (!(await this.#store.listTeams()).some((t) => t.name === team)) throw new AdminInputError(`no team ${team}`);
    await this.#requireUser(username);
    await this.#store.addTeamMember(team, username);
  }

  async setMembership(namespace: string, principal: Membership['principal'], role: string): Promise<void> {
    if (repositoryNameProblem(namespace) !== undefined || namespace.includes('/')) throw new AdminInputError(`invalid namespace "${namespace}"`);
    if (!isRole(role)) throw new AdminInputError(`invalid role "${role}": use reader, writer, maintainer or admin`);
    if (principal.kind === 'user') await this.#requireUser(principal.name);
    else if (!(await this.#store.listTeams()).some((t) => t.name === principal.name)) throw new AdminInputError(`no team ${principal.name}`);
    await this.#store.setMembership({ namespace, principal, role: role as Role });
  }

  /**
   * Creates a robot account and returns its login name and secret; the secret is not kept. A robot
   * needs repository grants, capabilities (roles.ts), or both.
   */
  async createRobot(name: string, grants: readonly Grant[], expiresAt?: Date, capabilities: readonly Capability[] = []): Promise<{ username: string; secret: string }> {
    requireName(name, 'robot name');
    if (!Array.isArray(capabilities) || !capabilities.every(isCapability)) {
      throw new AdminInputError(`invalid capabilities ${JSON.stringify(capabilities)}: use ${CAPABILITIES.join(', ')}`);
    }
    if (grants.length === 0 && capabilities.length === 0) throw new AdminInputError('a robot needs at least one grant or capability');
    grants.forEach(validateGrant);
    if (await this.#store.getRobot(name)) throw new AdminInputError(`robot ${name} already exists`);
    const secret = newSecret();
    const robot: Omit<Robot, 'id'> = { name, secretHash: secretDigest(secret), grants, capabilities: [...new Set(capabilities)], createdAt: new Date(), expiresAt };
    await this.#store.putRobot(robot);
    return { username: `${ROBOT_PREFIX}${name}`, secret };
  }

  async revokeRobot(name: string): Promise<void> {
    if (!(await this.#store.revokeRobot(name, new Date()))) throw new AdminInputError(`no active robot ${name}`);
    await this.#store.deleteRefreshTokensOf(`robot:${name}`);
  }

  async addIssuer(issuer: Issuer): Promise<void> {
    requireName(issuer.name, 'issuer name');
    if (!/^https?:\/\/\S+$/.test(issuer.issuer)) throw new AdminInputError(`issuer must be a URL, not "${issuer.issuer}"`);
    if (issuer.audience.trim() === '') throw new AdminInputError('audience is required');
    if ((issuer.jwks === undefined) === (issuer.jwksUrl === undefined)) throw new AdminInputError('give exactly one of a JWKS (file) and a JWKS URL');
    if (issuer.jwks !== undefined) validateJwks(issuer.jwks);
    if (issuer.rules.length === 0) throw new AdminInputError('an issuer needs at least one claim rule');
    issuer.rules.forEach(validateRule);
    await this.#store.putIssuer(issuer);
  }

  async #requireUser(username: string) {
    const user = await this.#store.getUser(username);
    if (!user) throw new AdminInputError(`no user ${username}`);
    return user;
  }
}

function requireName(name: string, what: string): void {
  if (!PRINCIPAL_NAME.test(name)) throw new AdminInputError(`invalid ${what} "${name}": use 1-64 of a-z, 0-9, '.', '_', '-'`);
}

function requirePassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new AdminInputError(`password must have at least ${MIN_PASSWORD_LENGTH} characters`);
}

export function validateGrant(grant: Grant): void {
  if (typeof grant !== 'object' || grant === null) throw new AdminInputError('a grant must be an object {repositories, actions}');
  const pattern = grant.repositories;
  if (typeof pattern !== 'string' || repositoryNameProblem(pattern.endsWith('/*') ? pattern.slice(0, -2) : pattern) !== undefined) {
    throw new AdminInputError(`invalid repositories "${pattern}": a repository name, or a prefix followed by /*`);
  }
  if (!Array.isArray(grant.actions) || grant.actions.length === 0 || !grant.actions.every((a) => (REPOSITORY_ACTIONS as string[]).includes(a))) {
    throw new AdminInputError(`invalid actions for ${pattern}: use pull, push, delete`);
  }
}

function validateRule(rule: ClaimRule): void {
  if (typeof rule !== 'object' || rule === null) throw new AdminInputError('a claim rule must be an object {claims, grants}');
  if (typeof rule.claims !== 'object' || rule.claims === null || Object.keys(rule.claims).length === 0) {
    throw new AdminInputError('a claim rule must match at least one claim');
  }
  if (!Object.values(rule.claims).every((value) => typeof value === 'string')) throw new AdminInputError('claim patterns must be strings');
  if (!Array.isArray(rule.grants) || rule.grants.length === 0) throw new AdminInputError('a claim rule needs at least one grant');
  rule.grants.forEach(validateGrant);
}

function validateJwks(text: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AdminInputError('JWKS is not JSON');
  }
  if (!Array.isArray((parsed as { keys?: unknown }).keys)) throw new AdminInputError('JWKS must be an object with a "keys" array');
}

/**
 * Grants written as text, for the command line: `team-a/*:pull,push` (several separated by ';').
 */
export function parseGrants(text: string): Grant[] {
  return text.split(';').map((part) => part.trim()).filter((part) => part !== '').map((part) => {
    const colon = part.lastIndexOf(':');
    if (colon <= 0) throw new AdminInputError(`invalid grant "${part}": write REPOSITORIES:ACTIONS, e.g. team-a/*:pull,push`);
    const grant = { repositories: part.slice(0, colon), actions: part.slice(colon + 1).split(',') as RepositoryAction[] };
    validateGrant(grant);
    return grant;
  });
}

/** A claim rule written as text: `sub=repo:org/app:*,aud=wharf => team-a/*:push,pull`. */
export function parseClaimRule(text: string): ClaimRule {
  const arrow = text.indexOf('=>');
  if (arrow === -1) throw new AdminInputError(`invalid rule "${text}": write CLAIM=PATTERN[,…] => GRANTS`);
  const claims: Record<string, string> = {};
  for (const pair of text.slice(0, arrow).split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new AdminInputError(`invalid claim match "${pair}": write CLAIM=PATTERN`);
    claims[pair.slice(0, equals).trim()] = pair.slice(equals + 1).trim();
  }
  const rule = { claims, grants: parseGrants(text.slice(arrow + 2)) };
  validateRule(rule);
  return rule;
}
