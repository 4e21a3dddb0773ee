import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VerifiedFiles } from './verified-files.ts';

const file = { ino: 7, size: 100, mtimeMs: 1000.5, ctimeMs: 1000.5 };

describe('VerifiedFiles', () => {
  it('counts a verification for its window only, and only while the file is unchanged', () => {
    const verified = new VerifiedFiles({ freshForMs: 1000 });
    assert.equal(verified.isFresh('/a', file, 0), false);
    verified.record('/a', file, 0);
    assert.equal(verified.isFresh('/a', file, 999), true);
    assert.equal(verified.isFresh('/a', file, 1001), false, 'expired');
    verified.record('/a', file, 0);
    assert.equal(verified.isFresh('/a', { ...file, ctimeMs: 1000.6 }, 1), false, 'written to since');
    verified.record('/a', file, 0);
    assert.equal(verified.isFresh('/a', { ...file, ino: 8 }, 1), false, 'another file renamed into its place');
    assert.equal(verified.isFresh('/b', file, 1), false);
  });

  it('forgets the least recently verified files beyond its capacity', () => {
    const verified = new VerifiedFiles({ capacity: 2 });
    verified.record('/a', file);
    verified.record('/b', file);
    verified.record('/c', file);
    assert.deepEqual(['/a', '/b', '/c'].map((path) => verified.isFresh(path, file)), [false, true, true]);
  });
});
