/**
 * The policy store as configured: PostgreSQL when `metadata.postgres.url` is set, beside the
 * registry metadata, so every replica enforces the same policies and logs to one decision log;
 * else SQLite at `sqlitePath` in the data folder.
 */
import type { WharfConfig } from '../../config/config.ts';
import type { PolicyStore } from './policy-store.ts';
import { PostgresPolicyStore } from './postgres-policy-store.ts';
import { SqlitePolicyStore } from './sqlite-policy-store.ts';

export function openPolicyStore(config: Pick<WharfConfig, 'metadata'>, sqlitePath: string): PolicyStore {
  const { url, maxConnections } = config.metadata.postgres;
  if (url !== '') return new PostgresPolicyStore({ url, maxConnections });
  return new SqlitePolicyStore(sqlitePath);
}
