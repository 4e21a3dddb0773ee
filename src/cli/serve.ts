/** `wharf serve`: load the config, open storage, listen, and stop gracefully on SIGTERM/SIGINT. */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/config.ts';
import type { ConfigKey } from '../config/keys.ts';
import { exposureProblem } from '../server/exposure.ts';
import { extensionsFor } from '../server/extensions.ts';
import { listen } from '../server/http-server.ts';
import { createLogger } from '../server/logger.ts';
import { createRegistryApp } from '../server/registry-app.ts';

export const SERVE_USAGE = `Usage: wharf serve [--listen HOST:PORT] [--data DIR] [--config FILE] [--log-level LEVEL]
                   [--tls-cert FILE --tls-key FILE] [--allow-anonymous]

Serves the registry. Every setting can also come from the YAML file given with --config or from
WHARF_* environment variables (see the README's configuration reference).`;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: 'string' },
      data: { type: 'string' },
      config: { type: 'string' },
      'log-level': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'allow-anonymous': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(SERVE_USAGE);
    return 0;
  }
  let config;
  try {
    const flags: Partial<Record<ConfigKey, string>> = {
      listen: values.listen, data: values.data, 'log.level': values['log-level'],
      'tls.cert': values['tls-cert'], 'tls.key': values['tls-key'],
      'auth.allowAnonymous': values['allow-anonymous'] ? 'true' : undefined,
    };
    config = loadConfig({ file: values.config ?? process.env.WHARF_CONFIG, env: process.env, flags });
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
  const logger = createLogger(config.log.level);
  const app = await createRegistryApp(config, logger, await extensionsFor(config));
  const running = await listen(app, config.listen.host, config.listen.port, config.tls);
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
