/**
 * The ready-made policy library in `policies/`: every folder is complete, its own `test_` rules
 * pass under `wharf policy test`, and whatever it returns follows the decision contract of
 * docs/policy-input.md (violations are `{msg, code, details}` objects).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPolicyCommand, type PolicyIO } from '../cli/policy.ts';
import { compile, fromJS, toJS } from './rego/index.ts';

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const libraryDir = join(repositoryRoot, 'policies');

const policyNames = readdirSync(libraryDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

/** `signed-by-key` → `signed_by_key`: Rego package segments cannot hold dashes. */
function packageSegment(folder: string): string {
  return folder.replace(/-/g, '_');
}

function capture(): PolicyIO & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (text) => lines.push(text), err: (text) => lines.push(text) };
}

test('the library holds the policies issue 6 asks for', () => {
  const expected = [
    'cost-center-label', 'gatekeeper-admission', 'gpu-models-only-labelled', 'keyless-identity', 'license-allowlist',
    'no-critical-vulns', 'no-latest', 'required-labels', 'signed-by-key', 'signed-within', 'size-limit',
    'slsa-provenance', 'storage-budget',
  ];
  for (const name of expected) assert.ok(policyNames.includes(name), `policies/${name} is missing`);
});

test('every policy folder has policy.rego, policy_test.rego and README.md, and is listed', () => {
  const index = readFileSync(join(libraryDir, 'README.md'), 'utf8');
  for (const name of policyNames) {
    for (const file of ['policy.rego', 'policy_test.rego', 'README.md']) {
      assert.ok(existsSync(join(libraryDir, name, file)), `policies/${name}/${file} is missing`);
    }
    assert.ok(index.includes(`(${name}/)`), `policies/README.md does not link ${name}/`);
  }
});

test('every policy declares its package and reads its parameters from data.wharf.params', () => {
  for (const name of policyNames) {
    const segment = packageSegment(name);
    const source = readFileSync(join(libraryDir, name, 'policy.rego'), 'utf8');
    assert.match(source, new RegExp(`^package wharf\\.policies\\.${segment}$`, 'm'), `${name}: wrong package`);
    assert.ok(source.includes(`data.wharf.params.${segment}`), `${name}: parameters not read from data.wharf.params.${segment}`);
    const tests = readFileSync(join(libraryDir, name, 'policy_test.rego'), 'utf8');
    assert.ok((tests.match(/^test_\w+ if/gm) ?? []).length >= 5, `${name}: fewer than 5 test_ rules`);
  }
});

test('wharf policy test policies/ passes every test_ rule', async () => {
  const io = capture();
  const code = await runPolicyCommand(['test', libraryDir], io);
  const summary = io.lines.join('\n');
  assert.equal(code, 0, summary);
  const pass = /PASS: (\d+)\/(\d+)/.exec(summary);
  assert.ok(pass, summary);
  assert.equal(pass[1], pass[2], summary);
  assert.ok(Number(pass[2]) >= policyNames.length * 5, `only ${pass[2]} tests ran`);
});

/** Inputs shaped like docs/policy-input.md, one per enforcement point, with plenty to object to. */
const artifact = {
  repository: 'team-a/app', namespace: 'team-a', reference: 'latest', tag: 'latest', digest: 'sha256:' + 'a'.repeat(64),
  mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.cncf.model.config.v1+json',
  size: 1234, totalSize: 64 * 1024 ** 3, annotations: {}, labels: {},
  config: { mediaType: 'application/vnd.cncf.model.config.v1+json', digest: 'sha256:' + 'b'.repeat(64), size: 100 },
  layers: [], manifests: [], subject: null, platform: null, created: null, pushedAt: '2026-11-22T00:00:00Z',
};
const trust = {
  signatures: [{ type: 'cosign', signer: 'key:dev (sha256:1)', verified: false, reason: 'untrusted key' }],
  attestations: [],
  sbom: { formats: ['spdx'], components: 2, licenses: ['GPL-3.0-only'] },
  vulnerabilities: { counts: { critical: 1 }, findings: [{ id: 'CVE-1', severity: 'critical', package: 'pkg:npm/x@1', published: '2026-01-01T00:00:00Z' }] },
};
const namespace = {
  name: 'team-a', labels: {}, usage: { storageBytes: 10 * 1024 ** 3, artifacts: 3 }, quota: { storageBytes: 11 * 1024 ** 3 },
  budget: { monthlyStorageCost: 1, currency: 'EUR', pricePerGiBMonth: 0.02, projectedMonthlyStorageCost: 0.2 },
};
const requester = { subject: 'user:alice', kind: 'user', claims: {}, address: '127.0.0.1' };
const base = { now: '2026-11-23T00:00:00Z', artifact, trust, requester, namespace };
const sampleInputs = [
  { ...base, point: 'push' },
  { ...base, point: 'pull' },
  {
    ...base, point: 'admission', artifact: null,
    admission: {
      uid: 'u', operation: 'CREATE', kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: 'prod', name: 'web',
      container: { name: 'web', image: 'nginx', type: 'container' },
      object: { spec: { containers: [{ name: 'web', image: 'nginx' }] } },
    },
  },
];

test('every violation any policy returns is a {msg, code, details} object', () => {
  const modules = policyNames.map((name) => {
    const file = join(libraryDir, name, 'policy.rego');
    return { file, source: readFileSync(file, 'utf8') };
  });
  const compiled = compile(modules);
  let violations = 0;
  for (const name of policyNames) {
    for (const rule of ['deny', 'quarantine']) {
      const query = compiled.prepare(`x := data.wharf.policies.${packageSegment(name)}.${rule}`);
      for (const input of sampleInputs) {
        for (const result of query.eval({ input: fromJS(input), now: 1_795_000_000_000_000_000n })) {
          const value = toJS(result.bindings['x']);
          assert.ok(Array.isArray(value), `${name}.${rule} at ${input.point} is not a set`);
          for (const violation of value as Record<string, unknown>[]) {
            violations++;
            const where = `${name}.${rule} at ${input.point}: ${JSON.stringify(violation)}`;
            assert.equal(typeof violation.msg, 'string', where);
            assert.match(violation.code as string, /^[A-Z][A-Z0-9_]+$/, where);
            assert.equal(typeof violation.details, 'object', where);
            assert.ok(violation.details !== null && !Array.isArray(violation.details), where);
          }
        }
      }
    }
  }
  // The samples were built to trip most policies: a contract test that judged nothing would prove nothing.
  assert.ok(violations >= policyNames.length, `only ${violations} violations produced`);
});

test('no policy refuses a signature or SBOM at pull: attachments are judged with their subject, so verification can happen', () => {
  const modules = policyNames.map((name) => {
    const file = join(libraryDir, name, 'policy.rego');
    return { file, source: readFileSync(file, 'utf8') };
  });
  const compiled = compile(modules);
  const subjectDigest = 'sha256:' + 'c'.repeat(64);
  // A cosign signature (tag scheme) and an SBOM referrer of a subject that every trust rule would refuse.
  const subject = { digest: subjectDigest, artifact: { ...artifact, digest: subjectDigest, tag: null, reference: subjectDigest }, trust };
  const attachments = [
    { ...artifact, tag: `sha256-${'c'.repeat(64)}.sig`, reference: `sha256-${'c'.repeat(64)}.sig`, artifactType: null, totalSize: 2048, subject: null },
    { ...artifact, tag: null, reference: 'sha256:' + 'd'.repeat(64), artifactType: 'application/vnd.cyclonedx+json', totalSize: 2048, subject: subjectDigest },
  ];
  const unsigned = { signatures: [], attestations: [], sbom: null, vulnerabilities: null };
  let judged = 0;
  for (const name of policyNames) {
    const query = compiled.prepare(`x := data.wharf.policies.${packageSegment(name)}.deny`);
    for (const [index, attachment] of attachments.entries()) {
      const input = { ...base, point: 'pull', artifact: attachment, trust: unsigned, subject: { ...subject, via: index === 0 ? 'tag' : 'referrers', kind: index === 0 ? 'signature' : null } };
      for (const result of query.eval({ input: fromJS(input), now: 1_795_000_000_000_000_000n })) {
        judged++;
        assert.deepEqual(toJS(result.bindings['x']), [], `${name} refuses the attachment ${attachment.reference}`);
      }
    }
  }
  assert.ok(judged >= policyNames.length, 'every policy was asked');
});
