import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeBlobStore } from './blob-store.contract.ts';
import { FilesystemBlobStore } from './filesystem-blob-store.ts';

describeBlobStore('filesystem', async () => {
  const root = await mkdtemp(join(tmpdir(), 'wharf-blobs-'));
  const store = new FilesystemBlobStore(root);
  await store.init();
  return { store, cleanup: () => rm(root, { recursive: true, force: true }) };
});
