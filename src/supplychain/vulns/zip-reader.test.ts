import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { readZipEntries, type ZipEntryRead } from './zip-reader.ts';

interface FileSpec { readonly name: string; readonly data: Buffer; readonly method?: number; readonly declaredSize?: number }

/** A ZIP writer independent of the reader under test; `declaredSize` lets an entry lie about its size. */
function zipOf(files: readonly FileSpec[]): Buffer {
  const locals: Buffer[] = [], centrals: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    const method = file.method ?? 8;
    const stored = method === 8 ? deflateRawSync(file.data) : file.data;
    const size = file.declaredSize ?? file.data.length;
    const nameBytes = Buffer.from(file.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(method, 8);
    local.writeUInt32LE(stored.length, 18); local.writeUInt32LE(size, 22); local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6); central.writeUInt16LE(method, 10);
    central.writeUInt32LE(stored.length, 20); central.writeUInt32LE(size, 24); central.writeUInt16LE(nameBytes.length, 28); central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, stored);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + stored.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(files.length, 8); end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

async function readAll(zip: Buffer, maxEntryBytes?: number): Promise<ZipEntryRead[]> {
  const out: ZipEntryRead[] = [];
  for await (const entry of readZipEntries(zip, (name) => name.endsWith('.json'), maxEntryBytes)) out.push(entry);
  return out;
}

describe('ZIP reader (yauzl) with Wharf bounds', () => {
  it('reads deflated and stored entries in order, skipping folders and unwanted names', async () => {
    const entries = await readAll(zipOf([
      { name: 'a/', data: Buffer.alloc(0), method: 0 },
      { name: 'a/X-1.json', data: Buffer.from('{"id":"X-1"}') },
      { name: 'README.md', data: Buffer.from('hello') },
      { name: 'X-2.json', data: Buffer.from('{"id":"X-2"}'), method: 0 },
    ]));
    assert.deepEqual(entries.map((entry) => ['data' in entry ? entry.data.toString() : entry.problem, entry.name]), [['{"id":"X-1"}', 'a/X-1.json'], ['{"id":"X-2"}', 'X-2.json']]);
  });
  it('a zip bomb that declares a small size is cut off, and the next entry is still read', async () => {
    const entries = await readAll(zipOf([
      { name: 'bomb.json', data: Buffer.alloc(8 * 1024 * 1024), declaredSize: 100 },
      { name: 'ok.json', data: Buffer.from('{}') },
    ]), 1024 * 1024);
    assert.equal(entries.length, 2);
    assert.ok('problem' in entries[0]!, 'the bomb gives a problem, not data');
    assert.match((entries[0] as { problem: string }).problem, /bomb\.json.*(too many bytes|size|limit)/i);
    assert.deepEqual('data' in entries[1]! && entries[1].data.toString(), '{}');
  });
  it('an entry declared over the limit is refused without inflating; one that inflates past it is cut off', async () => {
    const declared = await readAll(zipOf([{ name: 'big.json', data: Buffer.alloc(4096) }]), 1024);
    assert.match((declared[0] as { problem: string }).problem, /big\.json is 4096 bytes, over the limit of 1024/);
    const lying = await readAll(zipOf([{ name: 'big.json', data: Buffer.alloc(1024 * 1024), declaredSize: 1000 }]), 1024);
    assert.ok('problem' in lying[0]!);
  });
  it('unsupported compression is a problem for that entry; garbage or a truncated archive rejects with a reason', async () => {
    const bzip = await readAll(zipOf([{ name: 'x.json', data: Buffer.from('abc'), method: 12 }]));
    assert.match((bzip[0] as { problem: string }).problem, /x\.json: .*compression method/);
    await assert.rejects(readAll(Buffer.from('not a zip at all, just text')), /not a readable ZIP archive/);
    const whole = zipOf([{ name: 'a.json', data: Buffer.from('{}') }, { name: 'b.json', data: Buffer.from('{}') }]);
    await assert.rejects(readAll(Buffer.concat([whole.subarray(0, 40), whole.subarray(whole.length - 22)])), /ZIP/);
    await assert.rejects(readAll(Buffer.alloc(0)), /not a readable ZIP archive/);
  });
});
