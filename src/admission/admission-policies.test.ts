/**
 * From an AdmissionReview body to per-container decisions of the library's admission policies
 * (no-latest, gatekeeper-admission), without HTTP: the parsing, the workload reader and the
 * policies agree on the shape of `input.admission` (docs/policy-input.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAdmissionReview, type AdmissionRequest } from './admission-review.ts';
import { workloadImages, type WorkloadImage } from './workload-images.ts';
import { compile, fromJS, toJS } from '../policy/rego/index.ts';
import { dataPath, sharedDataOptions } from '../supplychain/testing/shared-data.ts';

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const UID = 'b5a7c3a0-0000-4000-8000-000000000001';

function request(object: Record<string, unknown>): AdmissionRequest {
  return parseAdmissionReview(JSON.stringify({
    apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
    request: { uid: UID, kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, operation: 'CREATE', object },
  }));
}

/** The `admission` section of the input for one image, as the webhook builds it. */
function admissionFacts(req: AdmissionRequest, image: WorkloadImage) {
  return {
    uid: req.uid, operation: req.operation, kind: req.kind, namespace: req.namespace ?? null, name: req.name ?? null,
    container: { name: image.containerName, image: image.image, type: image.type }, object: req.object,
  };
}

/** The library's admission policies, compiled once. */
const library = compile(['no-latest', 'gatekeeper-admission'].map((name) => {
  const file = join(repositoryRoot, 'policies', name, 'policy.rego');
  return { file, source: readFileSync(file, 'utf8') };
}));
const denyQuery = library.prepare('x := {v.code | some p in ["no_latest", "gatekeeper_admission"]; some v in data.wharf.policies[p].deny}');

/** Violation codes per container, as the validate endpoint would compute them (images not in Wharf). */
function decide(req: AdmissionRequest): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const image of workloadImages(req.kind.kind, req.object)) {
    const input = { point: 'admission', now: '2026-11-23T00:00:00Z', artifact: null, trust: null, admission: admissionFacts(req, image) };
    const [result] = denyQuery.eval({ input: fromJS(input) });
    out[image.containerName] = (toJS(result.bindings['x']) as string[]).sort();
  }
  return out;
}

test('shared reviews through the library admission policies', sharedDataOptions(), () => {
  const read = (name: string) => parseAdmissionReview(readFileSync(dataPath('admission', name)));
  // Untagged images mean :latest, declare no limits and are not from this registry.
  assert.deepEqual(decide(read('pod-create.privileged.admissionreview.json')), {
    'sleeping-sidecar': ['IMAGE_LATEST', 'IMAGE_UNPINNED', 'LIMITS_MISSING', 'REPOSITORY_NOT_ALLOWED'],
    nginx: ['IMAGE_LATEST', 'IMAGE_UNPINNED', 'LIMITS_MISSING', 'REPOSITORY_NOT_ALLOWED'],
  });
  // A tagged image passes the tag rules; the Deployment's template still lacks limits.
  assert.deepEqual(decide(read('deployment-create.signed.admissionreview.json')), {
    'test-verify-image-signatures': ['LIMITS_MISSING', 'REPOSITORY_NOT_ALLOWED'],
  });
});

test('a compliant crafted Deployment passes', () => {
  const limits = { limits: { cpu: '1', memory: '1Gi' } };
  const req = request({ spec: { template: { spec: { containers: [{ name: 'web', image: 'registry.example.com/team-a/app:v1', resources: limits }] } } } });
  const params = { wharf: { params: { gatekeeper_admission: { allowedRepos: ['registry.example.com/team-a/'] } } } };
  const [image] = workloadImages(req.kind.kind, req.object);
  const input = { point: 'admission', artifact: null, admission: admissionFacts(req, image) };
  const [result] = denyQuery.eval({ input: fromJS(input), data: fromJS(params) });
  assert.deepEqual(toJS(result.bindings['x']), []);
});
