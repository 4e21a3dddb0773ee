import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeMetadataStore } from './metadata-store.contract.ts';
import { SqliteMetadataStore } from './sqlite-metadata-store.ts';

describeMetadataStore('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-meta-'));
  const store = new SqliteMetadataStore(join(dir, 'metadata.db'));
  return {
    store,
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
