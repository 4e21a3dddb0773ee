import { after, before, describe } from 'node:test';
import { startPostgres, postgresSkip, type RunningPostgres } from '../../../test/support/postgres.ts';
import { describeMetadataStore } from './metadata-store.contract.ts';
import { PostgresMetadataStore } from './postgres-metadata-store.ts';

describe('PostgreSQL metadata store', { skip: postgresSkip() }, () => {
  let postgres: RunningPostgres;
  before(async () => {
    postgres = await startPostgres();
  });
  after(() => postgres?.stop());

  // A fresh database per test: each starts from an empty schema, as each SQLite test gets a new file.
  describeMetadataStore('postgres', async () => {
    const store = new PostgresMetadataStore({ url: await postgres.createDatabase(), maxConnections: 4 });
    return { store, cleanup: () => store.close() };
  });
});
