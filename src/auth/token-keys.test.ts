// Token keys shared by processes through one identity store: a key id one process does not know
// makes it read the store again; such reads are shared and spaced out.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteIdentityStore } from './sqlite-identity-store.ts';
import { TokenKeys } from './token-keys.ts';

describe('TokenKeys.findOrReload', () => {
  let dir: string;
  let store: SqliteIdentityStore;
  let reads: number;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-token-keys-'));
    store = new SqliteIdentityStore(join(dir, 'identity.db'));
    await store.migrate();
    reads = 0;
    const list = store.listSigningKeys.bind(store);
    store.listSigningKeys = () => { reads++; return list(); };
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('knows a key another process rotated to as soon as a token names it', async () => {
    const here = new TokenKeys(store);
    const there = new TokenKeys(store);
    await here.load();
    await there.load();
    const rotated = await there.rotate();
    assert.equal(here.find(rotated, new Date(), 60_000), undefined, 'not loaded yet');
    assert.equal((await here.findOrReload(rotated, new Date(), 60_000))?.kid, rotated);
  });

  it('shares one read of the store among lookups of unknown key ids, and spaces the next one out', async () => {
    const keys = new TokenKeys(store);
    await keys.load();
    const before = reads;
    const misses = await Promise.all(Array.from({ length: 20 }, (_, n) => keys.findOrReload(`made-up-${n}`, new Date(), 60_000)));
    assert.deepEqual(new Set(misses), new Set([undefined]));
    assert.equal(reads - before, 1, 'twenty lookups, one read');
    const started = Date.now();
    assert.equal(await keys.findOrReload('made-up-again', new Date(), 60_000), undefined);
    assert.equal(reads - before, 2);
    assert.ok(Date.now() - started >= 150, 'the second read waited for the interval');
    assert.ok(await keys.findOrReload(keys.current.kid, new Date(), 60_000), 'a known key needs no read');
    assert.equal(reads - before, 2);
  });
});
