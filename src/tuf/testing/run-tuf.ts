import { mock } from 'node:test';
import { tufCommand } from '../../cli/tuf.ts';

/** Runs `wharf tuf …` with console output captured. */
export async function tuf(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = mock.method(console, 'log', (...args: unknown[]) => { out.push(args.join(' ')); });
  const error = mock.method(console, 'error', (...args: unknown[]) => { err.push(args.join(' ')); });
  try {
    return { code: await tufCommand(argv), out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mock.restore();
    error.mock.restore();
  }
}
