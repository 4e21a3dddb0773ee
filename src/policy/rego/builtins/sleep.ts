/** test.sleep: OPA's test helper that pauses evaluation, within the evaluation's deadline. */
import { BuiltinError, type BuiltinDecl } from './types.ts';
import { str } from './operands.ts';
import { DurationError, parseDuration } from './time-duration.ts';

/** Longest pause honoured without a budget (a built-in called on its own), in milliseconds. */
const MAX_SLEEP_MS = 1000;
const waitCell = new Int32Array(new SharedArrayBuffer(4));

export const builtins: BuiltinDecl[] = [
  {
    name: 'test.sleep',
    args: ['string'],
    result: 'null',
    nondeterministic: true,
    fn: (args, ctx) => {
      let ns: bigint;
      try {
        ns = parseDuration(str(args, 0));
      } catch (e) {
        if (e instanceof DurationError) throw new BuiltinError(e.message);
        throw e;
      }
      const ms = Math.max(0, Number(ns / 1_000_000n));
      // The budget fails a pause that would end past the deadline: a sleep cannot outlast it.
      if (ctx.budget) ctx.budget.sleep(ms);
      else if (ms > 0) Atomics.wait(waitCell, 0, 0, Math.min(MAX_SLEEP_MS, ms)); // a synchronous pause: evaluation is synchronous
      return null;
    },
  },
];
