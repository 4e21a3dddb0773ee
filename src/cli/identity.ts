/**
 * Administration of identities from the command line, against the data folder of a (running or
 * stopped) Wharf:
 *
 *   wharf user add NAME [--admin] [--password-stdin]     wharf user passwd NAME [--password-stdin]
 *   wharf user rm NAME | list | admin NAME true|false
 *   wharf team create|rm NAME | list | add TEAM USER | remove TEAM USER
 *   wharf member set NAMESPACE (--user U | --team T) ROLE | rm NAMESPACE (--user U | --team T) | list [NAMESPACE]
 *   wharf robot create NAME [--grant 'REPOS:ACTIONS[;…]'] [--capability admission] [--expires DAYS] | list | revoke NAME
 *   wharf issuer add NAME --issuer URL --audience AUD (--jwks-file F | --jwks-url U) --rule 'CLAIM=PATTERN,… => GRANTS'… | list | rm NAME
 *   wharf token rotate-key
 * Every command takes --data DIR or --config FILE (as `wharf serve` does).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AdminInputError, IdentityAdmin, parseClaimRule, parseGrants } from '../auth/identity-admin.ts';
import { identityDatabasePath } from '../auth/identity-extension.ts';
import type { IdentityStore } from '../auth/identity-store.ts';
import type { Capability } from '../auth/roles.ts';
import { SqliteIdentityStore } from '../auth/sqlite-identity-store.ts';
import { TokenKeys } from '../auth/token-keys.ts';
import { ConfigError, loadConfig } from '../config/config.ts';
import { readSecret } from './prompt.ts';
import { printRows } from './table.ts';

type Parsed = { positionals: string[]; values: Record<string, string | boolean | string[] | undefined> };
type Action = (admin: IdentityAdmin, store: IdentityStore, args: Parsed) => Promise<void>;

const OPTIONS = {
  data: { type: 'string' }, config: { type: 'string' }, admin: { type: 'boolean' }, 'password-stdin': { type: 'boolean' },
  user: { type: 'string' }, team: { type: 'string' }, grant: { type: 'string', multiple: true }, capability: { type: 'string', multiple: true }, expires: { type: 'string' },
  issuer: { type: 'string' }, audience: { type: 'string' }, 'jwks-file': { type: 'string' }, 'jwks-url': { type: 'string' },
  rule: { type: 'string', multiple: true }, 'rules-file': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
} as const;

const ACTIONS: Record<string, Record<string, Action>> = {
  user: {
    add: async (admin, _, { positionals: [name], values }) => {
      await admin.addUser(required(name, 'NAME'), await password(values), values.admin === true);
      console.log(`user ${name} added${values.admin ? ' (admin)' : ''}`);
    },
    passwd: async (admin, _, { positionals: [name], values }) => {
      await admin.setPassword(required(name, 'NAME'), await password(values));
      console.log(`password of ${name} changed`);
    },
    admin: async (admin, _, { positionals: [name, flag] }) => {
      if (flag !== 'true' && flag !== 'false') throw new AdminInputError('usage: wharf user admin NAME true|false');
      await admin.setAdmin(required(name, 'NAME'), flag === 'true');
    },
    rm: async (admin, _, { positionals: [name] }) => admin.removeUser(required(name, 'NAME')),
    list: async (_, store, { values }) => print(values, (await store.listUsers()).map(({ username, admin, createdAt }) => ({ username, admin, created: createdAt.toISOString() }))),
  },
  team: {
    create: async (admin, _, { positionals: [name] }) => admin.createTeam(required(name, 'NAME')),
    rm: async (_, store, { positionals: [name] }) => { if (!(await store.deleteTeam(required(name, 'NAME')))) throw new AdminInputError(`no team ${name}`); },
    add: async (admin, _, { positionals: [team, user] }) => admin.addTeamMember(required(team, 'TEAM'), required(user, 'USER')),
    remove: async (_, store, { positionals: [team, user] }) => {
      if (!(await store.removeTeamMember(required(team, 'TEAM'), required(user, 'USER')))) throw new AdminInputError(`${user} is not in ${team}`);
    },
    list: async (_, store, { values }) => print(values, (await store.listTeams()).map((t) => ({ team: t.name, members: t.members.join(',') }))),
  },
  member: {
    set: async (admin, _, { positionals: [namespace, role], values }) => admin.setMembership(required(namespace, 'NAMESPACE'), principal(values), required(role, 'ROLE')),
    rm: async (_, store, { positionals: [namespace], values }) => {
      if (!(await store.removeMembership(required(namespace, 'NAMESPACE'), principal(values)))) throw new AdminInputError('no such membership');
    },
    list: async (_, store, { positionals: [namespace], values }) => print(values, (await store.listMemberships(namespace)).map((m) => ({
      namespace: m.namespace, [m.principal.kind]: m.principal.name, role: m.role,
    }))),
  },
  robot: {
    create: async (admin, _, { positionals: [name], values }) => {
      const grants = parseGrants(((values.grant as string[] | undefined) ?? []).join(';'));
      const days = values.expires === undefined ? undefined : Number(values.expires);
      if (days !== undefined && !(days > 0)) throw new AdminInputError('--expires takes a number of days');
      const capabilities = ((values.capability as string[] | undefined) ?? []).flatMap((text) => text.split(',')).map((text) => text.trim()) as Capability[];
      const created = await admin.createRobot(required(name, 'NAME'), grants, days ? new Date(Date.now() + days * 86400_000) : undefined, capabilities);
      if (values.json) console.log(JSON.stringify(created));
      else console.log(`username: ${created.username}\nsecret:   ${created.secret}\n(the secret is shown only now)`);
    },
    list: async (_, store, { values }) => print(values, (await store.listRobots()).map((r) => ({
      robot: r.name, grants: r.grants.map((g) => `${g.repositories}:${g.actions.join(',')}`).join(';'), capabilities: (r.capabilities ?? []).join(','),
      expires: r.expiresAt?.toISOString() ?? '', revoked: r.revokedAt?.toISOString() ?? '', lastUsed: r.lastUsedAt?.toISOString() ?? '',
    }))),
    revoke: async (admin, _, { positionals: [name] }) => admin.revokeRobot(required(name, 'NAME')),
  },
  issuer: {
    add: async (admin, _, { positionals: [name], values }) => {
      const rules = [...((values.rule as string[] | undefined) ?? []).map(parseClaimRule), ...rulesFromFile(values['rules-file'] as string | undefined)];
      await admin.addIssuer({
        name: required(name, 'NAME'), issuer: required(values.issuer as string, '--issuer'), audience: required(values.audience as string, '--audience'),
        jwks: values['jwks-file'] === undefined ? undefined : readText(values['jwks-file'] as string),
        jwksUrl: values['jwks-url'] as string | undefined, rules,
      });
    },
    list: async (_, store, { values }) => print(values, (await store.listIssuers()).map((i) => ({
      issuer: i.name, url: i.issuer, audience: i.audience, keys: i.jwksUrl ?? 'inline JWKS', rules: i.rules.length,
    }))),
    rm: async (_, store, { positionals: [name] }) => { if (!(await store.deleteIssuer(required(name, 'NAME')))) throw new AdminInputError(`no issuer ${name}`); },
  },
  token: {
    'rotate-key': async (_, store) => {
      const keys = new TokenKeys(store);
      await keys.load();
      console.log(`new token-signing key ${await keys.rotate()}; running servers sign with it within a minute`);
    },
  },
};

/** Runs `wharf <group> <action> …` for group user, team, member, robot, issuer or token. */
export async function identityCommand(group: string, argv: string[]): Promise<number> {
  const [actionName, ...rest] = argv;
  const action = actionName === undefined ? undefined : ACTIONS[group]?.[actionName];
  if (!action) {
    console.error(`usage: wharf ${group} ${Object.keys(ACTIONS[group] ?? {}).join('|')} … (see "wharf help")`);
    return 2;
  }
  const parsed = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true }) as Parsed;
  let store: SqliteIdentityStore | undefined;
  try {
    const config = loadConfig({ file: parsed.values.config as string | undefined, env: process.env, flags: { data: parsed.values.data as string | undefined } });
    mkdirSync(config.data, { recursive: true });
    store = new SqliteIdentityStore(identityDatabasePath(config.data));
    await store.migrate();
    await action(new IdentityAdmin(store), store, parsed);
    return 0;
  } catch (error) {
    if (error instanceof AdminInputError || error instanceof ConfigError) {
      console.error(`wharf ${group} ${actionName}: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await store?.close();
  }
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
