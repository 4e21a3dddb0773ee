/**
 * The identity store as configured: PostgreSQL when `metadata.postgres.url` is set, beside the
 * registry metadata and the policies, so every replica knows the same users, robots, signing keys
 * and refresh tokens (a token issued by one is accepted by all); else SQLite at `sqlitePath` in
 * the data folder.
 */
import type { WharfConfig } from '../config/config.ts';
import type { IdentityStore } from './identity-store.ts';
import { PostgresIdentityStore } from './postgres-identity-store.ts';
import { SqliteIdentityStore } from './sqlite-identity-store.ts';

export function openIdentityStore(config: Pick<WharfConfig, 'metadata'>, sqlitePath: string): IdentityStore {
  const { url, maxConnections } = config.metadata.postgres;
  if (url !== '') return new PostgresIdentityStore({ url, maxConnections });
  return new SqliteIdentityStore(sqlitePath);
}
