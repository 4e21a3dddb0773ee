/**
 * Frees the memory of large request bodies as they stream in.
 *
 * Node's HTTP parser hands each socket read to JavaScript as a fresh Buffer of up to 64 KiB whose
 * bytes live outside the V8 heap. The few heap objects behind each one hardly fill the young
 * generation, so V8 does not scavenge while a body streams; the dead chunks pile up as external
 * memory until V8's external-memory limit forces a full mark-compact of the whole heap. Measured on
 * a 256 MiB upload: eight mark-compacts, 0.1–0.2 s of CPU on V8's GC threads, on a machine with two
 * cores that also has to receive and hash. A young-generation collection every few MiB of body finds
 * nearly everything dead, takes well under a millisecond, and frees the chunks before that limit is
 * reached, so no mark-compact runs at all.
 *
 * The byte count is process-wide, so many concurrent uploads do not multiply the collections.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Body bytes received between two young-generation collections. */
const COLLECT_EVERY_BYTES = 4 * 1024 * 1024;

type Collect = (options: { type: 'minor'; execution: 'sync' }) => void;

let received = 0;
let collectYoung: Collect | undefined | null = null;

/**
 * V8's `gc` function, taken from a context of its own so that no global `gc` appears in this one;
 * the flag is switched off again straight away. Undefined where the runtime refuses it.
 */
function youngCollector(): Collect | undefined {
  if (collectYoung !== null) return collectYoung;
  const exposed: unknown = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return (collectYoung = exposed as Collect); // started with --expose-gc
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    collectYoung = typeof gc === 'function' ? (gc as Collect) : undefined;
  } catch {
    collectYoung = undefined;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  return collectYoung;
}

/** Counts body bytes received, and collects the young generation each time enough have arrived. */
export function noteBodyBytes(bytes: number): void {
  received += bytes;
  if (received < COLLECT_EVERY_BYTES) return;
  received = 0;
  youngCollector()?.({ type: 'minor', execution: 'sync' });
}

/** The chunks of `body`, unchanged, with each one counted by `noteBodyBytes`. */
export async function* countedChunks(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    noteBodyBytes(chunk.byteLength);
    yield chunk;
  }
}
