// An evaluation thread that answers its first request, then never answers and never yields: as
// if a built-in were stuck in work it does not count. The pool must stop it at the deadline plus
// the grace period.
import { parentPort } from 'node:worker_threads';

let answered = false;
parentPort.on('message', (request) => {
  if (!answered) {
    answered = true;
    parentPort.postMessage({ id: request.id, outcome: { violations: [], quarantine: [] } });
    return;
  }
  for (;;) {
    // spin
  }
});

parentPort.postMessage({ ready: true });
