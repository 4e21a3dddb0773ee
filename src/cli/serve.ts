/** `wharf serve`: load the config, open storage, listen, and stop gracefully on SIGTERM/SIGINT. */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type WharfConfig } from '../config/config.ts';
import { COMMAND_TABLE, parseOptions } from './command-table.ts';
import { commandHelp } from './help.ts';
import type { ConfigKey } from '../config/keys.ts';
import { exposureProblem } from '../server/exposure.ts';
import { extensionsFor } from '../server/extensions.ts';
import { listen, type RunningServer } from '../server/http-server.ts';
import { createLogger, type Logger } from '../server/logger.ts';
import { createRegistryApp, type RegistryApp } from '../server/registry-app.ts';

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: parseOptions(COMMAND_TABLE.serve!.self!.flags), strict: true });
  if (values.help) {
    console.log(await commandHelp('serve', undefined, argv));
    return 0;
  }
  if (values.data !== undefined && values['data-dir'] !== undefined) {
    console.error('wharf: give the data folder once: --data-dir DIR (--data is the same flag)');
    return 2;
  }
  let config;
  try {
    const flags: Partial<Record<ConfigKey, string>> = {
      listen: values.listen as string | undefined, data: (values['data-dir'] ?? values.data) as string | undefined,
      'log.level': values['log-level'] as string | undefined,
      'tls.cert': values['tls-cert'] as string | undefined, 'tls.key': values['tls-key'] as string | undefined,
      'auth.allowAnonymous': values['allow-anonymous'] ? 'true' : undefined,
    };
    config = loadConfig({ file: (values.config as string | undefined) ?? process.env.WHARF_CONFIG, env: process.env, flags });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`wharf: ${error.message}`);
      return 2;
    }
    throw error;
  }
  const problem = exposureProblem(config);
  if (problem) {
    console.error(`wharf: ${problem}`);
    return 2;
  }
  const dataProblem = notAFolder(config.data);
  if (dataProblem) {
    console.error(`wharf: ${dataProblem}`);
    return 2;
  }
  const logger = createLogger(config.log.level);
  // Anything that fails before the ready line ends the process: close what was opened (hashing
  // thread, databases, timers) so that nothing keeps the event loop alive, and exit non-zero.
  let app: RegistryApp | undefined;
  let running: RunningServer;
  try {
    app = await createRegistryApp(config, logger, await extensionsFor(config));
    running = await listen(app, config.listen.host, config.listen.port, config.tls);
  } catch (error) {
    await app?.close().catch(() => undefined);
    logger.flush();
    console.error(`wharf: cannot start: ${startupProblem(error, config.listen)}`);
    return 1;
  }
  if (config.auth.enabled) {
    await warnWithoutAdministrator(config, logger)
      .catch((error: unknown) => logger.warn({ err: error }, 'could not check for an administrator'));
  }
  console.log(`wharf listening on ${running.url}`);
  await new Promise<void>((resolve) => {
    let stopping = false;
    // Handlers stay installed: a repeated signal must not kill the process mid-shutdown, which is
    // already bounded by shutdown.timeoutSeconds.
    const stop = (signal: string) => {
      logger.info({ signal, repeated: stopping }, 'shutting down');
      stopping = true;
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await running.stop(config.shutdown.timeoutSeconds * 1000);
  await app.close();
  logger.flush();
  return 0;
}

/** The data folder must be a folder (it is made when missing); a file there is a mistake to name. */
function notAFolder(path: string): string | undefined {
  try {
    if (!statSync(path).isDirectory()) return `config key data: ${resolve(path)} is a file, not a data folder (choose the folder with --data-dir DIR or WHARF_DATA)`;
  } catch {
    // missing: createRegistryApp makes it
  }
  return undefined;
}

/** A start-up failure in words that say what to change. */
function startupProblem(error: unknown, listenOn: { host: string; port: number }): string {
  const err = error as NodeJS.ErrnoException;
  const where = `${listenOn.host.includes(':') ? `[${listenOn.host}]` : listenOn.host}:${listenOn.port}`;
  if (err?.code === 'EADDRINUSE') return `${where} is already in use (EADDRINUSE): stop what listens there, or choose another address with --listen or WHARF_LISTEN`;
  if (err?.code === 'EACCES') return `not allowed to listen on ${where} (EACCES): ports below 1024 need privileges; choose another with --listen`;
  if (err?.code === 'EADDRNOTAVAIL') return `${where} is not an address of this machine (EADDRNOTAVAIL); choose another with --listen`;
  return err?.message ?? String(error);
}

/**
 * With authentication on and no administrator, nobody can log in to administer the registry:
 * say so at start, with the command that creates the first one (it works on the data folder, as
 * no administrator exists yet to use --server with).
 */
async function warnWithoutAdministrator(config: WharfConfig, logger: Logger): Promise<void> {
  const dataDir = config.data;
  // Loaded here, not at the top: a server without authentication never loads the identity code.
  const { identityDatabasePath } = await import('../auth/identity-extension.ts');
  const { openIdentityStore } = await import('../auth/open-identity-store.ts');
  const store = openIdentityStore(config, identityDatabasePath(dataDir));
  try {
    await store.migrate();
    if ((await store.listUsers()).some((user) => user.admin)) return;
    logger.warn({ data: resolve(dataDir) },
      `authentication is on but there is no administrator: create one with \`wharf user add NAME --admin --data-dir ${resolve(dataDir)}\``);
  } finally {
    await store.close();
  }
}
