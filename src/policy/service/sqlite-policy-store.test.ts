import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePolicyStore } from './policy-store.contract.ts';
import { SqlitePolicyStore } from './sqlite-policy-store.ts';

describePolicyStore('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-policy-store-'));
  const store = new SqlitePolicyStore(join(dir, 'policy.db'));
  return {
    store,
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
