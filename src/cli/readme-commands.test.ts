// The README shows many `wharf …` commands; each must name a command, subcommand and flags that
// exist (the command table is what the CLI parses), and the configuration reference must name
// exactly the flags `wharf serve` maps to configuration keys.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FLAG_NAMES } from '../config/config.ts';
import { COMMAND_TABLE, specOf } from './command-table.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** Every `wharf …` command in a code block or an inline code span, continuation lines joined. */
function readmeCommands(): string[] {
  const found: string[] = [];
  for (const [, body] of README.matchAll(/```[a-z]*\n([\s\S]*?)```/g)) {
    for (const line of body!.replace(/\\\n\s*/g, ' ').split('\n')) {
      for (const part of line.replace(/\s#\s.*$/, '').split('&&')) if (part.trim().startsWith('wharf ')) found.push(part.trim());
    }
  }
  for (const [, span] of README.matchAll(/`(wharf [^`]+)`/g)) found.push(span!);
  return found;
}

it('every wharf command the README shows exists, with flags the command accepts', () => {
  const commands = readmeCommands();
  assert.ok(commands.length > 30, 'the README shows commands');
  let checked = 0;
  for (const text of commands) {
    const tokens = text.split(/\s+/);
    const name = tokens[1]!;
    if (name.includes('|')) continue; // an alternation like `user|team|…`, shown as a summary
    if (name === '--version' || name === '--help' || name === 'listening') continue; // not commands: the version flag, the ready line
    assert.ok(COMMAND_TABLE[name], `README: "${text}": no command ${name}`);
    const sub = tokens[2] !== undefined && COMMAND_TABLE[name]!.subcommands?.[tokens[2]] ? tokens[2] : undefined;
    if (sub === undefined && tokens[2] !== undefined && /^[a-z-]+$/.test(tokens[2]) && !COMMAND_TABLE[name]!.self) {
      assert.fail(`README: "${text}": ${name} has no subcommand ${tokens[2]}`);
    }
    const spec = specOf(name, sub);
    if (!spec) continue; // `wharf policy eval|test|check …` and the like
    for (const token of tokens.slice(2)) {
      const flag = /^[[(]*(--?[a-z][a-z0-9-]*)/.exec(token)?.[1];
      if (flag === undefined || token.includes('\\|')) continue;
      const known = flag.startsWith('--')
        ? Object.hasOwn(spec.flags, flag.slice(2)) || flag === '--help'
        : Object.values(spec.flags).some((f) => f.short === flag.slice(1)) || flag === '-h';
      assert.ok(known, `README: "${text}": wharf ${name}${sub ? ` ${sub}` : ''} has no flag ${flag}`);
      checked++;
    }
  }
  assert.ok(checked > 30, 'flags were checked');
});

it('the configuration reference names the flags of wharf serve, and only those', () => {
  const section = README.slice(README.indexOf('## Configuration reference'), README.indexOf('| key | environment |'));
  assert.doesNotMatch(section, /Every key can be set[^.]*and a flag/, 'not every key has a flag');
  const named = [...section.matchAll(/`([a-zA-Z.]+)`\s+\(`(--[a-z-]+)`\)/g)].map(([, key, flag]) => [key, flag]);
  assert.deepEqual(Object.fromEntries(named), FLAG_NAMES);
  for (const flag of Object.values(FLAG_NAMES)) assert.ok(Object.hasOwn(COMMAND_TABLE.serve!.self!.flags, flag!.slice(2)), `serve lacks ${flag}`);
});
