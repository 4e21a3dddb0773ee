import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteDatabase } from './sqlite-database.ts';
import { StorageFullError } from './storage-errors.ts';

describe('SqliteDatabase transactions', () => {
  it('report a full database as StorageFullError naming the file, never masked by a failed ROLLBACK, and stay usable', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'wharf-sqlite-'));
    const db = new SqliteDatabase(join(dir, 'full.db'));
    t.after(async () => {
      db.close();
      await rm(dir, { recursive: true, force: true });
    });
    db.migrate(['CREATE TABLE things (content BLOB)']);
    // A page limit makes SQLite answer SQLITE_FULL as a full disk would, and roll back by itself.
    const pages = Number((db.sql('PRAGMA page_count').get() as { page_count: number }).page_count);
    db.sql(`PRAGMA max_page_count = ${pages + 4}`).get();
    const insert = () => db.transaction(() => db.sql('INSERT INTO things VALUES (?)').run(Buffer.alloc(256 * 1024, 1)));
    assert.throws(insert, (error: Error) => error instanceof StorageFullError
      && error.path === join(dir, 'full.db') && /database or disk is full/.test(error.message) && !/rollback/.test(error.message));
    db.sql(`PRAGMA max_page_count = ${pages + 1000}`).get();
    insert();
    assert.equal((db.sql('SELECT count(*) AS n FROM things').get() as { n: number }).n, 1);
  });
});

describe('SqliteDatabase opening', () => {
  it('names the file it cannot open', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'wharf-sqlite-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'missing-folder', 'metadata.db');
    assert.throws(() => new SqliteDatabase(path), (error: Error) => error.message.startsWith(`cannot open database ${path}: `));
  });
});
