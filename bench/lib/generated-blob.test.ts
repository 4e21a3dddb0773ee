import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { generateBlob, MIB } from './generated-blob.ts';

function digestOf(pieces: Iterable<Buffer>): { digest: string; length: number } {
  const hash = createHash('sha256');
  let length = 0;
  for (const piece of pieces) {
    hash.update(piece);
    length += piece.length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, length };
}

test('every piece size yields the same bytes, matching the announced digest and size', () => {
  const blob = generateBlob(3);
  assert.equal(blob.size, 3 * MIB);
  for (const pieceBytes of [64 * 1024, MIB, 2 * MIB, 8 * MIB]) {
    assert.deepEqual(digestOf(blob.pieces(pieceBytes)), { digest: blob.digest, length: blob.size }, `pieces of ${pieceBytes}`);
  }
});

test('two blobs never share content, and neither do the MiBs inside one', () => {
  const first = generateBlob(2);
  const second = generateBlob(2);
  assert.notEqual(first.digest, second.digest);
  const [a, b] = [...first.pieces()];
  assert.ok(!a!.equals(b!));
});

test('pieces are views of one blob, and an uneven last piece is shorter', () => {
  const blob = generateBlob(1);
  const pieces = [...blob.pieces(3000)];
  assert.equal(pieces.length, Math.ceil(MIB / 3000));
  assert.equal(pieces.at(-1)!.length, MIB % 3000);
  assert.equal(pieces[0]!.buffer, pieces[1]!.buffer, 'no piece is a copy');
  assert.throws(() => [...blob.pieces(0)], /invalid piece size/);
});
