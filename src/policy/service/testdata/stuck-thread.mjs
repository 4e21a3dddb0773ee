// An evaluation thread that never answers and never yields: as if a built-in were stuck in work
// it does not count. The pool must stop it at the deadline plus the grace period.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', () => {
  for (;;) {
    // spin
  }
});
