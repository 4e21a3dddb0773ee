import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isWorkloadKind, podSpecPointer, toPointer, workloadImages, WorkloadShapeError } from './workload-images.ts';

const podSpec = {
  initContainers: [{ name: 'migrate', image: 'registry.example.com/team-a/migrate:v1' }],
  containers: [
    { name: 'web', image: 'registry.example.com/team-a/app:v1' },
    { name: 'proxy', image: 'envoyproxy/envoy:v1.31' },
  ],
  ephemeralContainers: [{ name: 'debugger', image: 'busybox:1.36' }],
};

/** Each kind with its object built around the same pod spec. */
const workloads: Record<string, { object: unknown; prefix: string }> = {
  Pod: { object: { spec: podSpec }, prefix: '/spec' },
  PodTemplate: { object: { template: { spec: podSpec } }, prefix: '/template/spec' },
  Deployment: { object: { spec: { replicas: 2, template: { spec: podSpec } } }, prefix: '/spec/template/spec' },
  ReplicaSet: { object: { spec: { template: { spec: podSpec } } }, prefix: '/spec/template/spec' },
  ReplicationController: { object: { spec: { template: { spec: podSpec } } }, prefix: '/spec/template/spec' },
  StatefulSet: { object: { spec: { template: { spec: podSpec } } }, prefix: '/spec/template/spec' },
  DaemonSet: { object: { spec: { template: { spec: podSpec } } }, prefix: '/spec/template/spec' },
  Job: { object: { spec: { template: { spec: podSpec } } }, prefix: '/spec/template/spec' },
  CronJob: { object: { spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: podSpec } } } } }, prefix: '/spec/jobTemplate/spec/template/spec' },
};

/** Follows an RFC 6901 pointer, so a test can check each path really leads to its image. */
function resolvePointer(document: unknown, pointer: string): unknown {
  let value = document;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

test('every workload kind: init, regular and ephemeral containers with their pointers', () => {
  for (const [kind, { object, prefix }] of Object.entries(workloads)) {
    assert.equal(podSpecPointer(kind), prefix, kind);
    const images = workloadImages(kind, object);
    assert.deepEqual(images, [
      { path: `${prefix}/initContainers/0/image`, containerName: 'migrate', type: 'initContainer', image: 'registry.example.com/team-a/migrate:v1' },
      { path: `${prefix}/containers/0/image`, containerName: 'web', type: 'container', image: 'registry.example.com/team-a/app:v1' },
      { path: `${prefix}/containers/1/image`, containerName: 'proxy', type: 'container', image: 'envoyproxy/envoy:v1.31' },
      { path: `${prefix}/ephemeralContainers/0/image`, containerName: 'debugger', type: 'ephemeralContainer', image: 'busybox:1.36' },
    ], kind);
    for (const image of images) assert.equal(resolvePointer(object, image.path), image.image, `${kind} ${image.path}`);
  }
});

test('kinds without containers give no images', () => {
  for (const kind of ['Service', 'ConfigMap', 'Namespace', 'pod', '']) {
    assert.equal(isWorkloadKind(kind), false);
    assert.equal(podSpecPointer(kind), undefined);
    assert.deepEqual(workloadImages(kind, { spec: podSpec }), []);
  }
  // Inherited property names are not kinds.
  assert.equal(isWorkloadKind('constructor'), false);
  assert.deepEqual(workloadImages('toString', { spec: podSpec }), []);
});

test('absent pod specs and container lists give no images', () => {
  assert.deepEqual(workloadImages('Deployment', { spec: { replicas: 3 } }), []);
  assert.deepEqual(workloadImages('Deployment', {}), []);
  assert.deepEqual(workloadImages('Pod', { spec: null }), []);
  assert.deepEqual(workloadImages('Pod', null), []);
  assert.deepEqual(workloadImages('Pod', { spec: { containers: null, initContainers: [] } }), []);
  assert.deepEqual(workloadImages('CronJob', { spec: { jobTemplate: { spec: {} } } }), []);
});

test('a missing container name is tolerated, as mutating webhooks see unvalidated objects', () => {
  assert.deepEqual(workloadImages('Pod', { spec: { containers: [{ image: 'nginx:1' }] } }),
    [{ path: '/spec/containers/0/image', containerName: '', type: 'container', image: 'nginx:1' }]);
});

function rejects(kind: string, object: unknown, path: string, message: RegExp): void {
  assert.throws(() => workloadImages(kind, object), (e: unknown) => {
    assert.ok(e instanceof WorkloadShapeError, `not a WorkloadShapeError: ${String(e)}`);
    assert.equal(e.path, path);
    assert.match(e.message, message);
    return true;
  });
}

test('malformed workloads are refused with the path of the offending value', () => {
  rejects('Pod', { spec: { containers: [{ name: 'web', image: 42 }] } }, '/spec/containers/0/image', /image of container "web" must be a string, got a number/);
  rejects('Pod', { spec: { containers: [{ name: 'web', image: { name: 'nginx' } }] } }, '/spec/containers/0/image', /got an object/);
  rejects('Pod', { spec: { containers: [{ name: 'web', image: null }] } }, '/spec/containers/0/image', /got null/);
  rejects('Pod', { spec: { containers: [{ name: 'web' }] } }, '/spec/containers/0/image', /must be a string, got nothing \(the field is missing\)/);
  rejects('Pod', { spec: { containers: [{ name: 'web', image: '' }] } }, '/spec/containers/0/image', /is empty/);
  rejects('Pod', { spec: { containers: { web: { image: 'nginx' } } } }, '/spec/containers', /containers must be an array, got an object/);
  rejects('Pod', { spec: { initContainers: 'nginx' } }, '/spec/initContainers', /must be an array, got a string/);
  rejects('Pod', { spec: { containers: ['nginx'] } }, '/spec/containers/0', /a container must be an object, got a string/);
  rejects('Pod', { spec: { containers: [{ name: 7, image: 'nginx' }] } }, '/spec/containers/0/name', /name must be a string/);
  rejects('Pod', { spec: [] }, '/spec', /pod spec must be an object, got an array/);
  rejects('Deployment', { spec: { template: 'x' } }, '/spec/template', /expected an object, got a string/);
  rejects('CronJob', { spec: { jobTemplate: { spec: { template: { spec: { ephemeralContainers: [{ name: 'd', image: false }] } } } } } },
    '/spec/jobTemplate/spec/template/spec/ephemeralContainers/0/image', /must be a string, got a boolean/);
  rejects('Pod', [], '', /expected an object, got an array/);
});

test('large pods are read whole and fast', () => {
  const containers = Array.from({ length: 5000 }, (_, i) => ({ name: `c${i}`, image: `registry.example.com/team/app-${i}:v${i}` }));
  const started = performance.now();
  const images = workloadImages('Pod', { spec: { containers } });
  assert.equal(images.length, 5000);
  assert.equal(images[4999].path, '/spec/containers/4999/image');
  assert.ok(performance.now() - started < 200);
});

test('pointer segments are escaped per RFC 6901', () => {
  assert.equal(toPointer(['spec', 'a/b', 'c~d', 0]), '/spec/a~1b/c~0d/0');
  assert.equal(toPointer([]), '');
});
