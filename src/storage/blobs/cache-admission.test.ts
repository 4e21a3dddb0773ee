import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CacheAdmission } from './cache-admission.ts';

test('a blob is admitted from its second pull within the window on', () => {
  const admission = new CacheAdmission({ windowMs: 1000 });
  assert.equal(admission.admit('a', 0), false);
  assert.equal(admission.admit('a', 500), true);
  assert.equal(admission.admit('a', 1400), true, 'each pull renews the window');
  assert.equal(admission.admit('b', 1400), false, 'blobs are counted apart');
});

test('a pull after the window has passed counts as a first pull again', () => {
  const admission = new CacheAdmission({ windowMs: 1000 });
  admission.admit('a', 0);
  assert.equal(admission.admit('a', 1001), false);
  assert.equal(admission.admit('a', 1500), true);
});

test('past its capacity it forgets the least recently pulled blob first', () => {
  const admission = new CacheAdmission({ capacity: 2, windowMs: 1000 });
  admission.admit('a', 0);
  admission.admit('b', 1);
  admission.admit('a', 2); // a is now the most recent
  admission.admit('c', 3); // forgets b
  assert.equal(admission.admit('b', 4), false, 'b was forgotten');
  assert.equal(admission.admit('c', 5), true, 'c was remembered');
});
