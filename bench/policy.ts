// `npm run bench:policy`: the cost of policy enforcement on a running Wharf.
// 1. Pull gate: manifest GET by tag with wrk (64 connections), without any pull policy and with
//    one whose decision is cached, alternating over rounds; overhead target < 5%.
// 2. Admission: latency of POST /admission/validate for a 10-container Pod whose images are in
//    Wharf (tags resolved, supply-chain facts read, the Gatekeeper-style library policy and
//    no-latest evaluated per container); p99 target < 10 ms.
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { startWharf } from '../test/e2e/harness.ts';
import { httpRequest } from './lib/http-client.ts';
import { median } from './lib/report.ts';
import { runWrk } from './lib/wrk.ts';
import { pushBurst } from './lib/push-burst.ts';

const HOST = 'registry.bench.test';
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, 'wrk-seconds': { type: 'string', default: '8' }, reviews: { type: 'string', default: '2000' } } });
const rounds = Number(values.rounds);
const wrkSeconds = Number(values['wrk-seconds']);

async function putPolicy(url: string, name: string, body: Record<string, unknown>): Promise<void> {
  const result = await httpRequest(`${url}/api/v1/policies/${name}`, { method: 'PUT', body: Buffer.from(JSON.stringify(body)), headers: { 'content-type': 'application/json' }, keepBody: true });
  if (result.status !== 201) throw new Error(`policy ${name}: ${result.status} ${result.body.toString()}`);
}

async function library(name: string): Promise<{ file: string; source: string }[]> {
  return [{ file: `${name}.rego`, source: await readFile(new URL(`../policies/${name}/policy.rego`, import.meta.url), 'utf8') }];
}

async function pullGateRound(withPolicy: boolean): Promise<number> {
  const wharf = await startWharf({ env: { WHARF_LOG_LEVEL: 'warn' } });
  try {
    await pushBurst(wharf.url, 'bench/app', 1, 1);
    if (withPolicy) {
      await putPolicy(wharf.url, 'no-latest', { package: 'wharf.policies.no_latest', modules: await library('no-latest'), binding: { points: ['pull'] } });
    }
    const tags = await httpRequest(`${wharf.url}/v2/bench/app/tags/list`, { method: 'GET', keepBody: true });
    const tag = (JSON.parse(tags.body.toString()) as { tags: string[] }).tags[0]!;
    const target = `${wharf.url}/v2/bench/app/manifests/${tag}`;
    await runWrk(target, { connections: 64, threads: 2, seconds: 2, headers: { Accept: ACCEPT } });
    return (await runWrk(target, { connections: 64, threads: 2, seconds: wrkSeconds, headers: { Accept: ACCEPT } })).requestsPerSecond;
  } finally {
    await wharf.stop();
  }
}

function pod(tag: string): Buffer {
  const containers = Array.from({ length: 10 }, (_, i) => ({
    name: `c${i}`, image: `${HOST}/bench/app:${tag}`, resources: { limits: { cpu: '100m', memory: '64Mi' } },
  }));
  return Buffer.from(JSON.stringify({
    apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
    request: { uid: 'bench', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', namespace: 'prod', name: 'p', userInfo: { username: 'bench' }, object: { spec: { containers } }, dryRun: false },
  }));
}

async function admissionLatencies(count: number): Promise<number[]> {
  const wharf = await startWharf({ env: { WHARF_LOG_LEVEL: 'warn', WHARF_ADMISSION_REGISTRY_HOSTS: HOST } });
  try {
    await pushBurst(wharf.url, 'bench/app', 1, 1);
    const tags = await httpRequest(`${wharf.url}/v2/bench/app/tags/list`, { method: 'GET', keepBody: true });
    const tag = (JSON.parse(tags.body.toString()) as { tags: string[] }).tags[0]!;
    await putPolicy(wharf.url, 'gatekeeper', {
      package: 'wharf.policies.gatekeeper_admission', modules: await library('gatekeeper-admission'), binding: { points: ['admission'] },
      data: { wharf: { params: { gatekeeper_admission: { allowedRepos: [`${HOST}/bench/`] } } } },
    });
    await putPolicy(wharf.url, 'no-latest', { package: 'wharf.policies.no_latest', modules: await library('no-latest'), binding: { points: ['admission'] } });
    const body = pod(tag);
    const times: number[] = [];
    for (let i = 0; i < count + 200; i++) {
      const started = performance.now();
      const result = await httpRequest(`${wharf.url}/admission/validate`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, keepBody: true });
      const elapsed = performance.now() - started;
      if (result.status !== 200 || !JSON.parse(result.body.toString()).response.allowed) throw new Error(`review refused: ${result.body.toString().slice(0, 300)}`);
      if (i >= 200) times.push(elapsed); // the first 200 warm the JIT and the caches
    }
    return times.sort((a, b) => a - b);
  } finally {
    await wharf.stop();
  }
}

const without: number[] = [];
const withPolicy: number[] = [];
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? [false, true] : [true, false];
  for (const gated of order) {
    const rps = await pullGateRound(gated);
    (gated ? withPolicy : without).push(rps);
    console.log(`round ${round + 1}/${rounds}: manifest GET ${gated ? 'with a cached pull policy' : 'without pull policies'}: ${rps.toFixed(0)} req/s`);
  }
}
const overhead = (1 - median(withPolicy) / median(without)) * 100;
const latencies = await admissionLatencies(Number(values.reviews));
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;

console.log(`\nload average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (2 cores shared by wrk and the server)\n`);
console.log('| measure | value | target | result |');
console.log('|---|---:|---|---|');
console.log(`| manifest GET without pull policies (req/s, median) | ${median(without).toFixed(0)} | | |`);
console.log(`| manifest GET with a cached pull decision (req/s, median) | ${median(withPolicy).toFixed(0)} | | |`);
console.log(`| pull-gate overhead | ${overhead.toFixed(1)}% | < 5% | ${overhead < 5 ? 'PASS' : 'MISS'} |`);
console.log(`| admission review, 10-container Pod, p50 (ms) | ${at(0.5).toFixed(2)} | | |`);
console.log(`| admission review, 10-container Pod, p99 (ms) | ${at(0.99).toFixed(2)} | < 10 ms | ${at(0.99) < 10 ? 'PASS' : 'MISS'} |`);
process.exit(0);
