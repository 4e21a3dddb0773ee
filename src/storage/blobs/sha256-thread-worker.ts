// The thread of sha256-thread.ts: resumable SHA-256 sessions fed in the order messages arrive.
import { parentPort } from 'node:worker_threads';
import { ResumableSha256, type Sha256State } from './resumable-sha256.ts';

export type Sha256ThreadRequest =
  | { kind: 'start'; session: number; state: Sha256State }
  | { kind: 'update'; session: number; bytes: Uint8Array }
  | { kind: 'save'; session: number; ticket: number }
  | { kind: 'end'; session: number };

export type Sha256ThreadReply = { ticket: number; state?: Sha256State; error?: string };

const hashes = new Map<number, ResumableSha256>();

parentPort!.on('message', (request: Sha256ThreadRequest) => {
  try {
    switch (request.kind) {
      case 'start':
        hashes.set(request.session, ResumableSha256.restore(request.state));
        break;
      case 'update':
        hashes.get(request.session)?.update(request.bytes);
        break;
      case 'save': {
        const hash = hashes.get(request.session);
        parentPort!.postMessage(hash ? { ticket: request.ticket, state: hash.save() } : { ticket: request.ticket, error: `no hash session ${request.session}` });
        break;
      }
      case 'end':
        hashes.delete(request.session);
        break;
    }
  } catch (error) {
    if (request.kind === 'save') parentPort!.postMessage({ ticket: request.ticket, error: String(error) });
  }
});
