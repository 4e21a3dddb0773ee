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

test('piece sizes that would split the stream unevenly are refused', () => {
  assert.throws(() => [...generateBlob(1).pieces(3000)], /divide/);
  assert.throws(() => [...generateBlob(2).pieces(MIB + 1)], /multiple/);
});
