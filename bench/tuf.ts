// `npm run bench:tuf`: TUF at 100 and 100,000 targets, with hashed bins.
// For each size: one namespace whose top-level targets delegate team-a/* to a `ci` role split into
// hash bins (16 bins at 100 targets, 1024 at 100,000: about 100 targets per bin), published in one
// batch through the registry's own TufService; then, against a running Wharf serving it:
//   - metadata sizes (root, targets, ci, the largest bin, snapshot, timestamp);
//   - verify time: tuf-js's full client workflow for one target, cold (empty metadata folder) and
//     warm (trusted metadata cached, only timestamp.json fetched), median of --runs;
//   - the cost of a timestamp refresh (sign + store) and of the TUF facts policies read (the
//     pull-gate / admission overhead), median of many.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Metadata, Targets } from '@tufjs/models';
import { Delegations } from '@tufjs/models/dist/delegations.js';
import { DelegatedRole, SuccinctRoles } from '@tufjs/models/dist/role.js';
import { SqliteTufStore } from '../src/tuf/tuf-store.ts';
import { KeySealer } from '../src/tuf/sealed-keys.ts';
import { SPEC_VERSION, TufService } from '../src/tuf/tuf-service.ts';
import { expiresIn, initRepository, targetFile, type PublishBatch } from '../src/tuf/client/publisher.ts';
import { generateTufKey, signerOf, tufKey, type TufKeyFile } from '../src/tuf/keys.ts';
import { openUpdater } from '../src/tuf/client/tuf-client.ts';
import { startTufRegistry } from '../src/tuf/testing/tuf-registry.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, sizes: { type: 'string', default: '100,100000' } } });
const runs = Number(values.runs);
const ANY = { teamMetadata: async () => undefined, repositories: async () => undefined };

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function sign(metadata: Metadata<Targets>, key: TufKeyFile): Record<string, unknown> {
  metadata.sign(signerOf(key));
  return metadata.toJSON();
}

async function build(dataDir: string, count: number): Promise<{ service: TufService; store: SqliteTufStore; buildMs: number; root: Record<string, unknown> }> {
  const store = new SqliteTufStore(join(dataDir, 'tuf.db'));
  const service = new TufService(store, KeySealer.fromFile(join(dataDir, 'tuf-secret')), { timestampExpirySeconds: 86_400, snapshotExpirySeconds: 7 * 86_400 });
  const team = { root: generateTufKey(), targets: generateTufKey(), ci: generateTufKey() };
  const started = performance.now();
  const init = await initRepository({ call: async () => service.onlineKeys('team-a') }, 'team-a', {
    rootKeys: [team.root], rootThreshold: 1, targetsKeys: [team.targets], targetsThreshold: 1, rootExpiresDays: 365, targetsExpiresDays: 365,
  });
  await service.publish('team-a', init, ANY);
  const bitLength = count >= 10_000 ? 10 : 4;
  const succinct = new SuccinctRoles({ keyIDs: [team.ci.keyid], threshold: 1, bitLength, namePrefix: 'ci-bin' });
  const top = new Metadata(new Targets({
    specVersion: SPEC_VERSION, version: 2, expires: expiresIn(365),
    delegations: new Delegations({ keys: { [team.ci.keyid]: tufKey(team.ci) }, roles: { ci: new DelegatedRole({ name: 'ci', keyIDs: [team.ci.keyid], threshold: 1, terminating: false, paths: ['team-a/*'] }) } }),
  }));
  const batch: PublishBatch = { targets: { targets: sign(top, team.targets) } };
  const ci = new Metadata(new Targets({ specVersion: SPEC_VERSION, version: 1, expires: expiresIn(365), delegations: new Delegations({ keys: { [team.ci.keyid]: tufKey(team.ci) }, succinctRoles: succinct }) }));
  batch.targets!.ci = sign(ci, team.ci);
  const bins = new Map<string, Record<string, ReturnType<typeof targetFile>>>();
  for (const bin of succinct.getRoles()) bins.set(bin, {});
  for (let i = 0; i < count; i++) {
    const path = `team-a/app${i % 100}:v${i}`;
    const digest = `sha256:${createHash('sha256').update(randomBytes(16)).digest('hex')}`;
    bins.get(succinct.getRoleForTarget(path))![path] = targetFile({ path, digest, length: 500 + (i % 1000), mediaType: 'application/vnd.oci.image.manifest.v1+json', attestations: [] });
  }
  for (const [bin, targets] of bins) batch.targets![bin] = sign(new Metadata(new Targets({ specVersion: SPEC_VERSION, version: 1, expires: expiresIn(365), targets })), team.ci);
  await service.publish('team-a', batch, ANY);
  return { service, store, buildMs: performance.now() - started, root: init.root! };
}

async function measure(count: number): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'wharf-bench-tuf-'));
  const work = await mkdtemp(join(tmpdir(), 'wharf-bench-tuf-client-'));
  try {
    const { service, store, buildMs, root } = await build(dataDir, count);
    const size = (role: string) => store.latest('team-a', role)!.body.byteLength;
    const binSizes = [...store.latestVersions('team-a').keys()].filter((role) => role.startsWith('ci-bin-')).map(size);
    console.log(`\n${count.toLocaleString('en')} targets in ${binSizes.length} hash bins (built and published in ${(buildMs / 1000).toFixed(1)} s)`);
    console.log(`  metadata: root ${kib(size('root'))}, targets ${kib(size('targets'))}, ci ${kib(size('ci'))}, largest bin ${kib(Math.max(...binSizes))} (mean ${kib(binSizes.reduce((a, b) => a + b, 0) / binSizes.length)}), snapshot ${kib(size('snapshot'))}, timestamp ${kib(size('timestamp'))}`);

    const refreshSamples: number[] = [];
    for (let i = 0; i < 200; i++) {
      const started = performance.now();
      service.refreshTimestamp('team-a');
      refreshSamples.push(performance.now() - started);
    }
    let found: [string, { hashes: { sha256: string } }] | undefined;
    for (const role of store.latestVersions('team-a').keys()) {
      if (!role.startsWith('ci-bin-') || found) continue;
      found = Object.entries(JSON.parse(store.latest('team-a', role)!.body.toString('utf8')).signed.targets as Record<string, { hashes: { sha256: string } }>)[0];
    }
    const [path, target] = found!;
    const repository = path.slice(0, path.lastIndexOf(':'));
    const factSamples: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const started = performance.now();
      service.factsFor(repository, `sha256:${target.hashes.sha256}`);
      factSamples.push(performance.now() - started);
    }
    store.close();
    console.log(`  timestamp refresh (sign + store): median ${median(refreshSamples).toFixed(2)} ms; TUF facts for a policy (pull gate / admission): median ${median(factSamples).toFixed(3)} ms`);

    const registry = await startTufRegistry({ WHARF_LOG_LEVEL: 'warn' }, dataDir);
    try {
      const rootFile = join(work, 'root.json');
      await writeFile(rootFile, JSON.stringify(root));
      const endpoint = { server: registry.url, namespace: 'team-a' };
      const cold: number[] = [];
      const warm: number[] = [];
      for (let run = 0; run < runs; run++) {
        const dir = join(work, `client-${run}`);
        let started = performance.now();
        const found = await openUpdater(endpoint, dir, rootFile).getTargetInfo(path);
        cold.push(performance.now() - started);
        if (!found) throw new Error(`no target ${path}`);
        started = performance.now();
        await openUpdater(endpoint, dir).getTargetInfo(path);
        warm.push(performance.now() - started);
      }
      console.log(`  verify (tuf-js workflow for one target): cold ${median(cold).toFixed(1)} ms, warm ${median(warm).toFixed(1)} ms (median of ${runs})`);
    } finally {
      await registry.dispose();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  }
}

for (const count of values.sizes!.split(',').map(Number)) await measure(count);
