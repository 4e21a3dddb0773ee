/** `--help` of every command and subcommand, written from the command table. */
import { resolve } from 'node:path';
import { COMMAND_TABLE, type CommandSpec, type FlagSpec, type SubcommandSpec } from './command-table.ts';

export function mainUsage(): string {
  const width = Math.max(...Object.keys(COMMAND_TABLE).map((name) => name.length)) + 2;
  return [
    'Usage: wharf <command> [subcommand] [options]',
    '',
    'Commands:',
    ...Object.entries(COMMAND_TABLE).map(([name, spec]) => `  ${name.padEnd(width)}${spec.summary}`),
    `  ${'help'.padEnd(width)}show this help`,
    '',
    'Run "wharf <command> --help" for a command\'s subcommands, and "wharf <command> <subcommand> --help" for its flags.',
    'wharf --version prints the version.',
  ].join('\n');
}

/** Help of `wharf COMMAND` (its subcommands) or `wharf COMMAND SUBCOMMAND` (its flags). */
export async function commandHelp(command: string, subcommand: string | undefined, argv: readonly string[]): Promise<string> {
  const spec = COMMAND_TABLE[command]!;
  const sub = subcommand !== undefined ? spec.subcommands?.[subcommand] : undefined;
  if (sub) return subcommandHelp(`wharf ${command} ${subcommand}`, sub, argv);
  if (!spec.subcommands) return subcommandHelp(`wharf ${command}`, spec.self!, argv);
  return groupHelp(command, spec, argv);
}

async function groupHelp(command: string, spec: CommandSpec, argv: readonly string[]): Promise<string> {
  const lines = [`wharf ${command}: ${spec.summary}`, ''];
  if (spec.self) lines.push(`Usage: wharf ${command} ${spec.self.args}${flagSynopsis(spec.self.flags)}`, `  ${spec.self.summary}`, '');
  lines.push('Subcommands:');
  const subs = Object.entries(spec.subcommands!);
  const width = Math.max(...subs.map(([name, sub]) => `${name} ${sub.args}`.length)) + 2;
  for (const [name, sub] of subs) lines.push(`  ${`${name} ${sub.args}`.padEnd(width)}${sub.summary}`);
  lines.push('', `Run "wharf ${command} <subcommand> --help" for its flags.`);
  if (spec.self) lines.push('', 'Flags:', ...flagLines(spec.self.flags));
  // Subcommands grouped by what they act on (policy eval/test/check: files; push/list…: a Wharf).
  const byTarget = new Map<SubcommandSpec['target'], string[]>();
  if (spec.self) byTarget.set(spec.self.target, [command]);
  for (const [name, sub] of subs) byTarget.set(sub.target, [...(byTarget.get(sub.target) ?? []), name]);
  for (const [target, names] of byTarget) {
    lines.push('', byTarget.size > 1 ? `${names.join(', ')}: ${await actsOn(target, argv)}` : await actsOn(target, argv));
  }
  return lines.join('\n');
}

async function subcommandHelp(name: string, spec: SubcommandSpec, argv: readonly string[]): Promise<string> {
  return [
    `Usage: ${name}${spec.args ? ` ${spec.args}` : ''}${flagSynopsis(spec.flags)}`,
    '',
    spec.summary,
    '',
    'Flags:',
    ...flagLines(spec.flags),
    ...(spec.notes ? ['', spec.notes] : []),
    '',
    await actsOn(spec.target, argv),
  ].join('\n');
}

function flagSynopsis(flags: Readonly<Record<string, FlagSpec>>): string {
  return Object.keys(flags).length > 0 ? ' [flags]' : '';
}

function flagName(name: string, flag: FlagSpec): string {
  const long = `--${name}${flag.type === 'string' ? ` ${flag.value ?? 'VALUE'}` : ''}`;
  return flag.short ? `-${flag.short}, ${long}` : `    ${long}`;
}

function flagLines(flags: Readonly<Record<string, FlagSpec>>): string[] {
  const all: [string, FlagSpec][] = [...Object.entries(flags), ['help', { type: 'boolean', short: 'h', help: 'show this help' }]];
  const width = Math.max(...all.map(([name, flag]) => flagName(name, flag).length)) + 2;
  return all.map(([name, flag]) => `  ${flagName(name, flag).padEnd(width)}${flag.help}`);
}

/** Says what the command would act on, resolved from the flags and environment given with --help. */
async function actsOn(target: SubcommandSpec['target'], argv: readonly string[]): Promise<string> {
  switch (target) {
    case 'wharf': {
      const { describeTarget, resolveTarget } = await import('./admin-target.ts');
      const flag = (name: string) => {
        const index = argv.indexOf(`--${name}`);
        if (index >= 0) return argv[index + 1];
        return argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
      };
      try {
        const resolved = resolveTarget({ server: flag('server'), 'data-dir': flag('data-dir'), data: flag('data'), config: flag('config') });
        return `Acts on: ${describeTarget(resolved)}.\n  Order: --server, --data-dir/--data/--config, WHARF_SERVER, WHARF_DATA/WHARF_CONFIG, the server of \`wharf login\`, ./wharf-data.`;
      } catch (error) {
        return `Acts on: a Wharf server (--server URL) or data folder (--data-dir DIR); now: ${(error as Error).message}`;
      }
    }
    case 'serve': {
      const index = Math.max(argv.indexOf('--data-dir'), argv.indexOf('--data'));
      const dir = index >= 0 ? argv[index + 1] : process.env.WHARF_DATA;
      return `Serves: the data folder ${resolve(dir ?? './wharf-data')}${dir === undefined ? ' (the default; WHARF_DATA, --data-dir or the config file\'s data key choose another)' : ''}.`;
    }
    case 'registry':
      return 'Acts on: the OCI registry named in the reference (any registry; credentials from $REGISTRY_AUTH_FILE, containers/auth.json or ~/.docker/config.json).';
    case 'credentials': {
      const { credentialsPath } = await import('./admin-target.ts');
      return `Credentials file: ${credentialsPath()}.`;
    }
    case 'files':
      return 'Acts on: local files only (no registry, no data folder).';
    case 'migrate': {
      const index = Math.max(argv.indexOf('--data-dir'), argv.indexOf('--data'));
      const dir = index >= 0 ? argv[index + 1] : process.env.WHARF_DATA;
      return `Acts on: the SQLite databases of the data folder ${resolve(dir ?? './wharf-data')} (read) and the PostgreSQL database of --to (written).`;
    }
  }
}
