/** `wharf migrate --to postgres://…`: moves the data folder's SQLite databases into PostgreSQL. */
import { parseArgs } from 'node:util';
import { COMMAND_TABLE, parseOptions } from './command-table.ts';
import { ConfigError, loadConfig } from '../config/config.ts';
import { CONFIG_KEYS } from '../config/keys.ts';
import { MigrationError, migrateToPostgres } from '../storage/migrate-to-postgres.ts';

export const MIGRATE_USAGE = `Usage: wharf migrate --to postgres://USER:PASSWORD@HOST:PORT/DATABASE [--data-dir DIR] [--config FILE]

Copies the registry metadata (repositories, blob links, manifests byte for byte, tags, referrers,
upload sessions), the policies, decision log, quarantines and namespace settings, and the identities
(users, teams, memberships, robots, OIDC issuers, refresh tokens, token-signing keys, audit trail) of
the data folder's SQLite databases into an empty PostgreSQL database, in one transaction. Blobs stay in the
data folder. Stop the server first; afterwards start it with metadata.postgres.url set to the URL.`;

export async function migrateCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: parseOptions(COMMAND_TABLE.migrate!.self!.flags), strict: true }) as
    { values: { to?: string; 'data-dir'?: string; data?: string; config?: string; help?: boolean } };
  if (values.help) {
    console.log(MIGRATE_USAGE);
    return 0;
  }
  const target = (values.to as string | undefined) ?? '';
  const checked = CONFIG_KEYS['metadata.postgres.url'].parse(target);
  if (target === '' || !checked.ok) {
    console.error(`wharf migrate: --to must be a postgres:// or postgresql:// URL\n\n${MIGRATE_USAGE}`);
    return 2;
  }
  let config;
  try {
    config = loadConfig({ file: values.config ?? process.env.WHARF_CONFIG, env: process.env, flags: { data: values['data-dir'] ?? values.data } });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`wharf: ${error.message}`);
      return 2;
    }
    throw error;
  }
  try {
    const moved = await migrateToPostgres(config.data, target);
    console.log(`migrated ${config.data} to PostgreSQL: ${moved.repositories} repositories, ${moved.blobs} blobs, ${moved.manifests} manifests, `
      + `${moved.tags} tags, ${moved.uploads} upload sessions, ${moved.policies} policies (${moved.policyVersions} versions), ${moved.decisions} decisions, `
      + `${moved.users} users, ${moved.robots} robots`);
    console.log(`start the server with metadata.postgres.url (WHARF_METADATA_POSTGRES_URL) set to this URL; blobs stay in ${config.data}`);
    return 0;
  } catch (error) {
    if (error instanceof MigrationError) {
      console.error(`wharf migrate: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
