// An evaluation thread that allocates until its heap limit kills it.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', () => {
  const kept = [];
  for (;;) kept.push(new Array(100_000).fill(kept.length));
});

parentPort.postMessage({ ready: true });
