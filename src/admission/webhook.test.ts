// The admission webhook end to end: AdmissionReviews from ../shared/testdata and crafted ones,
// judged by the library's Gatekeeper-style policy against an in-process registry.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { json, pushImage, startTestRegistry, type TestRegistry } from '../../test/support/registry-fixture.ts';
import { sharedTestdata } from '../../test/support/shared.ts';
import { withinTime } from './webhook.ts';

const HOST = 'registry.example.test';
const POLICY_DIR = fileURLToPath(new URL('../../policies/gatekeeper-admission/', import.meta.url));

function review(kind: string, object: Record<string, unknown>, uid = 'review-1') {
  const group = kind === 'Pod' ? '' : kind === 'CronJob' || kind === 'Job' ? 'batch' : 'apps';
  return {
    apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
    request: { uid, kind: { group, version: 'v1', kind }, operation: 'CREATE', namespace: 'prod', name: 'web', userInfo: { username: 'alice' }, object, dryRun: false },
  };
}

const limits = { limits: { cpu: '1', memory: '1Gi' } };

describe('admission webhook', () => {
  let registry: TestRegistry;
  let url: string;
  let digest: string;
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${registry.url}${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    assert.equal(response.status, 200, 'always an AdmissionReview, never an HTTP error');
    return (await json(response)).response;
  };

  before(async () => {
    registry = await startTestRegistry({ WHARF_ADMISSION_REGISTRY_HOSTS: HOST });
    url = registry.url;
    digest = (await pushImage(url, 'team-a/web', 'v1')).digest;
    const source = await readFile(join(POLICY_DIR, 'policy.rego'), 'utf8');
    const put = await fetch(`${url}/api/v1/policies/gatekeeper`, {
      method: 'PUT',
      body: JSON.stringify({
        package: 'wharf.policies.gatekeeper_admission', modules: [{ file: 'policy.rego', source }], binding: { points: ['admission'] },
        data: { wharf: { params: { gatekeeper_admission: { allowedRepos: [`${HOST}/team-a/`] } } } },
      }),
    });
    assert.equal(put.status, 201);
  });
  after(() => registry.close());

  it('allows a Deployment whose images come from this registry with limits, and logs the decision', async () => {
    const response = await post('/admission/validate', review('Deployment', { spec: { template: { spec: { containers: [{ name: 'web', image: `${HOST}/team-a/web:v1`, resources: limits }] } } } }));
    assert.deepEqual({ uid: response.uid, allowed: response.allowed }, { uid: 'review-1', allowed: true });
    const [decision] = await json(await fetch(`${url}/api/v1/decisions?point=admission&limit=1`));
    assert.equal(decision.digest, digest, 'the tag was resolved to its digest');
  });

  it('judges init and ephemeral containers too, and every workload kind', async () => {
    const pod = review('Pod', {
      spec: {
        containers: [{ name: 'web', image: `${HOST}/team-a/web:v1`, resources: limits }],
        initContainers: [{ name: 'init', image: 'docker.io/library/busybox:1.36', resources: limits }],
        ephemeralContainers: [{ name: 'debug', image: `${HOST}/team-a/web` }],
      },
    });
    const response = await post('/admission/validate', pod);
    assert.equal(response.allowed, false);
    assert.equal(response.status.code, 403);
    assert.match(response.status.message, /initContainer "init" \(docker\.io\/library\/busybox:1\.36\)/);
    assert.match(response.status.message, /ephemeralContainer "debug"/);
    const template = { spec: { containers: [{ name: 'c', image: 'quay.io/x/y:1', resources: limits }] } };
    for (const [kind, object] of [['StatefulSet', { spec: { template } }], ['DaemonSet', { spec: { template } }], ['Job', { spec: { template } }], ['CronJob', { spec: { jobTemplate: { spec: { template } } } }]] as const) {
      const answer = await post('/admission/validate', review(kind, object));
      assert.equal(answer.allowed, false, kind);
      assert.match(answer.status.message, /quay\.io\/x\/y:1/, kind);
    }
  });

  it('pins tags of this registry to digests in /admission/mutate', async () => {
    const response = await post('/admission/mutate', review('Deployment', { spec: { template: { spec: { containers: [{ name: 'web', image: `${HOST}/team-a/web:v1` }, { name: 'other', image: 'nginx:1.27' }] } } } }));
    assert.equal(response.allowed, true);
    assert.equal(response.patchType, 'JSONPatch');
    assert.deepEqual(JSON.parse(Buffer.from(response.patch, 'base64').toString()), [
      { op: 'replace', path: '/spec/template/spec/containers/0/image', value: `${HOST}/team-a/web@${digest}` },
    ]);
  });

  it('denies the shared test reviews, whose images are not in this registry, echoing their uid', async (t) => {
    const dir = sharedTestdata(t, 'admission');
    if (!dir) return;
    for (const file of ['pod-create.privileged.admissionreview.json', 'pod-create.unprivileged.admissionreview.json', 'deployment-create.signed.admissionreview.json', 'pod-create.signed.admissionreview.json']) {
      const body = JSON.parse(await readFile(join(dir, file), 'utf8'));
      const response = await post('/admission/validate', body);
      assert.equal(response.uid, body.request.uid, file);
      assert.equal(response.allowed, false, file);
      assert.match(response.status.message, /not from an allowed registry/, file);
    }
  });

  it('answers malformed reviews with allowed: false and the reason, never a 500', async () => {
    const cases: [unknown, RegExp][] = [
      ['not json', /malformed AdmissionReview/],
      [{ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: {} }, /apiVersion/],
      [{ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, /request/],
      [review('Pod', { spec: { containers: [{ name: 'x', image: 42 }] } }), /must be a string/],
      [review('Pod', { spec: { containers: 'nope' } }), /must be an array/],
      [review('Pod', { spec: { containers: [{ name: 'x', image: 'UPPER/Case:tag' }] } }), /cannot read the Pod/],
    ];
    cases.push([JSON.stringify({ padding: 'x'.repeat(7 * 1024 * 1024) }), /larger than/]);
    for (const [body, reason] of cases) {
      const response = await post('/admission/validate', body);
      assert.equal(response.allowed, false, JSON.stringify(body).slice(0, 80));
      assert.match(response.status.message, reason);
    }
  });

  it('records the review uid, workload, container and image in every admission decision', async () => {
    const outside = 'docker.io/library/nginx:1.25';
    const denied = await post('/admission/validate', review('Deployment', { spec: { template: { spec: { containers: [{ name: 'proxy', image: outside, resources: limits }] } } } }, 'trace-outside'));
    assert.equal(denied.allowed, false);
    const unreadable = await post('/admission/validate', review('Pod', { spec: { containers: [{ name: 'x', image: 'UPPER/Case:tag' }] } }, 'trace-unreadable'));
    assert.equal(unreadable.allowed, false);
    const decisions = await json(await fetch(`${url}/api/v1/decisions?point=admission&limit=20`)) as { allowed: boolean; admission?: Record<string, unknown>; result: { errors: string[] } }[];
    const outsideDecision = decisions.find((decision) => decision.admission?.uid === 'trace-outside');
    assert.ok(outsideDecision, 'the decision for an image outside the registry names its review');
    assert.deepEqual(outsideDecision.admission, {
      uid: 'trace-outside', operation: 'CREATE', workload: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'prod', name: 'web' },
      container: { name: 'proxy', type: 'container' }, image: outside,
    });
    assert.equal(outsideDecision.allowed, false);
    const unreadableDecision = decisions.find((decision) => decision.admission?.uid === 'trace-unreadable');
    assert.ok(unreadableDecision, 'a review refused before any policy ran is recorded too');
    assert.deepEqual(unreadableDecision.admission?.workload, { apiVersion: 'v1', kind: 'Pod', namespace: 'prod', name: 'web' });
    assert.equal(unreadableDecision.allowed, false);
    assert.match(unreadableDecision.result.errors[0] ?? '', /cannot read the Pod/);
  });

  it('applies the failure policy when a review cannot finish in time', async () => {
    const never = () => new Promise<never>(() => undefined);
    const failures: string[] = [];
    const closed = await withinTime({ registryHosts: [], timeoutMs: 20, failurePolicy: 'Fail' }, never, (_decision, message) => failures.push(message));
    assert.deepEqual([closed.allowed, closed.code], [false, 500]);
    assert.equal(failures.length, 1, 'a failed review is reported, so the webhook records it');
    assert.match(closed.message ?? '', /longer than 20 ms/);
    const open = await withinTime({ registryHosts: [], timeoutMs: 20, failurePolicy: 'Ignore' }, async () => { throw new Error('trust lookup failed'); });
    assert.equal(open.allowed, true);
    assert.match(open.warnings?.[0] ?? '', /failurePolicy Ignore.*trust lookup failed/);
  });
});
