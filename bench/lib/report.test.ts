import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median, pairedRatio, renderTable } from './report.ts';
import type { WorkloadResult } from './workload.ts';

function round(overrides: Partial<WorkloadResult>): WorkloadResult {
  return {
    manifestRequestsPerSecond: 1000,
    manifestP99Milliseconds: 10,
    uploadMonolithicMBps: 100,
    uploadChunkedMBps: 100,
    downloadMBps: 500,
    burstImagesPerSecond: 50,
    peakRssMiB: 100,
    ...overrides,
  };
}

test('median of odd and even counts', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('renderTable applies ratio and absolute targets to the medians', () => {
  const reference = [round({}), round({}), round({})];
  const meetsAll = [
    round({ manifestRequestsPerSecond: 3000, uploadMonolithicMBps: 200, uploadChunkedMBps: 250, burstImagesPerSecond: 75 }),
    round({ manifestRequestsPerSecond: 9000, uploadMonolithicMBps: 300, uploadChunkedMBps: 250, burstImagesPerSecond: 80 }),
    round({ manifestRequestsPerSecond: 100, uploadMonolithicMBps: 200, uploadChunkedMBps: 200, burstImagesPerSecond: 90 }),
  ];
  assert.equal(renderTable('Wharf', meetsAll, reference).misses, 0);

  const { table, misses } = renderTable('Wharf', [round({ manifestP99Milliseconds: 11, peakRssMiB: 201 })], [round({})]);
  // Equal throughput misses every "faster than" target; p99 and memory miss by a hair.
  assert.equal(misses, 6);
  assert.match(table, /\| manifest GET p99 latency \(ms\) \| 11\.00 \| 10\.00 \| 1\.10x \| ratio <= 1 \| MISS \|/);
  assert.match(table, /\| blob download \(MB\/s\) \| 500 \| 500 \| 1\.00x \| ratio >= 1 \| PASS \|/);
  assert.match(table, /\| peak RSS, VmHWM \(MiB\) \| 201 \| 100 \| 2\.01x \| <= 200 MiB \| MISS \|/);
});

test('pairedRatio takes the median of round-by-round ratios, not the ratio of medians', () => {
  const candidate = [round({ downloadMBps: 100 }), round({ downloadMBps: 300 }), round({ downloadMBps: 200 })];
  const reference = [round({ downloadMBps: 50 }), round({ downloadMBps: 300 }), round({ downloadMBps: 400 })];
  // Rounds give 2, 1 and 0.5; the medians alone (200 / 300) would say 0.67.
  assert.equal(pairedRatio(candidate, reference, 'downloadMBps'), 1);
});
