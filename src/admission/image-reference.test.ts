import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalReference, ImageReferenceError, isOnRegistry, parseImageReference, pinnedReference } from './image-reference.ts';

const SHA = 'sha256:' + '0123456789abcdef'.repeat(4);

function parts(text: string) {
  const r = parseImageReference(text);
  return { registry: r.registry, repository: r.repository, tag: r.tag, explicitTag: r.explicitTag, digest: r.digest };
}

test('single names are official Docker Hub images with the implied latest tag', () => {
  assert.deepEqual(parts('nginx'), { registry: 'docker.io', repository: 'library/nginx', tag: 'latest', explicitTag: false, digest: undefined });
  assert.equal(canonicalReference(parseImageReference('nginx')), 'docker.io/library/nginx:latest');
  assert.deepEqual(parts('alpine:3.20'), { registry: 'docker.io', repository: 'library/alpine', tag: '3.20', explicitTag: true, digest: undefined });
});

test('a first component without ".", ":" or upper case is a Docker Hub namespace', () => {
  assert.deepEqual(parts('bitnami/redis:7.2'), { registry: 'docker.io', repository: 'bitnami/redis', tag: '7.2', explicitTag: true, digest: undefined });
  assert.equal(parseImageReference('team/sub/app').registry, 'docker.io');
  assert.equal(parseImageReference('team/sub/app').repository, 'team/sub/app');
});

test('registry hosts: dotted names, localhost, ports, IPv4, IPv6', () => {
  assert.deepEqual(parts('ghcr.io/kubewarden/test-verify-image-signatures:signed'),
    { registry: 'ghcr.io', repository: 'kubewarden/test-verify-image-signatures', tag: 'signed', explicitTag: true, digest: undefined });
  assert.equal(parseImageReference('localhost/app').registry, 'localhost');
  assert.deepEqual(parts('localhost:5000/team-a/app'), { registry: 'localhost:5000', repository: 'team-a/app', tag: 'latest', explicitTag: false, digest: undefined });
  assert.equal(parseImageReference('10.0.0.7:5000/app:v1').registry, '10.0.0.7:5000');
  assert.deepEqual(parts('[::1]:5000/team/app:v2'), { registry: '[::1]:5000', repository: 'team/app', tag: 'v2', explicitTag: true, digest: undefined });
  assert.equal(parseImageReference('[2001:db8::1]/app').registry, '[2001:db8::1]');
  assert.equal(parseImageReference('Registry.Example.com/app').registry, 'Registry.Example.com');
  assert.equal(parseImageReference('index.docker.io/nginx').registry, 'docker.io');
  assert.equal(parseImageReference('index.docker.io/nginx').repository, 'library/nginx');
  // A host with a dot keeps single-component repositories as they are.
  assert.equal(parseImageReference('registry.example.com/app').repository, 'app');
});

test('a port is never mistaken for a tag', () => {
  const r = parseImageReference('localhost:5000/app:1.0');
  assert.equal(r.registry, 'localhost:5000');
  assert.equal(r.tag, '1.0');
});

test('digests: alone, with a tag, and pinned forms', () => {
  assert.deepEqual(parts(`nginx@${SHA}`), { registry: 'docker.io', repository: 'library/nginx', tag: undefined, explicitTag: false, digest: SHA });
  assert.deepEqual(parts(`registry.example.com/team-a/app:v1@${SHA}`),
    { registry: 'registry.example.com', repository: 'team-a/app', tag: 'v1', explicitTag: true, digest: SHA });
  const r = parseImageReference('registry.example.com/team-a/app:v1');
  assert.equal(pinnedReference(r, SHA), `registry.example.com/team-a/app@${SHA}`);
  assert.equal(pinnedReference(parseImageReference('nginx'), SHA), `nginx@${SHA}`);
  assert.equal(canonicalReference(parseImageReference(`app:v1@${SHA}`)), `docker.io/library/app:v1@${SHA}`);
  assert.equal(parseImageReference('app@sha512:' + 'ab'.repeat(64)).digest, 'sha512:' + 'ab'.repeat(64));
});

test('path components allow Docker separators', () => {
  for (const ok of ['a_b/c__d', 'a.b-c/d---e', 'my-registry.local:5000/a.b/c_d-e:tag_1.2-x', 'x/' + 'a'.repeat(200)]) {
    assert.doesNotThrow(() => parseImageReference(ok), ok);
  }
});

function rejects(text: unknown, message: RegExp): void {
  assert.throws(() => parseImageReference(text), (e: unknown) => {
    assert.ok(e instanceof ImageReferenceError, `not an ImageReferenceError: ${String(e)}`);
    assert.match(e.message, message);
    return true;
  }, String(text));
}

test('invalid references are refused with a precise reason', () => {
  rejects('', /empty reference/);
  rejects('Nginx', /must be lowercase/);
  rejects('docker.io/Team/app', /must be lowercase/);
  rejects('nginx:', /empty tag/);
  rejects('nginx:-bad', /invalid tag "-bad"/);
  rejects('nginx:' + 'a'.repeat(129), /invalid tag/);
  rejects('nginx@sha256:abc', /invalid digest "sha256:abc"/);
  rejects('nginx@', /invalid digest/);
  rejects(`nginx@${SHA}@${SHA}`, /more than one "@"/);
  rejects('nginx@sha256:' + 'A'.repeat(64), /64 lowercase hexadecimal/);
  rejects('nginx@sha256:' + 'a'.repeat(63) + 'aa', /64 lowercase hexadecimal/);
  rejects('https://registry.example.com/app', /no URL scheme/);
  rejects('ngi nx', /whitespace/);
  rejects('team//app', /empty path component/);
  rejects('team/app/', /empty path component/);
  rejects('-app', /not a valid/);
  rejects('a'.repeat(64).replace(/a/g, 'f'), /image id/);
  rejects('registry.example.com/' + 'a'.repeat(250), /longer than 255/);
  rejects('a'.repeat(5000), /longer than 4096/);
  rejects(42, /expected a string, got number/);
  rejects(null, /got null/);
  rejects(undefined, /got undefined/);
});

test('hostile long references are rejected quickly', () => {
  const started = performance.now();
  for (const evil of ['a'.repeat(4000) + '!', 'a-'.repeat(2000) + '!', 'a.'.repeat(2000) + '/x!', 'a/'.repeat(2000) + '!', 'a_'.repeat(2000) + ':!']) {
    assert.throws(() => parseImageReference(evil), ImageReferenceError);
  }
  assert.ok(performance.now() - started < 500, `took ${performance.now() - started} ms`);
});

test('isOnRegistry compares hosts the way users write them', () => {
  const ref = parseImageReference('Registry.Example.com/team-a/app:v1');
  assert.equal(isOnRegistry(ref, 'registry.example.com'), true);
  assert.equal(isOnRegistry(ref, 'https://registry.example.com/'), true);
  assert.equal(isOnRegistry(ref, 'registry.example.com:443'), true);
  assert.equal(isOnRegistry(ref, 'registry.example.com:5000'), false);
  assert.equal(isOnRegistry(ref, 'example.com'), false);
  assert.equal(isOnRegistry(parseImageReference('localhost:5000/app'), 'localhost:5000'), true);
  assert.equal(isOnRegistry(parseImageReference('localhost:5000/app'), 'localhost'), false);
  assert.equal(isOnRegistry(parseImageReference('nginx'), 'docker.io'), true);
  assert.equal(isOnRegistry(parseImageReference('nginx'), 'index.docker.io'), true);
  assert.equal(isOnRegistry(parseImageReference('[::1]:5000/app'), '[::1]:5000'), true);
  // A repository path that looks like the host does not count.
  assert.equal(isOnRegistry(parseImageReference('library/registry.example.com'), 'registry.example.com'), false);
});
