// Usage telemetry through a real registry: pulls and pushes recorded from HTTP traffic, policy
// decisions mirrored, and POST /api/v1/query showing each caller only what it may pull.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { basic, startAuthRegistry, type AuthRegistry } from '../../test/support/auth-fixture.ts';
import { errorCodes, json, OCI_MANIFEST, pushImage, startTestRegistry, type TestRegistry } from '../../test/support/registry-fixture.ts';

const PASSWORD = 'pass-word-123';

interface Answer {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  truncated: boolean;
}

async function query(url: string, text: string, authorization?: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}/api/v1/query`, {
    method: 'POST', body: JSON.stringify({ query: text }), headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
  });
  return { status: response.status, body: await json(response) };
}

describe('usage telemetry (open mode)', () => {
  let registry: TestRegistry;
  let pushed: { digest: string; bytes: Uint8Array };

  before(async () => {
    registry = await startTestRegistry();
    pushed = await pushImage(registry.url, 'team-a/app', 'v1');
  });
  after(() => registry.close());

  it('records manifest and blob pulls with what was sent and who asked; HEAD is not a pull', async () => {
    const manifest = await fetch(`${registry.url}/v2/team-a/app/manifests/v1`, { headers: { accept: OCI_MANIFEST, 'user-agent': 'test-agent/1' } });
    assert.equal(manifest.status, 200);
    const layer = (JSON.parse(await manifest.text()) as { layers: { digest: string; size: number }[] }).layers[0]!;
    const blob = await fetch(`${registry.url}/v2/team-a/app/blobs/${layer.digest}`, { headers: { range: 'bytes=0-4' } });
    assert.equal(blob.status, 206);
    await blob.arrayBuffer();
    assert.equal((await fetch(`${registry.url}/v2/team-a/app/manifests/v1`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).status, 200);
    assert.equal((await fetch(`${registry.url}/v2/team-a/app/manifests/nope`)).status, 404);

    const { status, body } = await query(registry.url, 'FROM pulls |> SELECT repository, digest, tag, kind, bytes, identity, client_address, user_agent |> ORDER BY kind DESC');
    assert.equal(status, 200, JSON.stringify(body));
    const answer = body as Answer;
    assert.deepEqual(answer.columns.map((column) => column.name), ['repository', 'digest', 'tag', 'kind', 'bytes', 'identity', 'client_address', 'user_agent']);
    assert.deepEqual(answer.rows, [
      ['team-a/app', pushed.digest, 'v1', 'manifest', pushed.bytes.byteLength, 'anonymous', '127.0.0.1', 'test-agent/1'],
      ['team-a/app', layer.digest, null, 'blob', 5, 'anonymous', '127.0.0.1', 'node'],
    ]);
  });

  it('records pushes of blobs and manifests', async () => {
    const { body } = await query(registry.url, 'FROM pushes |> AGGREGATE count(*) AS n, sum(bytes) AS bytes GROUP BY kind |> ORDER BY kind');
    const manifestRow = (body as Answer).rows.find((row) => row[0] === 'manifest');
    assert.deepEqual(manifestRow, ['manifest', 1, pushed.bytes.byteLength]);
    assert.equal((body as Answer).rows.find((row) => row[0] === 'blob')?.[1], 2);
  });

  it('answers a bad query with 400 and the line and column, and a bad body with 400', async () => {
    const { status, body } = await query(registry.url, 'FROM pulls\n|> WHERE repo = 1');
    assert.equal(status, 400);
    assert.equal(body.errors[0].code, 'BAD_REQUEST');
    assert.match(body.errors[0].message, /^line 2, column 10: unknown column "repo"/);
    assert.deepEqual(body.errors[0].detail, { line: 2, column: 10 });
    const response = await fetch(`${registry.url}/api/v1/query`, { method: 'POST', body: 'not json' });
    assert.equal(response.status, 400);
    assert.deepEqual(await errorCodes(response), ['BAD_REQUEST']);
    const missing = await fetch(`${registry.url}/api/v1/query`, { method: 'POST', body: '{"q": 1}' });
    assert.equal(missing.status, 400);
    await missing.arrayBuffer();
  });
});

describe('usage telemetry (authentication on)', () => {
  let registry: AuthRegistry;
  const root = basic('root', PASSWORD);
  const alice = basic('alice', PASSWORD);
  const bob = basic('bob', PASSWORD);

  before(async () => {
    registry = await startAuthRegistry({ WHARF_OBSERVABILITY_USAGE_MEASURE_INTERVAL_SECONDS: '1' });
    await registry.admin.addUser('root', PASSWORD, true);
    await registry.admin.addUser('alice', PASSWORD);
    await registry.admin.setMembership('team-a', { kind: 'user', name: 'alice' }, 'reader');
    await registry.admin.addUser('bob', PASSWORD);
    await registry.admin.setMembership('team-b', { kind: 'user', name: 'bob' }, 'reader');
    const policy = await fetch(`${registry.url}/api/v1/policies/no-latest`, {
      method: 'PUT', headers: { authorization: root },
      body: JSON.stringify({
        package: 'wharf.policies.no_latest',
        modules: [{ file: 'no-latest.rego', source: 'package wharf.policies.no_latest\n\ndeny contains {"msg": "no latest"} if {\n\tinput.artifact.tag == "latest"\n}\n' }],
        binding: { points: ['push'], namespaces: ['team-*'] },
      }),
    });
    assert.equal(policy.status, 201);
    await pushImage(registry.url, 'team-a/app', 'v1', {}, { authorization: root });
    await pushImage(registry.url, 'team-b/secret', 'v1', {}, { authorization: root });
    await assert.rejects(pushImage(registry.url, 'team-a/app', 'latest', {}, { authorization: root }), /403/);
    for (const [repository, authorization] of [['team-a/app', alice], ['team-a/app', alice], ['team-b/secret', bob]] as const) {
      const response = await fetch(`${registry.url}/v2/${repository}/manifests/v1`, { headers: { authorization, accept: OCI_MANIFEST } });
      assert.equal(response.status, 200);
      await response.arrayBuffer();
    }
  });
  after(() => registry.close());

  const pullsByRepository = 'FROM pulls |> AGGREGATE count(*) AS pulls GROUP BY repository, identity |> ORDER BY repository';

  it('shows administrators every row', async () => {
    const { status, body } = await query(registry.url, pullsByRepository, root);
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual((body as Answer).rows, [['team-a/app', 'user:alice', 2], ['team-b/secret', 'user:bob', 1]]);
  });

  it('lets any authenticated caller query, and shows only rows of repositories it may pull', async () => {
    assert.deepEqual((await query(registry.url, pullsByRepository, alice)).body.rows, [['team-a/app', 'user:alice', 2]]);
    assert.deepEqual((await query(registry.url, pullsByRepository, bob)).body.rows, [['team-b/secret', 'user:bob', 1]]);
    const sneaky = await query(registry.url, "FROM pushes |> WHERE repository = 'team-b/secret' OR TRUE |> SELECT DISTINCT repository", alice);
    assert.deepEqual(sneaky.body.rows, [['team-a/app']]);
    assert.equal((await query(registry.url, pullsByRepository)).status, 401, 'anonymous callers are challenged');
  });

  it('mirrors policy decisions, one row per violated policy', async () => {
    const { body } = await query(registry.url, "FROM decisions |> WHERE point = 'push' AND NOT allowed |> AGGREGATE count(*) AS denied GROUP BY policy, repository", root);
    assert.deepEqual((body as Answer).rows, [['no-latest', 'team-a/app', 1]]);
    assert.deepEqual((await query(registry.url, 'FROM decisions |> WHERE NOT allowed |> SELECT repository', bob)).body.rows, []);
  });

  it('measures storage per namespace and the artifact inventory, each caller seeing its own', async () => {
    // Measured every second here.
    const deadline = Date.now() + 10_000;
    while ((await query(registry.url, 'FROM artifacts', root)).body.rows.length < 2) {
      assert.ok(Date.now() < deadline, 'the inventory was measured');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const storage = await query(registry.url, 'FROM storage |> SELECT namespace, repositories, artifacts, bytes > 0 AS stored |> ORDER BY namespace', root);
    assert.deepEqual(storage.body.rows, [['team-a', 1, 1, true], ['team-b', 1, 1, true]]);
    assert.deepEqual((await query(registry.url, 'FROM storage |> SELECT namespace', alice)).body.rows, [['team-a']]);
    const artifacts = await query(registry.url, 'FROM artifacts |> SELECT repository, tag, pushed IS NOT NULL AS dated |> ORDER BY repository', root);
    assert.deepEqual(artifacts.body.rows, [['team-a/app', 'v1', true], ['team-b/secret', 'v1', true]]);
    assert.deepEqual((await query(registry.url, 'FROM artifacts |> SELECT repository', bob)).body.rows, [['team-b/secret']]);
  });

  it('mirrors the audit trail, for administrators only', async () => {
    const refused = await fetch(`${registry.url}/api/v1/users`, { headers: { authorization: alice } });
    assert.equal(refused.status, 403);
    await refused.arrayBuffer();
    const text = "FROM audit |> WHERE NOT allowed AND resource = '/api/v1/users' |> SELECT identity, action, reason";
    assert.deepEqual((await query(registry.url, text, root)).body.rows, [['user:alice', 'GET api', 'not an admin']]);
    assert.deepEqual((await query(registry.url, 'FROM audit', alice)).body.rows, []);
  });
});
