// `npm run bench`: Wharf against CNCF Distribution 2.8 (Debian's docker-registry) on this
// machine, one registry at a time, with the same workload, over several rounds alternating which
// goes first (so warm caches and background load do not always favour the same one). Prints each
// round, then a Markdown table of medians with the ratio Wharf/Distribution and PASS/MISS per target.
//
// Options: --rounds N (3), --wrk-seconds S (10), --blob-mib M (256), --burst-images N (200),
// --candidate wharf|distribution (wharf; `distribution` measures the reference against itself,
// a sanity check of the harness: every ratio should then be close to 1), --direct-io (runs Wharf
// with storage.directIO on).
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startWharf } from '../test/e2e/harness.ts';
import { referenceRegistryInstalled, startReferenceRegistry } from '../test/e2e/reference-registry.ts';
import type { RunningRegistry } from '../test/e2e/child-lifecycle.ts';
import { renderRounds, renderTable } from './lib/report.ts';
import { runWorkload } from './lib/workload.ts';
import type { WorkloadResult, WorkloadSettings } from './lib/workload.ts';

interface Contender {
  name: string;
  start(): Promise<RunningRegistry>;
  rounds: WorkloadResult[];
}

function readOptions(): { rounds: number; candidate: 'wharf' | 'distribution'; directIO: boolean; settings: WorkloadSettings } {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      'wrk-seconds': { type: 'string', default: '10' },
      'blob-mib': { type: 'string', default: '256' },
      'burst-images': { type: 'string', default: '200' },
      candidate: { type: 'string', default: 'wharf' },
      'direct-io': { type: 'boolean', default: false },
    },
  });
  const positive = (name: string, text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, not "${text}"`);
    return value;
  };
  if (values.candidate !== 'wharf' && values.candidate !== 'distribution') {
    throw new Error(`--candidate must be wharf or distribution, not "${values.candidate}"`);
  }
  const blobMiB = positive('blob-mib', values['blob-mib']);
  return {
    rounds: positive('rounds', values.rounds),
    candidate: values.candidate,
    directIO: values['direct-io'],
    settings: {
      wrkSeconds: positive('wrk-seconds', values['wrk-seconds']),
      wrkConnections: 64,
      blobMiB,
      chunkMiB: Math.min(8, blobMiB),
      burstImages: positive('burst-images', values['burst-images']),
      burstClients: 16,
    },
  };
}

/**
 * A fresh instance and data dir per round, so no round reads what an earlier one wrote. The page
 * cache is flushed first: a registry that does not fsync leaves its writes to be flushed later,
 * and that work must not be billed to whichever registry happens to run next.
 */
async function measure(contender: Contender, settings: WorkloadSettings): Promise<void> {
  execFileSync('sync');
  const registry = await contender.start();
  try {
    contender.rounds.push(await runWorkload(registry, settings));
  } catch (error) {
    process.stderr.write(`--- ${contender.name} stderr ---\n${registry.stderrTail()}\n`);
    throw error;
  } finally {
    await registry.stop();
  }
}

async function main(): Promise<number> {
  const { rounds, candidate, directIO, settings } = readOptions();
  if (!referenceRegistryInstalled()) {
    process.stderr.write('docker-registry is not installed: run `sudo bash scripts/install-test-deps.sh`\n');
    return 2;
  }
  const wharf: Contender =
    candidate === 'wharf'
      ? // Distribution runs without its access log (see reference-registry.ts); at "info" Wharf
        // writes one line per request, so "warn" keeps the two doing the same work per request.
        { name: directIO ? 'Wharf (direct I/O)' : 'Wharf', start: () => startWharf({ env: { WHARF_LOG_LEVEL: 'warn', WHARF_STORAGE_DIRECT_IO: String(directIO) } }), rounds: [] }
      : { name: 'Distribution (as candidate)', start: () => startReferenceRegistry(), rounds: [] };
  const reference: Contender = { name: 'Distribution', start: () => startReferenceRegistry(), rounds: [] };

  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? [wharf, reference] : [reference, wharf];
    for (const contender of order) {
      process.stderr.write(`round ${round}/${rounds}: ${contender.name}\n`);
      await measure(contender, settings);
    }
  }

  process.stdout.write(`${renderRounds(wharf.name, wharf.rounds)}\n${renderRounds(reference.name, reference.rounds)}\n\n`);
  process.stdout.write(
    `Medians of ${rounds} rounds; ${settings.blobMiB} MiB blobs; wrk ${settings.wrkConnections} connections for ` +
      `${settings.wrkSeconds} s; ${settings.burstImages} image pushes from ${settings.burstClients} clients.\n` +
      'Ratio column: median of the per-round ratios (each round runs both registries back to back).\n\n',
  );
  const { table, misses } = renderTable(wharf.name, wharf.rounds, reference.rounds);
  process.stdout.write(`${table}\n\n${misses === 0 ? 'all targets met' : `${misses} target(s) missed`}\n`);
  return 0;
}

process.exitCode = await main();
