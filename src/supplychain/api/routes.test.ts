import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestContext } from '../../distribution/http.ts';
import type { SupplyChainService } from '../supplychain-service.ts';
import { handleSupplyChainRequest } from './routes.ts';

/** Only the routing and access checks run: the service must never be reached. */
const unreachable = new Proxy({}, { get: () => { throw new Error('service reached'); } }) as SupplyChainService;

function context(method: string, path: string, extra: Partial<RequestContext> = {}): RequestContext {
  return { req: {} as RequestContext['req'], res: {} as RequestContext['res'], method, path, query: new URLSearchParams(), ...extra };
}

describe('supply-chain API access', () => {
  it('leaves other paths alone', async () => {
    assert.equal(await handleSupplyChainRequest(context('GET', '/api/v1/users'), unreachable), false);
  });
  it('refuses trust and vulnerability changes from a non-administrator', async () => {
    const principal = { subject: 'user:bob', admin: false };
    await assert.rejects(handleSupplyChainRequest(context('PUT', '/api/v1/trust', { principal }), unreachable), { code: 'DENIED' });
    await assert.rejects(handleSupplyChainRequest(context('POST', '/api/v1/vulnerabilities', { principal }), unreachable), { code: 'DENIED' });
  });
  it('refuses the trust document without pull access to the repository', async () => {
    const access = { requester: { subject: 'user:bob', kind: 'user' as const }, can: async () => false };
    await assert.rejects(handleSupplyChainRequest(context('GET', `/api/v1/repositories/team/app/manifests/sha256:${'a'.repeat(64)}/trust`, { access }), unreachable), { code: 'DENIED' });
  });
  it('answers unsupported methods with UNSUPPORTED', async () => {
    await assert.rejects(handleSupplyChainRequest(context('POST', `/api/v1/repositories/team/app/manifests/sha256:${'a'.repeat(64)}/trust`), unreachable), { code: 'UNSUPPORTED' });
  });
});
