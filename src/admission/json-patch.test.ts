import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodePatch, pinImagesPatch, type JsonPatchOperation } from './json-patch.ts';
import { workloadImages } from './workload-images.ts';
import { ImageReferenceError } from './image-reference.ts';

const A = 'sha256:' + 'a'.repeat(64);
const B = 'sha256:' + 'b'.repeat(64);

/** Applies `replace` operations the way the API server does, failing on paths that do not exist. */
function applyReplaces(document: unknown, operations: readonly JsonPatchOperation[]): unknown {
  const copy = structuredClone(document);
  for (const { op, path, value } of operations) {
    assert.equal(op, 'replace');
    const keys = path.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    let parent = copy as Record<string, unknown>;
    for (const key of keys.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
    const last = keys[keys.length - 1];
    assert.ok(Object.hasOwn(parent, last), `replace of a missing member ${path}`);
    parent[last] = value;
  }
  return copy;
}

test('tags become name@digest at the image paths, names kept as written', () => {
  const deployment = {
    spec: {
      template: {
        spec: {
          initContainers: [{ name: 'init', image: 'registry.example.com/team-a/init:v1' }],
          containers: [{ name: 'web', image: 'registry.example.com/team-a/app:v1' }, { name: 'plain', image: 'localhost:5000/app' }],
        },
      },
    },
  };
  const digests: Record<string, string> = { 'registry.example.com/team-a/init:v1': A, 'registry.example.com/team-a/app:v1': B, 'localhost:5000/app': A };
  const operations = pinImagesPatch(workloadImages('Deployment', deployment).map((i) => ({ ...i, digest: digests[i.image] })));
  assert.deepEqual(operations, [
    { op: 'replace', path: '/spec/template/spec/initContainers/0/image', value: `registry.example.com/team-a/init@${A}` },
    { op: 'replace', path: '/spec/template/spec/containers/0/image', value: `registry.example.com/team-a/app@${B}` },
    { op: 'replace', path: '/spec/template/spec/containers/1/image', value: `localhost:5000/app@${A}` },
  ]);
  const patched = applyReplaces(deployment, operations) as typeof deployment;
  assert.equal(patched.spec.template.spec.containers[0].image, `registry.example.com/team-a/app@${B}`);
  assert.equal(deployment.spec.template.spec.containers[0].image, 'registry.example.com/team-a/app:v1');
});

test('images already pinned by digest are left alone', () => {
  assert.deepEqual(pinImagesPatch([
    { path: '/spec/containers/0/image', image: `app@${A}`, digest: B },
    { path: '/spec/containers/1/image', image: `app:v1@${A}`, digest: A },
  ]), []);
  assert.deepEqual(pinImagesPatch([]), []);
});

test('the encoded patch is base64 of the JSON array', () => {
  const operations = pinImagesPatch([{ path: '/spec/containers/0/image', image: 'nginx:1.27', digest: A }]);
  const decoded = JSON.parse(Buffer.from(encodePatch(operations), 'base64').toString('utf8'));
  assert.deepEqual(decoded, [{ op: 'replace', path: '/spec/containers/0/image', value: `nginx@${A}` }]);
  assert.equal(Buffer.from(encodePatch([]), 'base64').toString(), '[]');
});

test('caller mistakes are refused, not turned into a broken patch', () => {
  assert.throws(() => pinImagesPatch([{ path: 'spec/containers/0/image', image: 'nginx:1', digest: A }]), /not a JSON pointer/);
  assert.throws(() => pinImagesPatch([{ path: '/spec/x~2', image: 'nginx:1', digest: A }]), /not a JSON pointer/);
  assert.throws(() => pinImagesPatch([{ path: '/spec/containers/0/image', image: 'nginx:1', digest: 'latest' }]), /not a digest/);
  assert.throws(() => pinImagesPatch([{ path: '/spec/containers/0/image', image: 'nginx:1', digest: 'sha256:ABC' }]), /not a digest/);
  assert.throws(() => pinImagesPatch([{ path: '/spec/containers/0/image', image: 'Not Valid', digest: A }]), ImageReferenceError);
});
