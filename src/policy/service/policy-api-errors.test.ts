// The policy API over HTTP when the store says no: a removed name stored again, and a failing
// database answered in the OCI error format with a message of our own, never the database's.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { json, startTestRegistry, type TestRegistry } from '../../../test/support/registry-fixture.ts';

const DENY_NOTHING = { package: 'p', modules: [{ file: 'p.rego', source: 'package p\n\ndeny contains "x" if false\n' }] };

describe('policy API errors', () => {
  let registry: TestRegistry;
  before(async () => { registry = await startTestRegistry(); });
  after(() => registry.close());

  const put = (name: string) => fetch(`${registry.url}/api/v1/policies/${name}`, { method: 'PUT', body: JSON.stringify(DENY_NOTHING) });

  it('stores a policy again under a name that was removed', async () => {
    assert.equal((await put('again')).status, 201);
    assert.equal((await fetch(`${registry.url}/api/v1/policies/again`, { method: 'DELETE' })).status, 204);
    const stored = await put('again');
    assert.equal(stored.status, 201);
    assert.equal((await json(stored)).version, 2);
  });

  it('answers a failing policy database with an OCI error that names the operation, not the SQL', async () => {
    const side = new DatabaseSync(join(registry.dataDir, 'policy.db'));
    try {
      side.exec('DROP TABLE quarantine');
    } finally {
      side.close();
    }
    const response = await fetch(`${registry.url}/api/v1/quarantine`);
    assert.equal(response.status, 503);
    const body = await json(response);
    assert.equal(body.errors[0].code, 'UNAVAILABLE');
    assert.match(body.errors[0].message, /policy store could not list the quarantined artifacts/);
    assert.doesNotMatch(JSON.stringify(body), /no such table|SQL|sqlite/i);
  });
});
