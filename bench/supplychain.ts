// `npm run bench:supplychain` (node bench/supplychain.ts): the supply-chain targets of issue 4.
//  1. Ingest + match: a 5,000-component CycloneDX SBOM pushed as a referrer into a Wharf whose
//     vulnerability database holds 100,000 generated OSV records, timed from the push until the
//     findings are stored (target < 2 s). The import of the records is timed too, for reference.
//  2. GET …/trust for a cached digest under load: wrk with 16 keep-alive connections for 10 s,
//     requests/s and p99 (target p99 < 5 ms), next to the same load on /healthz.
// Options: --records N (100000), --components N (5000), --seconds N (10), --concurrency N (16).
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { parseOsvRecord, type OsvRecord } from '../src/supplychain/vulns/osv-record.ts';
import { pushReferrer, pushTestImage, startSupplyChainRegistry } from '../src/supplychain/testing/supplychain-registry.ts';
import { runWrk, type WrkResult } from './lib/wrk.ts';

const { values } = parseArgs({ options: {
  records: { type: 'string', default: '100000' }, components: { type: 'string', default: '5000' },
  seconds: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '16' },
} });
const RECORDS = Number(values.records), COMPONENTS = Number(values.components), SECONDS = Number(values.seconds), CONCURRENCY = Number(values.concurrency);

const ECOSYSTEMS = [
  { ecosystem: 'npm', purl: (name: string, version: string) => `pkg:npm/${name}@${version}` },
  { ecosystem: 'PyPI', purl: (name: string, version: string) => `pkg:pypi/${name}@${version}` },
  { ecosystem: 'Maven', purl: (name: string, version: string) => `pkg:maven/org.bench/${name}@${version}`, osvName: (name: string) => `org.bench:${name}` },
  { ecosystem: 'Go', purl: (name: string, version: string) => `pkg:golang/example.com/${name}@v${version}`, osvName: (name: string) => `example.com/${name}` },
];

/** Records spread over 4 ecosystems and 4× as many package names as the SBOM has components. */
function generateRecords(count: number, packages: number): OsvRecord[] {
  const records: OsvRecord[] = [];
  for (let i = 0; i < count; i++) {
    const flavour = ECOSYSTEMS[i % ECOSYSTEMS.length]!;
    const name = `package-${(i * 7919) % packages}`;
    const fixedMinor = i % 5;
    const parsed = parseOsvRecord({
      id: `BENCH-${i}`, modified: '2026-01-01T00:00:00Z', summary: `generated advisory ${i}`,
      severity: i % 3 === 0 ? [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }] : [],
      database_specific: { severity: ['LOW', 'MODERATE', 'HIGH', 'CRITICAL'][i % 4] },
      affected: [{ package: { ecosystem: flavour.ecosystem, name: flavour.osvName ? flavour.osvName(name) : name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: `1.${fixedMinor}.0` }] }], versions: [] }],
    });
    if (!parsed.ok) throw new Error(parsed.reason);
    records.push(parsed.record);
  }
  return records;
}

function generateSbom(count: number): Buffer {
  const components = Array.from({ length: count }, (_, i) => {
    const flavour = ECOSYSTEMS[i % ECOSYSTEMS.length]!;
    const name = `package-${i}`;
    return { type: 'library', name, version: '1.2.0', purl: flavour.purl(name, '1.2.0'), licenses: [{ license: { id: i % 2 ? 'MIT' : 'Apache-2.0' } }] };
  });
  return Buffer.from(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, metadata: { component: { name: 'bench', version: '1' } }, components }));
}

/**
 * Load comes from wrk, as in `npm run bench`: a C client whose own work per response is tiny, so
 * the latencies it reports are the server's. (A Node.js client with the same concurrency measured
 * its own event loop too: every response waited behind the others it had to process.)
 */
function load(url: string): Promise<WrkResult> {
  return runWrk(url, { connections: CONCURRENCY, threads: 1, seconds: SECONDS, headers: {} });
}

async function main(): Promise<void> {
  const registry = await startSupplyChainRegistry();
  try {
    const service = registry.supplyChain.service;
    let started = performance.now();
    const records = generateRecords(RECORDS, COMPONENTS * 4);
    const generated = performance.now() - started;
    started = performance.now();
    const imported = service.importVulnerabilities(records);
    const importMs = performance.now() - started;
    console.log(`generated ${RECORDS} OSV records in ${generated.toFixed(0)} ms; imported (stored + indexed) in ${importMs.toFixed(0)} ms (${imported.changed} stored)`);

    const image = await pushTestImage(registry.url, 'bench/app', 'v1');
    const sbom = generateSbom(COMPONENTS);
    started = performance.now();
    await pushReferrer(registry.url, 'bench/app', image, 'application/vnd.cyclonedx+json', 'application/vnd.cyclonedx+json', sbom);
    await registry.supplyChain.idle();
    const ingestMs = performance.now() - started;
    const response = await fetch(`${registry.url}/api/v1/repositories/bench/app/manifests/${image.digest}/trust`);
    const document = await response.json() as { sbom: { componentCount: number }; vulnerabilities: { total: number } };
    console.log(`ingest + match of a ${COMPONENTS}-component SBOM (${(sbom.byteLength / 1024).toFixed(0)} KiB) against ${service.vulnRecordCount} records: ${ingestMs.toFixed(0)} ms `
      + `(${document.sbom.componentCount} components, ${document.vulnerabilities.total} findings) — target < 2000 ms: ${ingestMs < 2000 ? 'PASS' : 'MISS'}`);

    const url = `${registry.url}/api/v1/repositories/bench/app/manifests/${image.digest}/trust`;
    // Baseline: the same load on /healthz shows what the HTTP stack and this machine cost alone.
    const baseline = await load(`${registry.url}/healthz`);
    console.log(`baseline GET /healthz, wrk ${CONCURRENCY} connections for ${SECONDS} s: ${baseline.requestsPerSecond.toFixed(0)} req/s, p99 ${baseline.p99Milliseconds.toFixed(2)} ms`);
    const trust = await load(url);
    console.log(`GET /trust (cached), wrk ${CONCURRENCY} connections for ${SECONDS} s: ${trust.requestsPerSecond.toFixed(0)} req/s (${trust.totalRequests} requests), `
      + `p99 ${trust.p99Milliseconds.toFixed(2)} ms — target p99 < 5 ms: ${trust.p99Milliseconds < 5 ? 'PASS' : 'MISS'}`);
  } finally {
    await registry.close();
  }
}

await main();
