/**
 * Administration of identities from the command line:
 *
 *   wharf user add NAME [--admin] [--password-stdin]     wharf user passwd NAME [--password-stdin]
 *   wharf user rm NAME | list | admin NAME true|false
 *   wharf team create|rm NAME | list | add TEAM USER | remove TEAM USER
 *   wharf member set NAMESPACE (--user U | --team T) ROLE | rm NAMESPACE (--user U | --team T) | list [NAMESPACE]
 *   wharf robot create NAME [--grant 'REPOS:ACTIONS[;…]'] [--capability admission] [--expires DAYS] | list | revoke NAME
 *   wharf issuer add NAME --issuer URL --audience AUD (--jwks-file F | --jwks-url U) --rule 'CLAIM=PATTERN,… => GRANTS'… | list | rm NAME
 *   wharf token rotate-key
 * Every command acts on a running server (--server URL, WHARF_SERVER, or the server of `wharf login`)
 * through its /api/v1 API, or directly on a data folder (--data-dir DIR, WHARF_DATA, --config FILE)
 * that must already exist; see admin-target.ts for the precedence.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AdminInputError, IdentityAdmin, parseClaimRule, parseGrants } from '../auth/identity-admin.ts';
import { identityDatabasePath } from '../auth/identity-extension.ts';
import type { ClaimRule, Grant, IdentityStore, Issuer, Membership } from '../auth/identity-store.ts';
import type { Capability } from '../auth/roles.ts';
import { openIdentityStore } from '../auth/open-identity-store.ts';
import { TokenKeys } from '../auth/token-keys.ts';
import { UnreachableError } from '../client/fetch-errors.ts';
import { requireDataFolder, resolveTarget, TargetError, type AdminTarget } from './admin-target.ts';
import { COMMAND_TABLE, parseOptions } from './command-table.ts';
import { readSecret } from './prompt.ts';
import { segment, ServerClient, ServerError } from './server-client.ts';
import { printRows } from './table.ts';

type Parsed = { positionals: string[]; values: Record<string, string | boolean | string[] | undefined> };
type Principal = Membership['principal'];

/** What the commands need, from a data folder or from a server's /api/v1: same rows either way. */
interface IdentityBackend {
  addUser(name: string, password: string, admin: boolean): Promise<void>;
  setPassword(name: string, password: string): Promise<void>;
  setAdmin(name: string, admin: boolean): Promise<void>;
  removeUser(name: string): Promise<void>;
  listUsers(): Promise<{ username: string; admin: boolean; created: string }[]>;
  createTeam(name: string): Promise<void>;
  deleteTeam(name: string): Promise<void>;
  listTeams(): Promise<{ name: string; members: readonly string[] }[]>;
  addTeamMember(team: string, user: string): Promise<void>;
  removeTeamMember(team: string, user: string): Promise<void>;
  setMembership(namespace: string, principal: Principal, role: string): Promise<void>;
  removeMembership(namespace: string, principal: Principal): Promise<void>;
  listMemberships(namespace: string | undefined): Promise<readonly Membership[]>;
  createRobot(name: string, grants: Grant[], expiresInDays: number | undefined, capabilities: Capability[]): Promise<{ username: string; secret: string }>;
  listRobots(): Promise<RobotRow[]>;
  revokeRobot(name: string): Promise<void>;
  addIssuer(issuer: Issuer): Promise<void>;
  listIssuers(): Promise<readonly Issuer[]>;
  deleteIssuer(name: string): Promise<void>;
  rotateKey(): Promise<string>;
}

type RobotRow = { name: string; grants: readonly Grant[]; capabilities?: readonly string[]; expiresAt?: string; revokedAt?: string; lastUsedAt?: string };

type Action = (backend: IdentityBackend, args: Parsed) => Promise<void>;

const ACTIONS: Record<string, Record<string, Action>> = {
  user: {
    add: async (backend, { positionals: [name], values }) => {
      await backend.addUser(required(name, 'NAME'), await password(values), values.admin === true);
      console.log(`user ${name} added${values.admin ? ' (admin)' : ''}`);
    },
    passwd: async (backend, { positionals: [name], values }) => {
      await backend.setPassword(required(name, 'NAME'), await password(values));
      console.log(`password of ${name} changed`);
    },
    admin: async (backend, { positionals: [name, flag] }) => {
      if (flag !== 'true' && flag !== 'false') throw new AdminInputError('usage: wharf user admin NAME true|false');
      await backend.setAdmin(required(name, 'NAME'), flag === 'true');
    },
    rm: async (backend, { positionals: [name] }) => backend.removeUser(required(name, 'NAME')),
    list: async (backend, { values }) => print(values, await backend.listUsers()),
  },
  team: {
    create: async (backend, { positionals: [name] }) => backend.createTeam(required(name, 'NAME')),
    rm: async (backend, { positionals: [name] }) => backend.deleteTeam(required(name, 'NAME')),
    add: async (backend, { positionals: [team, user] }) => backend.addTeamMember(required(team, 'TEAM'), required(user, 'USER')),
    remove: async (backend, { positionals: [team, user] }) => backend.removeTeamMember(required(team, 'TEAM'), required(user, 'USER')),
    list: async (backend, { values }) => print(values, (await backend.listTeams()).map((t) => ({ team: t.name, members: t.members.join(',') }))),
  },
  member: {
    set: async (backend, { positionals: [namespace, role], values }) => backend.setMembership(required(namespace, 'NAMESPACE'), principal(values), required(role, 'ROLE')),
    rm: async (backend, { positionals: [namespace], values }) => backend.removeMembership(required(namespace, 'NAMESPACE'), principal(values)),
    list: async (backend, { positionals: [namespace], values }) => print(values, (await backend.listMemberships(namespace)).map((m) => ({
      namespace: m.namespace, [m.principal.kind]: m.principal.name, role: m.role,
    }))),
  },
  robot: {
    create: async (backend, { positionals: [name], values }) => {
      const grants = parseGrants(((values.grant as string[] | undefined) ?? []).join(';'));
      const days = values.expires === undefined ? undefined : Number(values.expires);
      if (days !== undefined && !(days > 0)) throw new AdminInputError('--expires takes a number of days');
      const capabilities = ((values.capability as string[] | undefined) ?? []).flatMap((text) => text.split(',')).map((text) => text.trim()) as Capability[];
      const created = await backend.createRobot(required(name, 'NAME'), grants, days, capabilities);
      if (values.json) console.log(JSON.stringify(created));
      else console.log(`username: ${created.username}\nsecret:   ${created.secret}\n(the secret is shown only now)`);
    },
    list: async (backend, { values }) => print(values, (await backend.listRobots()).map((r) => ({
      robot: r.name, grants: r.grants.map((g) => `${g.repositories}:${g.actions.join(',')}`).join(';'), capabilities: (r.capabilities ?? []).join(','),
      expires: r.expiresAt ?? '', revoked: r.revokedAt ?? '', lastUsed: r.lastUsedAt ?? '',
    }))),
    revoke: async (backend, { positionals: [name] }) => backend.revokeRobot(required(name, 'NAME')),
  },
  issuer: {
    add: async (backend, { positionals: [name], values }) => {
      const rules = [...((values.rule as string[] | undefined) ?? []).map(parseClaimRule), ...rulesFromFile(values['rules-file'] as string | undefined)];
      await backend.addIssuer({
        name: required(name, 'NAME'), issuer: required(values.issuer as string, '--issuer'), audience: required(values.audience as string, '--audience'),
        jwks: values['jwks-file'] === undefined ? undefined : readText(values['jwks-file'] as string),
        jwksUrl: values['jwks-url'] as string | undefined, rules,
      });
    },
    list: async (backend, { values }) => print(values, (await backend.listIssuers()).map((i) => ({
      issuer: i.name, url: i.issuer, audience: i.audience, keys: i.jwksUrl ?? 'inline JWKS', rules: i.rules.length,
    }))),
    rm: async (backend, { positionals: [name] }) => backend.deleteIssuer(required(name, 'NAME')),
  },
  token: {
    'rotate-key': async (backend) => {
      console.log(`new token-signing key ${await backend.rotateKey()}; running servers sign with it within a minute`);
    },
  },
};

/** Runs `wharf <group> <action> …` for group user, team, member, robot, issuer or token. */
export async function identityCommand(group: string, argv: string[]): Promise<number> {
  const [actionName, ...rest] = argv;
  const action = actionName === undefined ? undefined : ACTIONS[group]?.[actionName];
  const spec = actionName === undefined ? undefined : COMMAND_TABLE[group]?.subcommands?.[actionName];
  if (!action || !spec) {
    console.error(`usage: wharf ${group} ${Object.keys(ACTIONS[group] ?? {}).join('|')} … (see "wharf ${group} --help")`);
    return 2;
  }
  const parsed = parseArgs({ args: rest, options: parseOptions(spec.flags), allowPositionals: true, strict: true }) as Parsed;
  let local: LocalBackend | undefined;
  try {
    const target = resolveTarget(parsed.values as Record<string, string | undefined>);
    const backend = target.kind === 'server' ? remoteBackend(new ServerClient(target.url, target.credentials)) : (local = await LocalBackend.open(target));
    await action(backend, parsed);
    return 0;
  } catch (error) {
    if (error instanceof AdminInputError || error instanceof TargetError || error instanceof ServerError || error instanceof UnreachableError) {
      console.error(`wharf ${group} ${actionName}: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await local?.close();
  }
}

/** The data folder's identity database, used directly. */
class LocalBackend implements IdentityBackend {
  readonly #store: IdentityStore;
  readonly #admin: IdentityAdmin;

  private constructor(store: IdentityStore) {
    this.#store = store;
    this.#admin = new IdentityAdmin(store);
  }

  static async open(target: Extract<AdminTarget, { kind: 'folder' }>): Promise<LocalBackend> {
    requireDataFolder(target);
    // The data folder's configuration says where identities live: PostgreSQL when the server's metadata is there.
    const store = openIdentityStore(target.config, identityDatabasePath(target.path));
    await store.migrate();
    return new LocalBackend(store);
  }

  close(): Promise<void> { return this.#store.close(); }
  addUser(name: string, password: string, admin: boolean) { return this.#admin.addUser(name, password, admin); }
  setPassword(name: string, password: string) { return this.#admin.setPassword(name, password); }
  setAdmin(name: string, admin: boolean) { return this.#admin.setAdmin(name, admin); }
  removeUser(name: string) { return this.#admin.removeUser(name); }
  async listUsers() { return (await this.#store.listUsers()).map(({ username, admin, createdAt }) => ({ username, admin, created: createdAt.toISOString() })); }
  createTeam(name: string) { return this.#admin.createTeam(name); }
  async deleteTeam(name: string) { if (!(await this.#store.deleteTeam(name))) throw new AdminInputError(`no team ${name}`); }
  listTeams() { return this.#store.listTeams(); }
  addTeamMember(team: string, user: string) { return this.#admin.addTeamMember(team, user); }
  async removeTeamMember(team: string, user: string) { if (!(await this.#store.removeTeamMember(team, user))) throw new AdminInputError(`${user} is not in ${team}`); }
  setMembership(namespace: string, who: Principal, role: string) { return this.#admin.setMembership(namespace, who, role); }
  async removeMembership(namespace: string, who: Principal) { if (!(await this.#store.removeMembership(namespace, who))) throw new AdminInputError('no such membership'); }
  listMemberships(namespace: string | undefined) { return this.#store.listMemberships(namespace); }
  createRobot(name: string, grants: Grant[], days: number | undefined, capabilities: Capability[]) {
    return this.#admin.createRobot(name, grants, days ? new Date(Date.now() + days * 86400_000) : undefined, capabilities);
  }
  async listRobots() {
    return (await this.#store.listRobots()).map((r) => ({
      name: r.name, grants: r.grants, capabilities: r.capabilities, expiresAt: r.expiresAt?.toISOString(), revokedAt: r.revokedAt?.toISOString(), lastUsedAt: r.lastUsedAt?.toISOString(),
    }));
  }
  revokeRobot(name: string) { return this.#admin.revokeRobot(name); }
  addIssuer(issuer: Issuer) { return this.#admin.addIssuer(issuer); }
  listIssuers() { return this.#store.listIssuers(); }
  async deleteIssuer(name: string) { if (!(await this.#store.deleteIssuer(name))) throw new AdminInputError(`no issuer ${name}`); }
  async rotateKey() {
    const keys = new TokenKeys(this.#store);
    await keys.load();
    return keys.rotate();
  }
}

/** The same operations over a server's /api/v1 (see src/auth/admin-api.ts for the routes). */
function remoteBackend(server: ServerClient): IdentityBackend {
  const call = server.call.bind(server);
  const api = '/api/v1';
  return {
    addUser: async (username, password, admin) => { await call('POST', `${api}/users`, { username, password, admin }); },
    setPassword: async (name, password) => { await call('PUT', `${api}/users/${segment(name, 'NAME')}/password`, { password }); },
    setAdmin: async (name, admin) => { await call('PUT', `${api}/users/${segment(name, 'NAME')}/admin`, { admin }); },
    removeUser: async (name) => { await call('DELETE', `${api}/users/${segment(name, 'NAME')}`); },
    listUsers: async () => ((await call('GET', `${api}/users`)) as { username: string; admin: boolean; createdAt: string }[])
      .map(({ username, admin, createdAt }) => ({ username, admin, created: createdAt })),
    createTeam: async (name) => { await call('POST', `${api}/teams`, { name }); },
    deleteTeam: async (name) => { await call('DELETE', `${api}/teams/${segment(name, 'NAME')}`); },
    listTeams: async () => (await call('GET', `${api}/teams`)) as { name: string; members: string[] }[],
    addTeamMember: async (team, user) => { await call('PUT', `${api}/teams/${segment(team, 'TEAM')}/members/${segment(user, 'USER')}`); },
    removeTeamMember: async (team, user) => { await call('DELETE', `${api}/teams/${segment(team, 'TEAM')}/members/${segment(user, 'USER')}`); },
    setMembership: async (namespace, who, role) => { await call('PUT', `${api}/namespaces/${segment(namespace, 'NAMESPACE')}/members`, { kind: who.kind, name: who.name, role }); },
    removeMembership: async (namespace, who) => {
      await call('DELETE', `${api}/namespaces/${segment(namespace, 'NAMESPACE')}/members/${who.kind}/${segment(who.name, who.kind.toUpperCase())}`);
    },
    listMemberships: async (namespace) => {
      if (namespace === undefined) throw new AdminInputError('with --server, name the NAMESPACE whose roles to list');
      return (await call('GET', `${api}/namespaces/${segment(namespace, 'NAMESPACE')}/members`)) as Membership[];
    },
    createRobot: async (name, grants, days, capabilities) => (await call('POST', `${api}/robots`, {
      name, grants, capabilities, ...(days !== undefined ? { expiresInSeconds: Math.round(days * 86400) } : {}),
    })) as { username: string; secret: string },
    listRobots: async () => (await call('GET', `${api}/robots`)) as RobotRow[],
    revokeRobot: async (name) => { await call('DELETE', `${api}/robots/${segment(name, 'NAME')}`); },
    addIssuer: async (issuer) => {
      let jwks: unknown;
      if (issuer.jwks !== undefined) {
        try {
          jwks = JSON.parse(issuer.jwks);
        } catch (error) {
          throw new AdminInputError(`--jwks-file: not JSON: ${(error as Error).message}`);
        }
      }
      await call('POST', `${api}/issuers`, { name: issuer.name, issuer: issuer.issuer, audience: issuer.audience, jwks, jwksUrl: issuer.jwksUrl, rules: issuer.rules as ClaimRule[] });
    },
    listIssuers: async () => (await call('GET', `${api}/issuers`)) as Issuer[],
    deleteIssuer: async (name) => { await call('DELETE', `${api}/issuers/${segment(name, 'NAME')}`); },
    rotateKey: async () => ((await call('POST', `${api}/token-keys/rotate`)) as { kid: string }).kid,
  };
}

function required(value: string | undefined, what: string): string {
  if (value === undefined || value === '') throw new AdminInputError(`missing ${what}`);
  return value;
}

function principal(values: Parsed['values']): { kind: 'user' | 'team'; name: string } {
  if (typeof values.user === 'string' && values.team === undefined) return { kind: 'user', name: values.user };
  if (typeof values.team === 'string' && values.user === undefined) return { kind: 'team', name: values.team };
  throw new AdminInputError('give exactly one of --user NAME and --team NAME');
}

async function password(values: Parsed['values']): Promise<string> {
  if (values['password-stdin']) return (await readSecret(undefined)).replace(/\r?\n$/, '');
  return readSecret('Password: ');
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new AdminInputError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

function rulesFromFile(path: string | undefined) {
  if (path === undefined) return [];
  try {
    return JSON.parse(readText(path));
  } catch (error) {
    if (error instanceof AdminInputError) throw error;
    throw new AdminInputError(`${path}: not JSON: ${(error as Error).message}`);
  }
}

function print(values: Parsed['values'], rows: Record<string, unknown>[]): void {
  printRows(rows, values.json === true);
}
