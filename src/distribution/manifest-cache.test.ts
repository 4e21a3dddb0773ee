import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManifestCache } from './manifest-cache.ts';

const manifest = (n: number) => ({ digest: `sha256:${String(n).padStart(64, '0')}`, mediaType: 'application/vnd.oci.image.manifest.v1+json', content: Buffer.from(`${n}`) });

describe('ManifestCache', () => {
  it('drops an answer read before a tag change that arrived while the read was under way', () => {
    const cache = new ManifestCache();
    const readAt = cache.generation;
    // The database answered with the old manifest, and then another replica's move was announced.
    cache.forgetTag('repo', 'latest');
    cache.set('repo', 'latest', manifest(1), readAt);
    assert.equal(cache.get('repo', 'latest'), undefined);
    cache.set('repo', 'latest', manifest(2), cache.generation);
    assert.equal(cache.get('repo', 'latest')?.digest, manifest(2).digest);
  });

  it('serves nothing from memory while tag changes cannot be seen, and starts empty when they can again', () => {
    const cache = new ManifestCache();
    cache.set('repo', 'v1', manifest(1));
    cache.tagChanges.lost(new Error('connection reset'));
    assert.equal(cache.get('repo', 'v1'), undefined);
    cache.set('repo', 'v1', manifest(1));
    assert.equal(cache.get('repo', 'v1'), undefined, 'nothing is cached while changes may be missed');
    cache.tagChanges.restored();
    assert.equal(cache.get('repo', 'v1'), undefined);
    cache.set('repo', 'v1', manifest(1));
    assert.equal(cache.get('repo', 'v1')?.digest, manifest(1).digest);
  });

  it('forgets what another process changed: one tag, or every tag of a repository', () => {
    const cache = new ManifestCache();
    cache.set('repo', 'a', manifest(1));
    cache.set('repo', 'b', manifest(1));
    cache.set('other', 'a', manifest(1));
    cache.tagChanges.changed({ repository: 'repo', tag: 'a' });
    assert.equal(cache.get('repo', 'a'), undefined);
    assert.ok(cache.get('repo', 'b'));
    cache.tagChanges.changed({ repository: 'repo' });
    assert.equal(cache.get('repo', 'b'), undefined);
    assert.ok(cache.get('other', 'a'));
  });
});
