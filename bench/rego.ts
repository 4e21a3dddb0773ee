/**
 * `npm run bench:rego`: evaluation cost of the Rego engine on three policy workloads,
 * compiled and prepared once, then evaluated many times with a fixed input (the input is
 * converted to engine values once, as the registry does when it evaluates a request).
 *
 *   (a) Gatekeeper-style admission (allowed registries, required labels, no :latest,
 *       resource limits) over a 10-container pod            target: median < 20 µs
 *   (b) RBAC policy shaped like OPA's performance docs (users, roles, bindings; ~100 rules)
 *                                                          target: median < 20 µs
 *   (c) push policy over a 2,000-component SBOM with 200 vulnerabilities (deny critical,
 *       licence allow-list, required provenance)           target: p99 < 5 ms
 *
 * Options: --iterations N (default 5000 for a/b, 300 for c), --json (machine-readable output).
 */
import { availableParallelism, loadavg } from 'node:os';
import { compile, fromJS, type Value } from '../src/policy/rego/index.ts';

interface Workload {
  name: string;
  policy: string;
  query: string;
  input: Value;
  data?: Value;
  iterations: number;
  target: { metric: 'median' | 'p99'; micros: number };
  /** Sanity check on the result, so the benchmark cannot silently measure a broken policy. */
  check: (value: Value) => boolean;
}

const ADMISSION = `package k8s.admission

allowed_registries := {"registry.example.com", "gcr.io/example"}
required_labels := {"app", "team", "cost-center"}
max_cpu_millis := 4000

containers contains c if some c in input.request.object.spec.containers
containers contains c if some c in input.request.object.spec.initContainers

deny contains msg if {
  some c in containers
  not registry_allowed(c.image)
  msg := sprintf("container %s uses image %s from a registry that is not allowed", [c.name, c.image])
}

registry_allowed(image) if {
  some registry in allowed_registries
  startswith(image, concat("", [registry, "/"]))
}

deny contains msg if {
  some c in containers
  endswith(c.image, ":latest")
  msg := sprintf("container %s uses the :latest tag", [c.name])
}

deny contains msg if {
  some c in containers
  not contains(c.image, ":")
  msg := sprintf("container %s has no image tag", [c.name])
}

deny contains msg if {
  some label in required_labels
  not input.request.object.metadata.labels[label]
  msg := sprintf("missing required label %s", [label])
}

deny contains msg if {
  some c in containers
  not c.resources.limits.memory
  msg := sprintf("container %s has no memory limit", [c.name])
}

deny contains msg if {
  some c in containers
  cpu := c.resources.limits.cpu
  cpu_millis(cpu) > max_cpu_millis
  msg := sprintf("container %s asks for too much cpu: %v", [c.name, cpu])
}

cpu_millis(cpu) := to_number(trim_suffix(cpu, "m")) if endswith(cpu, "m")
cpu_millis(cpu) := to_number(cpu) * 1000 if not endswith(cpu, "m")

allowed if count(deny) == 0
`;

function admissionInput(): unknown {
  const containers = Array.from({ length: 10 }, (_, i) => ({
    name: `app-${i}`,
    image: i === 7 ? `docker.io/library/nginx:latest` : `registry.example.com/team/app-${i}:1.${i}.0`,
    resources: { limits: i === 5 ? { cpu: '100m' } : { cpu: i === 3 ? '8' : `${250 + i * 50}m`, memory: '256Mi' } },
  }));
  return {
    request: {
      kind: { kind: 'Pod' },
      operation: 'CREATE',
      object: { metadata: { name: 'web', labels: { app: 'web', team: 'payments' } }, spec: { containers, initContainers: [] } },
    },
  };
}

/** RBAC in the shape OPA's docs use: user → roles, role → grants; plus ~100 resource rules. */
function rbacPolicy(): string {
  const rules: string[] = [
    'package rbac',
    'default allow := false',
    'allow if user_is_admin',
    'allow if {',
    '  some grant in user_is_granted',
    '  input.action == grant.action',
    '  input.type == grant.type',
    '}',
    'user_is_admin if "admin" in data.user_roles[input.user]',
    'user_is_granted contains grant if {',
    '  some role in data.user_roles[input.user]',
    '  some grant in data.role_grants[role]',
    '}',
  ];
  for (let i = 0; i < 96; i++) {
    rules.push(
      `allow if {`,
      `  input.type == "resource_${i}"`,
      `  input.action == "${i % 2 ? 'read' : 'write'}"`,
      `  "team_${i % 10}" in data.user_roles[input.user]`,
      `}`,
    );
  }
  return rules.join('\n') + '\n';
}

function rbacData(): unknown {
  const userRoles: Record<string, string[]> = { alice: ['admin'] };
  for (let u = 0; u < 200; u++) userRoles[`user_${u}`] = [`team_${u % 10}`, u % 3 ? 'customer' : 'employee'];
  const roleGrants: Record<string, { action: string; type: string }[]> = {
    customer: [{ action: 'read', type: 'dog' }, { action: 'read', type: 'cat' }, { action: 'adopt', type: 'dog' }],
    employee: [{ action: 'read', type: 'dog' }, { action: 'update', type: 'dog' }, { action: 'update', type: 'cat' }],
  };
  return { user_roles: userRoles, role_grants: roleGrants };
}

const PUSH = `package registry.push

allowed_licenses := {"Apache-2.0", "MIT", "BSD-3-Clause", "BSD-2-Clause", "ISC", "MPL-2.0"}

components_by_ref := {c["bom-ref"]: c | some c in input.sbom.components}

deny contains msg if {
  some v in input.vulnerabilities
  v.severity == "critical"
  some ref in v.affects
  c := components_by_ref[ref]
  msg := sprintf("%s@%s has critical vulnerability %s", [c.name, c.version, v.id])
}

deny contains msg if {
  some c in input.sbom.components
  some lic in c.licenses
  not allowed_licenses[lic]
  msg := sprintf("%s@%s uses licence %s, which is not allowed", [c.name, c.version, lic])
}

deny contains "image has no provenance attestation" if not input.provenance

deny contains msg if {
  builder := input.provenance.builder.id
  not startswith(builder, "https://github.com/example/")
  msg := sprintf("untrusted builder %s", [builder])
}

allow if count(deny) == 0
`;

function pushInput(): unknown {
  const licenses = ['Apache-2.0', 'MIT', 'BSD-3-Clause', 'ISC', 'MPL-2.0'];
  const components = Array.from({ length: 2000 }, (_, i) => ({
    'bom-ref': `pkg:npm/component-${i}@1.${i % 17}.${i % 5}`,
    name: `component-${i}`,
    version: `1.${i % 17}.${i % 5}`,
    licenses: i % 397 === 0 ? ['GPL-3.0-only'] : [licenses[i % licenses.length]],
  }));
  const severities = ['low', 'medium', 'high', 'critical'];
  const vulnerabilities = Array.from({ length: 200 }, (_, i) => ({
    id: `CVE-2026-${10000 + i}`,
    severity: i % 50 === 0 ? 'critical' : severities[i % 3],
    affects: [components[(i * 7) % 2000]['bom-ref']],
  }));
  return { sbom: { components }, vulnerabilities, provenance: { builder: { id: 'https://github.com/example/builder@v1' } } };
}

function workloads(iterations?: number): Workload[] {
  return [
    {
      name: '(a) admission, 10-container pod',
      policy: ADMISSION, query: 'data.k8s.admission.deny', input: fromJS(admissionInput()), iterations: iterations ?? 5000,
      target: { metric: 'median', micros: 20 },
      check: (v) => v instanceof Object && 'size' in v && (v as { size: number }).size === 5,
    },
    {
      name: '(b) RBAC, ~100 rules',
      policy: rbacPolicy(), query: 'data.rbac.allow', input: fromJS({ user: 'user_13', action: 'read', type: 'resource_73' }),
      data: fromJS(rbacData()), iterations: iterations ?? 5000, target: { metric: 'median', micros: 20 },
      check: (v) => v === true,
    },
    {
      name: '(c) push, 2,000-component SBOM',
      policy: PUSH, query: 'data.registry.push.deny', input: fromJS(pushInput()), iterations: iterations ?? 300,
      target: { metric: 'p99', micros: 5000 },
      check: (v) => v instanceof Object && 'size' in v && (v as { size: number }).size === 10,
    },
  ];
}

interface Measurement {
  name: string;
  medianMicros: number;
  p99Micros: number;
  evalsPerSecond: number;
  target: string;
  met: boolean;
}

const WARM_UP_RUNS = 3000;

function measure(w: Workload): Measurement {
  const prepared = compile([{ file: 'bench.rego', source: w.policy }]).prepare(w.query);
  const run = () => prepared.eval({ input: w.input, data: w.data });
  const first = run();
  if (first.length !== 1 || !w.check(first[0].expressions[0].value)) throw new Error(`${w.name}: unexpected result`);
  // Steady state is what the registry sees (one prepared policy, evaluated for every request):
  // V8 needs a couple of thousand runs of the evaluator before its optimised code is in place.
  for (let i = 0; i < Math.min(WARM_UP_RUNS, w.iterations); i++) run();
  const samples = new Float64Array(w.iterations);
  const started = performance.now();
  for (let i = 0; i < w.iterations; i++) {
    const t0 = performance.now();
    run();
    samples[i] = (performance.now() - t0) * 1000;
  }
  const totalMs = performance.now() - started;
  samples.sort();
  const median = samples[Math.floor(samples.length / 2)];
  const p99 = samples[Math.min(samples.length - 1, Math.floor(samples.length * 0.99))];
  const observed = w.target.metric === 'median' ? median : p99;
  return {
    name: w.name, medianMicros: median, p99Micros: p99, evalsPerSecond: (w.iterations / totalMs) * 1000,
    target: `${w.target.metric} < ${w.target.micros >= 1000 ? `${w.target.micros / 1000} ms` : `${w.target.micros} µs`}`,
    met: observed < w.target.micros,
  };
}

function main(argv: string[]): void {
  const i = argv.indexOf('--iterations');
  const iterations = i >= 0 ? Number(argv[i + 1]) : undefined;
  const results = workloads(iterations).map(measure);
  if (argv.includes('--json')) {
    console.log(JSON.stringify(results, null, 2));
    return;
  }
  const [load1] = loadavg();
  // Wall-clock percentiles include time the process is descheduled: say how busy the machine was.
  console.log(`node ${process.version}, ${availableParallelism()} cores, load average ${load1.toFixed(2)} (one evaluation at a time, one core)`);
  console.log('workload                              median µs     p99 µs    evals/s   target            met');
  for (const r of results) {
    console.log(`${r.name.padEnd(36)} ${r.medianMicros.toFixed(1).padStart(10)} ${r.p99Micros.toFixed(1).padStart(10)} ${r.evalsPerSecond.toFixed(0).padStart(10)}   ${r.target.padEnd(17)} ${r.met ? 'yes' : 'NO'}`);
  }
}

main(process.argv.slice(2));
