import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { countedChunks } from './body-chunks.ts';

async function* socketLikeChunks(count: number, bytes: number): AsyncGenerator<Uint8Array> {
  for (let index = 0; index < count; index++) yield Buffer.alloc(bytes, index % 251);
}

test('chunks pass through unchanged and in order', async () => {
  const seen: number[] = [];
  for await (const chunk of countedChunks(socketLikeChunks(5, 3))) seen.push(chunk[0]!, chunk.byteLength);
  assert.deepEqual(seen, [0, 3, 1, 3, 2, 3, 3, 3, 4, 3]);
});

test('a long body brings young-generation collections, and no global gc appears', async () => {
  const globalGcBefore = typeof (globalThis as { gc?: unknown }).gc; // 'function' only under --expose-gc
  const minor: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = (entry as { detail?: { kind?: number } }).detail;
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor.push(entry.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  try {
    // 32 MiB in 64 KiB chunks, as Node's HTTP parser delivers a body: about eight collections.
    for await (const _ of countedChunks(socketLikeChunks(512, 64 * 1024))) { /* drained */ }
    await new Promise((resolve) => setTimeout(resolve, 50)); // gc entries are delivered asynchronously
  } finally {
    observer.disconnect();
  }
  assert.ok(minor.length >= 6, `expected young-generation collections, saw ${minor.length}`);
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, globalGcBefore);
});
