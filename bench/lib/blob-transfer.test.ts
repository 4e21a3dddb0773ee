import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCurlTransfer } from './blob-transfer.ts';

test('a curl report gives the rate in MB/s', () => {
  const result = parseCurlTransfer('200 268435456 0.100000\n', 268_435_456);
  assert.equal(result.seconds, 0.1);
  assert.ok(Math.abs(result.megabytesPerSecond - 2684.35456) < 1e-6, String(result.megabytesPerSecond));
});

test('a failed, short or untimed download is refused', () => {
  assert.throws(() => parseCurlTransfer('404 120 0.001', 120), /HTTP 404/);
  assert.throws(() => parseCurlTransfer('200 100 0.5', 200), /100 of 200 bytes/);
  assert.throws(() => parseCurlTransfer('200 200 0.000000', 200), /no transfer time/);
  assert.throws(() => parseCurlTransfer('000 0 0', 200), /HTTP 0/);
});
