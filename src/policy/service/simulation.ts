/**
 * `wharf policy simulate`: evaluates a policy that is not enforced yet against every manifest
 * already stored, as if each were pushed again, and reports what it would deny or quarantine.
 */
import { namespaceOf } from '../../auth/access.ts';
import type { RegistryDeps } from '../../distribution/registry-deps.ts';
import { evaluateDefinitions, type EngineSettings } from './policy-engine.ts';
import { artifactFacts, namespaceFacts, policyInput, requesterFacts, type TrustSource } from './policy-input.ts';
import type { PolicyDefinition, PolicyStore, Violation } from './policy-store.ts';
import { ANONYMOUS_REQUESTER } from '../../distribution/http.ts';

export interface SimulationReport {
  evaluated: number;
  readonly denied: { repository: string; reference: string; digest: string; violations: Violation[] }[];
  readonly quarantined: { repository: string; reference: string; digest: string; violations: Violation[] }[];
  readonly errors: string[];
}

export async function simulatePolicy(
  definition: PolicyDefinition, registry: RegistryDeps, store: PolicyStore, trust: TrustSource | undefined, settings: EngineSettings,
): Promise<SimulationReport> {
  const policy = { ...definition, binding: { ...definition.binding, points: ['push' as const] }, mode: 'enforce' as const, version: 0, revision: 'simulation', updatedAt: new Date() };
  const report: SimulationReport = { evaluated: 0, denied: [], quarantined: [], errors: [] };
  for (const repository of await allRepositories(registry)) {
    const tagsByDigest = new Map<string, string[]>();
    for (const tag of (await registry.metadata.listTags(repository, {})) ?? []) {
      const manifest = await registry.metadata.getManifestByTag(repository, tag);
      if (manifest) tagsByDigest.set(manifest.digest, [...(tagsByDigest.get(manifest.digest) ?? []), tag]);
    }
    const namespace = await namespaceFacts(registry, store, namespaceOf(repository));
    for (const { digest } of await registry.metadata.listManifests(repository)) {
      const manifest = await registry.metadata.getManifest(repository, digest);
      if (!manifest) continue;
      const trustDocument = await trust?.trustOf(repository, digest);
      for (const reference of tagsByDigest.get(digest) ?? [digest]) {
        const artifact = await artifactFacts(registry, { repository, reference, digest, content: manifest.content, contentType: manifest.mediaType, pushedAt: new Date() });
        const input = policyInput('push', { artifact, trust: trustDocument, requester: requesterFacts(ANONYMOUS_REQUESTER, undefined), namespace });
        const result = await evaluateDefinitions([policy], 'push', input, { repository, namespace: namespaceOf(repository), artifactType: (artifact.artifactType as string | null) ?? undefined }, settings);
        report.evaluated++;
        report.errors.push(...result.errors.map((error) => `${repository}:${reference}: ${error}`));
        const strip = (violations: Violation[]) => violations.map(({ msg, code, details }) => ({ msg, code, details }));
        if (!result.allow) report.denied.push({ repository, reference, digest, violations: strip(result.violations) });
        if (result.quarantine.length > 0) report.quarantined.push({ repository, reference, digest, violations: strip(result.quarantine) });
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
