/**
 * `wharf login URL` and `wharf logout [URL]`: credentials for administration commands run against a
 * server. The login is checked against the server first (a wrong password is reported, not
 * stored); the file is written readable by its owner only, like docker's config.json.
 */
import { parseArgs } from 'node:util';
import { UnreachableError } from '../client/fetch-errors.ts';
import { credentialsPath, normalizeServerUrl, readCredentialsFile, TargetError, writeCredentialsFile } from './admin-target.ts';
import { COMMAND_TABLE, parseOptions } from './command-table.ts';
import { readSecret } from './prompt.ts';
import { ServerClient, ServerError } from './server-client.ts';

export async function loginCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: parseOptions(COMMAND_TABLE.login!.self!.flags), allowPositionals: true, strict: true });
  try {
    if (positionals.length !== 1) throw new TargetError('usage: wharf login URL [--username NAME] [--password-stdin]');
    const url = normalizeServerUrl(positionals[0]!);
    let username = (values.username as string | undefined) ?? process.env.WHARF_USERNAME;
    if (username === undefined && !process.stdin.isTTY) throw new TargetError('give the user name with --username NAME or WHARF_USERNAME (standard input is not a terminal)');
    username ??= await readSecret('Username: ', true);
    const password = values['password-stdin'] ? await readSecret(undefined) : process.env.WHARF_PASSWORD ?? (await readSecret('Password: '));
    if (!username || !password) throw new TargetError('a user name and a password are needed');
    // Any administrator-only read proves the credentials and the rights the commands will need.
    await new ServerClient(url, { username, password }).call('GET', '/api/v1/users');
    const file = readCredentialsFile();
    const path = writeCredentialsFile({ ...file, default: url, servers: { ...file.servers, [url]: { username, password } } });
    console.log(`logged in to ${url} as ${username}; credentials stored in ${path}; administration commands now act on ${url} unless given --data-dir or --server`);
    return 0;
  } catch (error) {
    if (error instanceof TargetError || error instanceof ServerError || error instanceof UnreachableError) {
      console.error(`wharf login: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

export async function logoutCommand(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, options: parseOptions(COMMAND_TABLE.logout!.self!.flags), allowPositionals: true, strict: true });
  try {
    const file = readCredentialsFile();
    const url = positionals[0] !== undefined ? normalizeServerUrl(positionals[0]) : file.default;
    if (url === undefined || !file.servers?.[url]) {
      console.error(`wharf logout: no stored credentials${url ? ` for ${url}` : ''} in ${credentialsPath()}`);
      return 1;
    }
    const { [url]: _, ...servers } = file.servers;
    writeCredentialsFile({ servers, ...(file.default && file.default !== url ? { default: file.default } : {}) });
    console.log(`logged out of ${url}`);
    return 0;
  } catch (error) {
    if (error instanceof TargetError) {
      console.error(`wharf logout: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
