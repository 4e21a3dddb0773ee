import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { errorCodes, startTestRegistry, type TestRegistry } from '../../test/support/registry-fixture.ts';
import { matchRegistryPath } from './paths.ts';

describe('registry routing', () => {
  let registry: TestRegistry;
  before(async () => { registry = await startTestRegistry(); });
  after(() => registry.close());

  it('answers the API version check at /v2/', async () => {
    const response = await fetch(`${registry.url}/v2/`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('docker-distribution-api-version'), 'registry/2.0');
  });

  it('answers 405 UNSUPPORTED for a method a route lacks, with Allow', async () => {
    const response = await fetch(`${registry.url}/v2/a/tags/list`, { method: 'DELETE' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'GET');
    assert.deepEqual(await errorCodes(response), ['UNSUPPORTED']);
  });

  it('answers 404 with an OCI error for an unknown path', async () => {
    const response = await fetch(`${registry.url}/v2/a/unknown/endpoint`);
    assert.equal(response.status, 404);
    assert.equal((await errorCodes(response)).length, 1);
  });

  it('serves health and readiness', async () => {
    assert.equal((await fetch(`${registry.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${registry.url}/readyz`)).status, 200);
  });

  it('splits paths from the end, so names may contain route words', () => {
    assert.deepEqual(matchRegistryPath('/v2/a/blobs/b/blobs/uploads/'), { route: 'uploads', name: 'a/blobs/b', argument: '' });
    assert.deepEqual(matchRegistryPath('/v2/x/manifests/y/manifests/v1'), { route: 'manifest', name: 'x/manifests/y', argument: 'v1' });
    assert.equal(matchRegistryPath('/v3/x'), undefined);
  });
});
