/**
 * The policy service as a registry extension: gates manifest pushes and pulls, answers the policy
 * API (and, through the admission module, Kubernetes admission reviews), and re-evaluates
 * quarantined artifacts when something is attached to them.
 */
import { join } from 'node:path';
import type { RegistryEvent } from '../../distribution/events.ts';
import type { Extension, RunningExtension } from '../../server/extension.ts';
import { POLICY_API_ROUTES, PolicyApi } from './policy-api.ts';
import { PolicyEngine, type EngineSettings } from './policy-engine.ts';
import { attachmentOf, NO_TRUST, type TrustSource } from './policy-input.ts';
import { PolicyService } from './policy-service.ts';
import { PolicyThreads } from './policy-threads.ts';
import { simulatePolicy } from './simulation.ts';
import { loadBundleFromRegistry } from './bundle-source.ts';
import { ADMISSION_ROUTES, handleAdmission, type AdmissionDeps } from '../../admission/webhook.ts';
import { openPolicyStore } from './open-policy-store.ts';

export interface RunningPolicy extends RunningExtension {
  readonly service: PolicyService;
}

/** What the supply-chain extension offers this one, when it runs. */
interface SupplyChainLike extends RunningExtension {
  readonly service: { trustFacts(repository: string, digest: string): Promise<Record<string, unknown> | undefined> };
  idle(): Promise<void>;
}

export function policyDatabasePath(dataDir: string): string {
  return join(dataDir, 'policy.db');
}

export function engineSettings(config: { policy: { failureMode: 'closed' | 'open'; timeoutMs: number } }): EngineSettings {
  return { failureMode: config.policy.failureMode, timeoutMs: config.policy.timeoutMs, refreshIntervalMs: 1000 };
}

export const policyExtension = {
  name: 'policy',
  async start({ config, registry, logger, running }) {
    const store = openPolicyStore(config, policyDatabasePath(config.data));
    await store.migrate();
    const supplyChain = running.get('supplychain') as SupplyChainLike | undefined;
    const supplyChainTrust: TrustSource | undefined = supplyChain && {
      trustOf: (repository, digest) => supplyChain.service.trustFacts(repository, digest),
    };
    // TUF facts join the trust document as input.trust.tuf (docs/policy-input.md).
    const tuf = running.get('tuf') as { service: { factsFor(repository: string, digest: string): object } } | undefined;
    const trust: TrustSource | undefined = tuf ? {
      trustOf: async (repository, digest) => ({ ...(await supplyChainTrust?.trustOf(repository, digest) ?? NO_TRUST), tuf: tuf.service.factsFor(repository, digest) }),
    } : supplyChainTrust;
    // Policies that outgrow their slice of the event loop run on a thread (see policy-engine.ts).
    const threads = new PolicyThreads();
    const settings: EngineSettings = { ...engineSettings(config), threads };
    const engine = new PolicyEngine(store, settings);
    const service = new PolicyService(store, engine, registry, trust, logger);
    await service.start();
    const api = new PolicyApi(store, {
      flushDecisions: () => service.flushDecisions(),
      simulate: (definition) => simulatePolicy(definition, service.inputSources, settings),
      changed: () => service.refresh(),
      releaseQuarantine: (repository, digest) => service.releaseQuarantine(repository, digest),
      loadBundle: (reference) => loadBundleFromRegistry(registry, reference),
    });
    const admission: AdmissionDeps = {
      registry, policies: service, store, trust,
      settings: {
        registryHosts: config.admission.registryHosts.split(',').map((host) => host.trim()).filter((host) => host !== ''),
        timeoutMs: config.admission.timeoutMs,
        failurePolicy: config.admission.failurePolicy,
      },
    };
    const unsubscribe = registry.events.subscribe(async (event) => {
      // A deleted artifact leaves no quarantine behind (re-evaluation finds it gone and releases it).
      if (event.kind === 'manifest-deleted') return void (await service.reevaluateQuarantine(event.repository, event.digest));
      const subject = attachedTo(event);
      if (!subject) return;
      // The supply chain indexes the attachment first; then its subject's trust has changed.
      await supplyChain?.idle();
      service.forgetPullDecisions(subject.repository, subject.digest);
      await service.reevaluateQuarantine(subject.repository, subject.digest);
    });
    return {
      service,
      gates: service.gates,
      handle: async (ctx) => (ctx.path.startsWith('/admission/') ? handleAdmission(ctx, admission) : api.handle(ctx)),
      apiRoutes: [...POLICY_API_ROUTES, ...ADMISSION_ROUTES],
      async close() {
        unsubscribe();
        await service.flushDecisions();
        await threads.close();
        await store.close();
      },
    } satisfies RunningPolicy;
  },
} satisfies Extension;

/** The artifact a pushed signature, attestation or SBOM is about (referrers or cosign's tag scheme). */
function attachedTo(event: RegistryEvent): { repository: string; digest: string } | undefined {
  if (event.kind !== 'manifest-pushed') return undefined;
  const attachment = attachmentOf({ subject: event.subject, tag: event.tag });
  return attachment && { repository: event.repository, digest: attachment.digest };
}
