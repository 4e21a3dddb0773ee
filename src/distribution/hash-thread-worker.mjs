// The hashing thread (see hash-thread.ts, which also types the messages: HashRequest, HashReply).
// Plain JavaScript on purpose: a thread that loads a .ts file starts Node's TypeScript loader of
// its own, which costs about 20 MB of memory for these few lines.
//
// Requests arrive in order; each session is one hash. An update names a region of the shared
// buffer memory, a scratch one a region of the scratch slots.
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

const shared = new Uint8Array(workerData.memory);
const scratch = new Uint8Array(workerData.scratch);
/** @type {Map<number, import('node:crypto').Hash>} */
const hashes = new Map();

function session(id) {
  const hash = hashes.get(id);
  if (!hash) throw new Error(`no hash session ${id}`);
  return hash;
}

/** Handles one request; returns the hex digest for `digest`, else undefined. */
function handle(request) {
  switch (request.kind) {
    case 'start':
      hashes.set(request.session, createHash(request.algorithm));
      return undefined;
    case 'update':
      session(request.session).update(shared.subarray(request.offset, request.offset + request.length));
      return undefined;
    case 'scratch':
      session(request.session).update(scratch.subarray(request.offset, request.offset + request.length));
      return undefined;
    case 'digest': {
      const hex = session(request.session).digest('hex');
      hashes.delete(request.session);
      return hex;
    }
    case 'discard':
      hashes.delete(request.session);
      return undefined;
    default:
      throw new Error(`unknown request ${request.kind}`);
  }
}

parentPort.on('message', (request) => {
  try {
    const hex = handle(request);
    if (request.ticket !== undefined) parentPort.postMessage({ ticket: request.ticket, hex });
  } catch (error) {
    if (request.ticket !== undefined) parentPort.postMessage({ ticket: request.ticket, error: error.message });
  }
});
