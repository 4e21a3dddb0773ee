import { it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from './config.ts';

it('metadata.postgres.url defaults to empty (SQLite) and takes a postgres:// URL from WHARF_METADATA_POSTGRES_URL', () => {
  assert.deepEqual(loadConfig().metadata.postgres, { url: '', maxConnections: 10 });
  const url = 'postgres://wharf:secret@db.internal:5432/wharf';
  const config = loadConfig({ env: { WHARF_METADATA_POSTGRES_URL: url, WHARF_METADATA_POSTGRES_MAX_CONNECTIONS: '25' } });
  assert.deepEqual(config.metadata.postgres, { url, maxConnections: 25 });
});

it('rejects a metadata.postgres.url that is not a PostgreSQL URL, naming the key', () => {
  for (const value of ['mysql://db/wharf', 'db.internal:5432', 'postgres://']) {
    assert.throws(() => loadConfig({ env: { WHARF_METADATA_POSTGRES_URL: value } }), (error: Error) =>
      error instanceof ConfigError && error.message.includes('metadata.postgres.url') && error.message.includes('postgres://'));
  }
});
