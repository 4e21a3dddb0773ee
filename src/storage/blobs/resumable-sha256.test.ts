import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { ResumableSha256 } from './resumable-sha256.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('ResumableSha256', () => {
  it('matches node:crypto for lengths around the block and padding boundaries', () => {
    for (const size of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 1000, 65_537]) {
      const bytes = randomBytes(size);
      assert.equal(new ResumableSha256().update(bytes).digest(), sha256(bytes), `size ${size}`);
    }
  });

  it('gives the same digest when saved, serialised and restored at any split, in any pieces', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(), fc.array(fc.integer({ min: 1, max: 70 }), { minLength: 1 }), (bytes, splitSeed, pieces) => {
      const split = splitSeed % (bytes.length + 1);
      const first = new ResumableSha256();
      let offset = 0;
      for (let index = 0; offset < split; index++) {
        const end = Math.min(split, offset + pieces[index % pieces.length]!);
        first.update(bytes.subarray(offset, end));
        offset = end;
      }
      const resumed = ResumableSha256.restore(JSON.parse(JSON.stringify(first.save())));
      resumed.update(bytes.subarray(split));
      assert.equal(resumed.digest(), sha256(bytes));
      assert.equal(resumed.length, bytes.length);
    }), { numRuns: 300 });
  });

  it('refuses a state that is not one', () => {
    assert.throws(() => ResumableSha256.restore({ words: [1, 2], length: 0, pending: '' }), /not a saved SHA-256 state/);
    assert.throws(() => ResumableSha256.restore({ words: [0, 0, 0, 0, 0, 0, 0, 0], length: 3, pending: '' }), /not a saved SHA-256 state/);
  });
});
