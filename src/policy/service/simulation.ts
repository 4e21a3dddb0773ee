/**
 * `wharf policy simulate` and POST /api/v1/policy-simulations: evaluates a policy that is not
 * enforced yet against every manifest already stored, at each point it is bound to (push as if
 * pushed again, pull as if pulled by an anonymous caller), with the input builder enforcement
 * uses — supply-chain facts and the real push time included — and reports what it would deny or
 * quarantine. The command line and the server run this same function.
 */
import { namespaceOf } from '../../auth/access.ts';
import type { RegistryDeps } from '../../distribution/registry-deps.ts';
import { ANONYMOUS_REQUESTER } from '../../distribution/http.ts';
import { evaluateDefinitions, type EngineSettings } from './policy-engine.ts';
import { manifestInput, requesterFacts, type InputSources } from './policy-input.ts';
import type { EnforcementPoint, PolicyDefinition, Violation } from './policy-store.ts';

/** Stored content can be judged at these points; admission needs a workload, which nothing stored is. */
const SIMULATED_POINTS: readonly EnforcementPoint[] = ['push', 'pull'];

export interface SimulatedOutcome {
  readonly point: EnforcementPoint;
  readonly repository: string;
  readonly reference: string;
  readonly digest: string;
  readonly violations: Violation[];
}

export interface SimulationReport {
  /** Points judged, in order; the policy's admission binding is never simulated. */
  readonly points: EnforcementPoint[];
  /** Evaluations made: one per stored reference (tag, or digest when untagged) and point. */
  evaluated: number;
  readonly denied: SimulatedOutcome[];
  readonly quarantined: SimulatedOutcome[];
  readonly errors: string[];
}

export async function simulatePolicy(definition: PolicyDefinition, sources: InputSources, settings: EngineSettings): Promise<SimulationReport> {
  const points = SIMULATED_POINTS.filter((point) => definition.binding.points.includes(point));
  // Audit-mode policies are simulated as if enforced: the question is what they would refuse.
  const policy = { ...definition, mode: 'enforce' as const, version: 0, revision: 'simulation', updatedAt: new Date() };
  const report: SimulationReport = { points, evaluated: 0, denied: [], quarantined: [], errors: [] };
  if (points.length === 0) return report;
  const { registry } = sources;
  const requester = requesterFacts(ANONYMOUS_REQUESTER, undefined);
  const strip = (violations: readonly Violation[]) => violations.map(({ msg, code, details }) => ({ msg, code, details }));
  for (const repository of await allRepositories(registry)) {
    const tagsByDigest = new Map<string, string[]>();
    for (const tag of (await registry.metadata.listTags(repository, {})) ?? []) {
      const manifest = await registry.metadata.getManifestByTag(repository, tag);
      if (manifest) tagsByDigest.set(manifest.digest, [...(tagsByDigest.get(manifest.digest) ?? []), tag]);
    }
    for (const { digest } of await registry.metadata.listManifests(repository)) {
      const manifest = await registry.metadata.getManifest(repository, digest);
      if (!manifest) continue;
      for (const reference of tagsByDigest.get(digest) ?? [digest]) {
        for (const point of points) {
          const input = await manifestInput(point, sources, {
            repository, reference, digest, content: manifest.content, contentType: manifest.mediaType, pushedAt: manifest.pushedAt ?? new Date(),
          }, requester);
          const artifactType = ((input.artifact as { artifactType: string | null }).artifactType) ?? undefined;
          const result = await evaluateDefinitions([policy], point, input, { repository, namespace: namespaceOf(repository), artifactType }, settings);
          report.evaluated++;
          report.errors.push(...result.errors.map((error) => `${point} ${repository}:${reference}: ${error}`));
          if (!result.allow) report.denied.push({ point, repository, reference, digest, violations: strip(result.violations) });
          if (result.quarantine.length > 0) report.quarantined.push({ point, repository, reference, digest, violations: strip(result.quarantine) });
        }
      }
    }
  }
  return report;
}

async function allRepositories(registry: RegistryDeps): Promise<string[]> {
  const names: string[] = [];
  let last: string | undefined;
  for (;;) {
    const page = await registry.metadata.listRepositories({ limit: 1000, last });
    names.push(...page);
    if (page.length < 1000) return names;
    last = page.at(-1);
  }
}
