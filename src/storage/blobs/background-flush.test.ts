import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackgroundFlush } from './background-flush.ts';

const MIB = 1024 * 1024;

test('bytes counted over several appends start one flush, which settle waits for', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-flush-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'staged');
  await writeFile(path, 'x');
  const flush = new BackgroundFlush();
  for (let append = 0; append < 3; append++) flush.written(path, 10 * MIB); // three 10 MiB PATCHes
  assert.equal(flush.isFlushing(path), false, '30 MiB is not enough');
  flush.written(path, 2 * MIB);
  assert.equal(flush.isFlushing(path), true);
  flush.written(path, 40 * MIB);
  await flush.settle(path);
  assert.equal(flush.isFlushing(path), false);
  assert.equal(flush.tracked, 0, 'a settled file is forgotten');
});

test('a flush that fails (the file is gone) is only best effort', async () => {
  const flush = new BackgroundFlush();
  const path = join(tmpdir(), `wharf-flush-missing-${process.pid}`);
  flush.written(path, 64 * MIB);
  assert.equal(flush.isFlushing(path), true);
  await flush.settle(path);
  assert.equal(flush.tracked, 0);
});
