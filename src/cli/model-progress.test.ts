/**
 * Progress of `wharf model push|pull`: plain lines when the output is not a terminal, redrawn
 * lines (bytes, rate, ETA per file and overall) when it is, nothing with --json.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, progressFor } from './model.ts';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, write: (text: string) => { writes.push(text); return true; } } as unknown as NodeJS.WriteStream };
}

describe('model progress', () => {
  it('plain lines: one per finished file with bytes, rate and ETA, then the overall line', () => {
    let clock = 0;
    const { writes, stream } = fakeStream(false);
    const progress = progressFor(stream, false, () => clock);
    progress.start('a.safetensors', 4 * 1024 * 1024);
    clock = 1000;
    progress.advance('a.safetensors', 2 * 1024 * 1024);
    clock = 2000;
    progress.finish('a.safetensors', 'uploaded');
    progress.finish('b.gguf', 'already in the registry');
    progress.close();
    assert.equal(writes.length, 3, writes.join(''));
    assert.equal(writes[0], 'a.safetensors: 100% 4.0 MiB/4.0 MiB 2.0 MiB/s ETA 0:00 uploaded\n');
    assert.equal(writes[1], 'b.gguf: already in the registry\n');
    assert.match(writes[2]!, /^overall: 100% 4\.0 MiB\/4\.0 MiB .*\/s ETA 0:00\n$/);
  });

  it('plain lines: a long transfer reports the overall figure every few seconds', () => {
    let clock = 0;
    const { writes, stream } = fakeStream(false);
    const progress = progressFor(stream, false, () => clock);
    progress.start('big.bin', 100 * 1024 * 1024);
    for (let second = 1; second <= 12; second++) { clock = second * 1000; progress.advance('big.bin', 1024 * 1024); }
    assert.ok(writes.length >= 2 && writes.length <= 3, writes.join(''));
    assert.match(writes.at(-1)!, /^overall: 1[01]% .* ETA 1:[0-9]{2}\n$/);
    progress.close();
  });

  it('terminal: lines are redrawn in place; --json prints nothing', () => {
    const { writes, stream } = fakeStream(true);
    const progress = progressFor(stream, false, () => 0);
    progress.start('a', 10);
    progress.finish('a', 'done');
    progress.close();
    assert.ok(writes.some((text) => text.includes('\x1b[2K')), 'clears and redraws lines');
    const quiet = fakeStream(true);
    const silent = progressFor(quiet.stream, true);
    silent.start('a', 10); silent.finish('a', 'done'); silent.close();
    assert.deepEqual(quiet.writes, []);
  });

  it('sizes', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(5 * 1024 ** 3), '5.0 GiB');
  });
});
