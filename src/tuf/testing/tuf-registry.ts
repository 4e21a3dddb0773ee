/**
 * An in-process Wharf with the extensions its configuration turns on (TUF among them) on a
 * loopback port, for TUF tests: a temporary data folder that survives restarts (the arbitrary
 * artifact test repoints a tag in the stopped registry's database), and direct access to it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { loadConfig, type WharfConfig } from '../../config/config.ts';
import { listen } from '../../server/http-server.ts';
import { createLogger } from '../../server/logger.ts';
import { createRegistryApp } from '../../server/registry-app.ts';
import { extensionsFor } from '../../server/extensions.ts';

export interface TufRegistry {
  readonly url: string;
  readonly host: string;
  readonly dataDir: string;
  /** Stops the server (the data folder stays until `dispose`). */
  stop(): Promise<void>;
  dispose(): Promise<void>;
}

export async function startTufRegistry(env: Record<string, string> = {}, dataDir?: string): Promise<TufRegistry> {
  const folder = dataDir ?? await mkdtemp(join(tmpdir(), 'wharf-tuf-test-'));
  const config: WharfConfig = loadConfig({ env: { WHARF_LISTEN: '127.0.0.1:0', WHARF_DATA: folder, WHARF_LOG_LEVEL: 'silent', WHARF_SUPPLYCHAIN_ENABLED: 'false', ...env } });
  const app = await createRegistryApp(config, createLogger(config.log.level), await extensionsFor(config));
  const server = await listen(app, config.listen.host, config.listen.port);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server.stop(1000);
    await app.close();
  };
  return {
    url: server.url, host: new URL(server.url).host, dataDir: folder, stop,
    async dispose() {
      await stop();
      await rm(folder, { recursive: true, force: true });
    },
  };
}

/** Points a tag at another manifest of its repository in the registry's database, as a compromised registry would. */
export function repointTagInDatabase(dataDir: string, repository: string, tag: string, digest: string): void {
  const db = new DatabaseSync(join(dataDir, 'metadata.db'));
  try {
    const result = db.prepare('UPDATE tags SET digest = ? WHERE name = ? AND repository_id = (SELECT id FROM repositories WHERE name = ?)').run(digest, tag, repository);
    if (result.changes !== 1) throw new Error(`no tag ${repository}:${tag} to repoint`);
  } finally {
    db.close();
  }
}
