import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeIdentityStore } from './identity-store.contract.ts';
import { SqliteIdentityStore } from './sqlite-identity-store.ts';

describeIdentityStore('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-identity-store-'));
  const store = new SqliteIdentityStore(join(dir, 'identity.db'));
  return {
    store,
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
