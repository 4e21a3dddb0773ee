/** Runs a `wharf` command function in-process with its console output captured (stdout returned, stderr dropped). */
import { mock } from 'node:test';

export async function runCommand(command: (argv: string[]) => Promise<number>, argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = mock.method(console, 'log', (...args: unknown[]) => { lines.push(args.join(' ')); });
  const error = mock.method(console, 'error', () => undefined);
  try {
    return { code: await command(argv), out: lines.join('\n') };
  } finally {
    log.mock.restore();
    error.mock.restore();
  }
}
