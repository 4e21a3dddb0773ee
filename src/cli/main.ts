/**
 * The `wharf` command. Each subcommand lives in its own module, loaded only when used, so that
 * `wharf serve` starts without loading the policy engine and vice versa. Which commands exist,
 * their flags and their help come from command-table.ts.
 */
import { readFileSync } from 'node:fs';
import { COMMAND_TABLE } from './command-table.ts';

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve.ts')).serveCommand,
  login: async () => (await import('./login.ts')).loginCommand,
  logout: async () => (await import('./login.ts')).logoutCommand,
  migrate: async () => (await import('./migrate.ts')).migrateCommand,
  policy: async () => async (argv: string[]) => {
    const admin = await import('./policy-admin.ts');
    if (argv[0] !== undefined && admin.POLICY_ADMIN_COMMANDS.has(argv[0])) return admin.policyAdminCommand('policy', argv);
    return (await import('./policy.ts')).runPolicyCommand(argv);
  },
  namespace: async () => async (argv: string[]) => (await import('./policy-admin.ts')).policyAdminCommand('namespace', argv),
  keygen: async () => (await import('./supplychain.ts')).keygenCommand,
  sign: async () => (await import('./supplychain.ts')).signCommand,
  verify: async () => (await import('./supplychain.ts')).verifyCommand,
  attest: async () => (await import('./supplychain.ts')).attestCommand,
  attach: async () => (await import('./supplychain.ts')).attachCommand,
  sbom: async () => (await import('./supplychain.ts')).sbomCommand,
  vulns: async () => (await import('./supplychain.ts')).vulnsCommand,
  model: async () => (await import('./model.ts')).modelCommand,
  tuf: async () => (await import('./tuf.ts')).tufCommand,
  query: async () => (await import('./query.ts')).queryCommand,
  version: async () => async () => { console.log(`wharf ${version()}`); return 0; },
  ...Object.fromEntries(['user', 'team', 'member', 'robot', 'issuer', 'token'].map((group) => [
    group, async () => { const { identityCommand } = await import('./identity.ts'); return (argv: string[]) => identityCommand(group, argv); },
  ])),
};

function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** `--help`/`-h` anywhere among the options (not after `--`, where arguments end). */
function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    console.log(`wharf ${version()}`);
    return 0;
  }
  const { mainUsage, commandHelp } = await import('./help.ts');
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    if (name === 'help' && rest[0] !== undefined && COMMAND_TABLE[rest[0]]) {
      console.log(await commandHelp(rest[0], rest[1], rest.slice(2)));
      return 0;
    }
    console.log(mainUsage());
    return name === undefined ? 2 : 0;
  }
  const spec = COMMAND_TABLE[name];
  const load = COMMANDS[name];
  if (!spec || !load) {
    console.error(`wharf: unknown command "${name}"\n\n${mainUsage()}`);
    return 2;
  }
  const subcommand = rest[0] !== undefined && spec.subcommands?.[rest[0]] ? rest[0] : undefined;
  if (asksForHelp(rest)) {
    console.log(await commandHelp(name, subcommand, rest));
    return 0;
  }
  if (spec.subcommands && !spec.self && subcommand === undefined) {
    console.error(`${rest[0] === undefined ? `wharf ${name}: which subcommand?` : `wharf ${name}: unknown subcommand "${rest[0]}"`}\n\n${await commandHelp(name, undefined, rest)}`);
    return 2;
  }
  return (await load())(rest);
}

main(process.argv.slice(2)).then(
  (code) => { finish(code); },
  (error: unknown) => {
    // Usage mistakes (unknown flags) are the user's, not a crash: say what was wrong, no stack.
    const err = error as { code?: string; message?: string };
    if (typeof err?.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) {
      const command = process.argv.slice(2, 4).filter((arg) => !arg.startsWith('-')).join(' ');
      console.error(`wharf: ${err.message}${command ? ` (see "wharf ${command} --help")` : ''}`);
      finish(2);
      return;
    }
    console.error(`wharf: ${err?.message ?? String(error)}`);
    finish(1);
  },
);

/**
 * Sets the exit code; a command that is done has nothing left to wait for, so if some handle
 * (a worker, a socket, a timer) still keeps the process alive a moment later, exit anyway rather
 * than hang after the command finished.
 */
function finish(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2_000).unref();
}
