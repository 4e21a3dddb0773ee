// The queries the README and docs/queries.md show run, on a registry with traffic to answer them,
// and the reference lists every table and column the compiler knows.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { json, OCI_MANIFEST, pushImage, startTestRegistry, type TestRegistry } from '../../test/support/registry-fixture.ts';
import { TELEMETRY_TABLES } from './usage/telemetry-schema.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const REFERENCE = readFileSync(new URL('../../docs/queries.md', import.meta.url), 'utf8');

/** Every `wharf query "…"` of a text, with the comment line above it when there is one. */
function shownQueries(text: string): { title: string; query: string }[] {
  return [...text.matchAll(/(?:# ([^\n]*)\n)?wharf query "((?:FROM|SELECT) [^"]+)"/g)].map((match) => ({ title: match[1] ?? match[2]!.slice(0, 40), query: match[2]! }));
}

describe('usage queries of the README and the reference', () => {
  let registry: TestRegistry;
  const run = async (text: string) => {
    const response = await fetch(`${registry.url}/api/v1/query`, { method: 'POST', body: JSON.stringify({ query: text }) });
    const body = await json(response);
    assert.equal(response.status, 200, `${text}\n${JSON.stringify(body)}`);
    return body as { columns: { name: string }[]; rows: unknown[][] };
  };

  before(async () => {
    registry = await startTestRegistry({ WHARF_OBSERVABILITY_USAGE_MEASURE_INTERVAL_SECONDS: '1' });
    const policy = await fetch(`${registry.url}/api/v1/policies/no-latest`, {
      method: 'PUT',
      body: JSON.stringify({
        package: 'wharf.policies.no_latest',
        modules: [{ file: 'no-latest.rego', source: 'package wharf.policies.no_latest\n\ndeny contains {"msg": "no latest"} if {\n\tinput.artifact.tag == "latest"\n}\n' }],
        binding: { points: ['push'] },
      }),
    });
    assert.equal(policy.status, 201);
    await pushImage(registry.url, 'team-a/app', 'v1');
    await pushImage(registry.url, 'team-b/never-pulled', 'v1');
    await assert.rejects(pushImage(registry.url, 'team-b/web', 'latest'), /403/);
    for (let pull = 0; pull < 3; pull++) {
      const response = await fetch(`${registry.url}/v2/team-a/app/manifests/v1`, { headers: { accept: OCI_MANIFEST } });
      assert.equal(response.status, 200);
      await response.arrayBuffer();
    }
    const deadline = Date.now() + 10_000;
    while ((await run('FROM artifacts')).rows.length < 2) {
      assert.ok(Date.now() < deadline, 'the inventory was measured');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  after(() => registry.close());

  it('shows five queries in the README, and each answers', async () => {
    const section = README.slice(README.indexOf('## Usage queries'), README.indexOf('\n## ', README.indexOf('## Usage queries') + 1));
    const queries = shownQueries(section);
    assert.deepEqual(queries.map((query) => query.title), [
      'Top pulled images this week', 'Pulls by team per day', 'Stale images: stored for over 90 days and not pulled in the last 90',
      'Denied pushes by policy, last 30 days', 'Egress by team, last 30 days, in GiB',
    ]);
    const [top, perDay, stale, denied, egress] = await Promise.all(queries.map((query) => run(query.query)));
    assert.deepEqual(top!.rows, [['team-a/app', 'v1', 3, 1]]);
    assert.deepEqual(perDay!.rows.map((row) => row.slice(1)), [['team-a', 3]]);
    assert.deepEqual(stale!.rows, [], 'nothing here is 90 days old');
    assert.deepEqual(denied!.rows, [['no-latest', 1, 1]]);
    assert.deepEqual(egress!.columns.map((column) => column.name), ['team', 'gib', 'requests']);
    assert.deepEqual(egress!.rows.map((row) => [row[0], row[2]]), [['team-a', 3]]);
    // Without the age condition, the stale-image query finds the image nobody pulled.
    const unpulled = await run(queries[2]!.query.replace(' AND pushed < now() - INTERVAL 90 DAY', ''));
    assert.deepEqual(unpulled.rows.map((row) => [row[0], row[1]]), [['team-b/never-pulled', 'v1']]);
  });

  it('every query of the reference answers', async () => {
    const queries = shownQueries(REFERENCE);
    assert.ok(queries.length >= 1);
    for (const { query } of queries) await run(query);
    for (const [, example] of REFERENCE.matchAll(/^`((?:SELECT|FROM) [^`]+)`\.?$/gm)) await run(example!);
  });

  it('the reference lists every table and column', () => {
    for (const table of TELEMETRY_TABLES) {
      const start = REFERENCE.indexOf(`### \`${table.name}\``);
      assert.ok(start !== -1, `docs/queries.md has a section for ${table.name}`);
      const end = REFERENCE.indexOf('\n### ', start + 1);
      const section = REFERENCE.slice(start, end === -1 ? undefined : end);
      for (const column of table.columns) assert.ok(section.includes(`| \`${column.name}\` | ${column.type} | ${column.description} |`), `${table.name}.${column.name}`);
    }
  });
});
