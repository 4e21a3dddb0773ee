import { after, before, describe } from 'node:test';
import { startPostgres, postgresSkip, type RunningPostgres } from '../../test/support/postgres.ts';
import { describeIdentityStore } from './identity-store.contract.ts';
import { PostgresIdentityStore } from './postgres-identity-store.ts';

describe('PostgreSQL identity store', { skip: postgresSkip() }, () => {
  let postgres: RunningPostgres;
  before(async () => {
    postgres = await startPostgres();
  });
  after(() => postgres?.stop());

  describeIdentityStore('postgres', async () => {
    const store = new PostgresIdentityStore({ url: await postgres.createDatabase(), maxConnections: 4 });
    return { store, cleanup: () => store.close() };
  });
});
