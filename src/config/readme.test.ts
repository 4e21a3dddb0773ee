import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CONFIG_KEYS } from './keys.ts';
import { envName } from './config.ts';

it('documents every configuration key in the README with its environment variable', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const key of Object.keys(CONFIG_KEYS)) {
    assert.ok(readme.includes(`| \`${key}\` | \`${envName(key)}\` |`), `README lacks a row for ${key}`);
  }
  const documented = [...readme.matchAll(/^\| `([a-zA-Z0-9.]+)` \| `WHARF_/gm)].map((match) => match[1]);
  assert.deepEqual(documented.sort(), Object.keys(CONFIG_KEYS).sort(), 'README documents a key that does not exist');
});
