import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  admissionResponse, AdmissionReviewError, malformedReviewResponse, parseAdmissionReview, type AdmissionRequest,
} from './admission-review.ts';
import { workloadImages } from './workload-images.ts';
import { parseImageReference } from './image-reference.ts';
import { dataPath, sharedDataOptions } from '../supplychain/testing/shared-data.ts';

const UID = '705ab4f5-6393-11e8-b7cc-42010a800002';

function review(request: unknown, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request, ...extra });
}

function podRequest(spec: unknown, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    uid: UID,
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    namespace: 'prod',
    operation: 'CREATE',
    userInfo: { username: 'alice', groups: ['system:authenticated'] },
    object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec },
    ...overrides,
  };
}

/** Every image of a request, the way the webhook reads them. */
function imagesOf(request: AdmissionRequest) {
  return workloadImages(request.kind.kind, request.object);
}

// ---- the shared AdmissionReview corpus ----------------------------------------------------

const shared = sharedDataOptions();
const ADMISSION_DIR = dataPath('admission');

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return jsonFiles(full);
    return entry.name.endsWith('.json') ? [full] : [];
  }).sort();
}

/** What each known file must yield; files added later are still checked generically. */
const EXPECTED_IMAGES: Record<string, string[]> = {
  'deployment-create.signed.admissionreview.json': ['/spec/template/spec/containers/0/image ghcr.io/kubewarden/test-verify-image-signatures:signed'],
  'pod-create.signed.admissionreview.json': ['/spec/containers/0/image ghcr.io/kubewarden/test-verify-image-signatures:signed'],
  'pod-create.privileged.admissionreview.json': ['/spec/containers/0/image alpine', '/spec/containers/1/image nginx'],
  'pod-create.unprivileged.admissionreview.json': ['/spec/containers/0/image alpine', '/spec/containers/1/image nginx'],
  'requests/deployment_creation_signed.json': ['/spec/template/spec/containers/0/image ghcr.io/kubewarden/test-verify-image-signatures:signed'],
  'requests/pod_creation_signed.json': ['/spec/containers/0/image ghcr.io/kubewarden/test-verify-image-signatures:signed'],
};

test('every AdmissionReview of the shared test data parses, with its images', shared, () => {
  const files = jsonFiles(ADMISSION_DIR);
  assert.ok(files.length >= 6, `only ${files.length} files under ${ADMISSION_DIR}`);
  for (const file of files) {
    const name = relative(ADMISSION_DIR, file);
    const raw = readFileSync(file, 'utf8');
    const document = JSON.parse(raw);
    // Files under requests/ hold a bare AdmissionRequest: not a review, until wrapped in one.
    const isBareRequest = document.apiVersion === undefined && typeof document.uid === 'string';
    if (isBareRequest) {
      assert.throws(() => parseAdmissionReview(raw), (e: unknown) => e instanceof AdmissionReviewError && /apiVersion missing/.test(e.message), name);
    }
    const request = parseAdmissionReview(isBareRequest ? review(document) : raw);
    const source = isBareRequest ? document : document.request;
    assert.equal(request.uid, source.uid, name);
    assert.equal(request.operation, source.operation, name);
    assert.deepEqual(request.kind, source.kind, name);
    const images = imagesOf(request);
    assert.ok(images.length > 0, `${name}: no images found`);
    for (const image of images) assert.doesNotThrow(() => parseImageReference(image.image), `${name}: ${image.image}`);
    const expected = EXPECTED_IMAGES[name];
    if (expected) assert.deepEqual(images.map((i) => `${i.path} ${i.image}`), expected, name);
  }
});

test('the shared privileged Pod: namespace, user and both containers', shared, () => {
  const request = parseAdmissionReview(readFileSync(join(ADMISSION_DIR, 'pod-create.privileged.admissionreview.json')));
  assert.equal(request.namespace, 'default');
  assert.equal(request.name, 'nginx');
  assert.equal(request.userInfo.username, 'kubernetes-admin');
  assert.deepEqual(request.userInfo.groups, ['system:masters', 'system:authenticated']);
  assert.equal(request.oldObject, null);
  assert.equal(request.dryRun, false);
  assert.deepEqual(imagesOf(request).map((i) => [i.containerName, parseImageReference(i.image).repository]), [
    ['sleeping-sidecar', 'library/alpine'], ['nginx', 'library/nginx'],
  ]);
});

// ---- crafted reviews ----------------------------------------------------------------------

test('a crafted Pod with init and ephemeral containers', () => {
  const request = parseAdmissionReview(review(podRequest({
    initContainers: [{ name: 'init', image: 'registry.example.com/team-a/init:v1' }],
    containers: [{ name: 'web', image: 'registry.example.com/team-a/app:v1' }],
    ephemeralContainers: [{ name: 'debug', image: 'busybox' }],
  })));
  assert.equal(request.uid, UID);
  assert.deepEqual(request.resource, { group: '', version: 'v1', resource: 'pods' });
  assert.deepEqual(imagesOf(request).map((i) => [i.type, i.path]), [
    ['initContainer', '/spec/initContainers/0/image'],
    ['container', '/spec/containers/0/image'],
    ['ephemeralContainer', '/spec/ephemeralContainers/0/image'],
  ]);
});

test('an ephemeral-container UPDATE on the pods/ephemeralcontainers subresource', () => {
  const pod = { spec: { containers: [{ name: 'web', image: 'app:v1' }], ephemeralContainers: [{ name: 'dbg', image: 'busybox:1' }] } };
  const request = parseAdmissionReview(review(podRequest(pod.spec, {
    operation: 'UPDATE', subResource: 'ephemeralcontainers', object: pod, oldObject: { spec: { containers: pod.spec.containers } },
  })));
  assert.equal(request.subResource, 'ephemeralcontainers');
  assert.equal(imagesOf(request).at(-1)?.type, 'ephemeralContainer');
});

test('every workload kind in a review', () => {
  const spec = { containers: [{ name: 'c', image: 'app:v1' }] };
  const objects: Record<string, [string, unknown, string]> = {
    Deployment: ['apps', { spec: { template: { spec } } }, '/spec/template/spec/containers/0/image'],
    ReplicaSet: ['apps', { spec: { template: { spec } } }, '/spec/template/spec/containers/0/image'],
    StatefulSet: ['apps', { spec: { template: { spec } } }, '/spec/template/spec/containers/0/image'],
    DaemonSet: ['apps', { spec: { template: { spec } } }, '/spec/template/spec/containers/0/image'],
    Job: ['batch', { spec: { template: { spec } } }, '/spec/template/spec/containers/0/image'],
    CronJob: ['batch', { spec: { jobTemplate: { spec: { template: { spec } } } } }, '/spec/jobTemplate/spec/template/spec/containers/0/image'],
  };
  for (const [kind, [group, object, path]] of Object.entries(objects)) {
    const request = parseAdmissionReview(review({ uid: UID, kind: { group, version: 'v1', kind }, operation: 'CREATE', object }));
    assert.deepEqual(imagesOf(request).map((i) => i.path), [path], kind);
  }
});

test('DELETE carries no object, only the old one', () => {
  const request = parseAdmissionReview(review({ uid: UID, kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'DELETE', oldObject: { spec: {} } }));
  assert.equal(request.object, null);
  assert.deepEqual(request.oldObject, { spec: {} });
  assert.deepEqual(imagesOf(request), []);
});

test('bytes are accepted as well as text', () => {
  assert.equal(parseAdmissionReview(new TextEncoder().encode(review(podRequest({ containers: [] })))).uid, UID);
});

// ---- malformed bodies ---------------------------------------------------------------------

function rejects(body: string | Uint8Array, message: RegExp, uid?: string, maxBodyBytes?: number): void {
  assert.throws(() => parseAdmissionReview(body, { maxBodyBytes }), (e: unknown) => {
    assert.ok(e instanceof AdmissionReviewError, `not an AdmissionReviewError: ${String(e)}`);
    assert.match(e.message, message);
    assert.equal(e.uid, uid);
    return true;
  }, message.source);
}

test('bodies that are not an AdmissionReview at all', () => {
  rejects('', /empty request body/);
  rejects('not json', /not JSON/);
  rejects('{"apiVersion": "admission.k8s.io/v1",', /not JSON/);
  rejects('[]', /must be a JSON object, got an array/);
  rejects('null', /got null/);
  rejects('"review"', /got a string/);
  rejects(new Uint8Array([0xff, 0xfe, 0x00]), /not JSON/);
});

test('wrong apiVersion or kind, with the uid kept for the answer', () => {
  const request = podRequest({ containers: [] });
  rejects(JSON.stringify({ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request }), /unsupported apiVersion a string \("admission.k8s.io\/v1beta1"\): expected "admission.k8s.io\/v1"/, UID);
  rejects(JSON.stringify({ kind: 'AdmissionReview', request }), /unsupported apiVersion missing/, UID);
  rejects(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'Pod', request }), /kind must be "AdmissionReview", got a string \("Pod"\)/, UID);
});

test('missing or malformed request, uid, operation, kind and object', () => {
  rejects(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }), /request must be an object, got missing/);
  rejects(review('x'), /request must be an object, got a string/);
  rejects(review(podRequest({}, { uid: undefined })), /request.uid must be a non-empty string, got missing/);
  rejects(review(podRequest({}, { uid: '' })), /request.uid must be a non-empty string/);
  rejects(review(podRequest({}, { uid: 12 })), /request.uid must be a non-empty string, got a number/);
  rejects(review(podRequest({}, { operation: 'PATCH' })), /request.operation must be one of CREATE, UPDATE, DELETE, CONNECT/, UID);
  rejects(review(podRequest({}, { object: undefined })), /request.object is required for CREATE, got missing/, UID);
  rejects(review(podRequest({}, { object: null })), /request.object is required for CREATE, got null/, UID);
  rejects(review(podRequest({}, { object: [1] })), /request.object must be an object, got an array/, UID);
  rejects(review(podRequest({}, { operation: 'UPDATE' })), /request.oldObject is required for UPDATE/, UID);
  rejects(review(podRequest({}, { kind: undefined })), /request.kind must be an object/, UID);
  rejects(review(podRequest({}, { kind: { group: '', version: 'v1' } })), /request.kind.kind must be a non-empty string, got missing/, UID);
  rejects(review(podRequest({}, { kind: { group: 1, version: 'v1', kind: 'Pod' } })), /request.kind.group must be a string/, UID);
  rejects(review(podRequest({}, { resource: { group: '', version: 'v1' } })), /request.resource.resource must be a non-empty string/, UID);
  rejects(review(podRequest({}, { namespace: 5 })), /request.namespace must be a string, got a number/, UID);
  rejects(review(podRequest({}, { dryRun: 'yes' })), /request.dryRun must be a boolean/, UID);
  rejects(review(podRequest({}, { userInfo: 'alice' })), /request.userInfo must be an object/, UID);
  rejects(review(podRequest({}, { userInfo: { groups: 'admins' } })), /groups must be an array of strings/, UID);
  rejects(review(podRequest({}, { userInfo: { username: 1 } })), /userInfo.username must be a string/, UID);
  rejects(review(podRequest({}, { userInfo: { extra: { scopes: 'x' } } })), /extra must map names to arrays of strings/, UID);
});

test('images that are not strings are reported by the workload reader', () => {
  const request = parseAdmissionReview(review(podRequest({ containers: [{ name: 'web', image: ['nginx'] }] })));
  assert.throws(() => imagesOf(request), /\/spec\/containers\/0\/image: the image of container "web" must be a string, got an array/);
});

test('huge and deeply nested inputs are refused or read without a crash', () => {
  rejects('x'.repeat(2000), /request body of 2000 bytes exceeds the limit of 1000 bytes/, undefined, 1000);
  const big = review(podRequest({ containers: [{ name: 'web', image: 'app:v1', env: [{ name: 'X', value: 'y'.repeat(7 * 1024 * 1024) }] }] }));
  rejects(big, /exceeds the limit of 6291456 bytes/);
  const deep = '['.repeat(200_000) + ']'.repeat(200_000);
  assert.throws(() => parseAdmissionReview(deep), AdmissionReviewError);
  // Deep nesting where the webhook never looks: JSON.parse copes, nothing else walks it.
  const shallow = review(podRequest({ containers: [] }, { options: { deep: 0 } }));
  const deepRequest = shallow.replace('{"deep":0}', '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000));
  assert.equal(parseAdmissionReview(deepRequest).uid, UID);
  const many = review(podRequest({ containers: Array.from({ length: 2000 }, (_, i) => ({ name: `c${i}`, image: `app:${i}` })) }));
  assert.equal(imagesOf(parseAdmissionReview(many)).length, 2000);
});

// ---- responses ----------------------------------------------------------------------------

test('an allowed response with a patch carries JSONPatch as base64', () => {
  const patch = [{ op: 'replace' as const, path: '/spec/containers/0/image', value: 'app@sha256:' + 'a'.repeat(64) }];
  const envelope = admissionResponse(UID, { allowed: true, patch, warnings: ['audit: image has no SBOM'] });
  assert.deepEqual(envelope, {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: {
      uid: UID, allowed: true, warnings: ['audit: image has no SBOM'],
      patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
    },
  });
});

test('a plain allow is minimal, an empty patch is omitted', () => {
  assert.deepEqual(admissionResponse(UID, { allowed: true, patch: [] }).response, { uid: UID, allowed: true });
});

test('a denial carries status code, message and reason, and never a patch', () => {
  const patch = [{ op: 'replace' as const, path: '/spec/containers/0/image', value: 'x' }];
  const envelope = admissionResponse(UID, { allowed: false, message: 'container "web": image "nginx" has no tag', patch });
  assert.deepEqual(envelope.response, {
    uid: UID, allowed: false, status: { code: 403, message: 'container "web": image "nginx" has no tag', reason: 'Forbidden' },
  });
  assert.deepEqual(admissionResponse(UID, { allowed: false }).response.status, { code: 403, message: 'denied by policy', reason: 'Forbidden' });
  assert.deepEqual(admissionResponse(UID, { allowed: false, code: 500, message: 'policy timed out' }).response.status,
    { code: 500, message: 'policy timed out', reason: 'InternalError' });
});

test('warnings are single printable lines', () => {
  const envelope = admissionResponse(UID, { allowed: true, warnings: ['line one\nline two\t!', '   ', '\u0007'] });
  assert.deepEqual(envelope.response.warnings, ['line one line two !']);
});

test('a malformed review is answered allowed: false with code 400 and the reason', () => {
  let error: AdmissionReviewError | undefined;
  try {
    parseAdmissionReview(review(podRequest({}, { operation: 'PATCH' })));
  } catch (e) {
    error = e as AdmissionReviewError;
  }
  assert.ok(error);
  const envelope = malformedReviewResponse(error);
  assert.equal(envelope.response.uid, UID);
  assert.equal(envelope.response.allowed, false);
  assert.equal(envelope.response.status?.code, 400);
  assert.equal(envelope.response.status?.reason, 'BadRequest');
  assert.match(envelope.response.status?.message ?? '', /^malformed AdmissionReview: request.operation must be one of/);
  assert.equal(malformedReviewResponse(new AdmissionReviewError('x')).response.uid, '');
});
