/**
 * The registry's metadata store as configured: PostgreSQL when `metadata.postgres.url` is set
 * (several replicas share it), else SQLite in the data folder (the embedded default).
 */
import { join } from 'node:path';
import type { WharfConfig } from '../../config/config.ts';
import type { MetadataStore } from './metadata-store.ts';
import { PostgresMetadataStore } from './postgres-metadata-store.ts';
import { SqliteMetadataStore } from './sqlite-metadata-store.ts';

export function openMetadataStore(config: Pick<WharfConfig, 'data' | 'metadata'>): MetadataStore {
  const { url, maxConnections } = config.metadata.postgres;
  if (url !== '') return new PostgresMetadataStore({ url, maxConnections });
  return new SqliteMetadataStore(join(config.data, 'metadata.db'));
}
