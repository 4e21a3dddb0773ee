/**
 * The policy service: decides at each enforcement point with the applicable policies, writes a
 * decision-log entry for every decision, quarantines pushes that a `quarantine` rule holds back
 * (and releases them when a later signature or SBOM satisfies it), and caches pull decisions per
 * repository, digest, requester and policy generation.
 */
import { createHash, randomUUID } from 'node:crypto';
import { namespaceOf } from '../../auth/access.ts';
import { registryError } from '../../distribution/errors.ts';
import type { RequestContext, Requester } from '../../distribution/http.ts';
import { ANONYMOUS_REQUESTER } from '../../distribution/http.ts';
import type { ManifestGates, ManifestPush, RegistryDeps } from '../../distribution/registry-deps.ts';
import type { StoredManifest } from '../../storage/metadata/metadata-store.ts';
import type { Evaluation, PolicyEngine, Target } from './policy-engine.ts';
import { artifactFacts, namespaceFacts, policyInput, requesterFacts, type TrustSource } from './policy-input.ts';
import type { EnforcementPoint, PolicyStore, Violation } from './policy-store.ts';

export interface DecisionLogger {
  info(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface Decision extends Evaluation {
  readonly id: string;
}

/** Pull decisions are reused this long at most, so time-based rules stay current. */
const PULL_CACHE_TTL_MS = 60_000;
const PULL_CACHE_MAX = 50_000;

export class PolicyService {
  readonly #store: PolicyStore;
  readonly #engine: PolicyEngine;
  readonly #registry: RegistryDeps;
  readonly #trust: TrustSource | undefined;
  readonly #logger: DecisionLogger;
  readonly #pullCache = new Map<string, { generation: number; until: number; decision: Decision }>();
  readonly #quarantined = new Map<string, Violation[]>();

  constructor(store: PolicyStore, engine: PolicyEngine, registry: RegistryDeps, trust: TrustSource | undefined, logger: DecisionLogger) {
    this.#store = store;
    this.#engine = engine;
    this.#registry = registry;
    this.#trust = trust;
    this.#logger = logger;
  }

  async start(): Promise<void> {
    await this.#engine.refresh(true);
    for (const entry of await this.#store.listQuarantined()) this.#quarantined.set(key(entry.repository, entry.digest), entry.reasons);
  }

  /** Evaluates the applicable policies and logs the decision. */
  async decide(point: EnforcementPoint, input: Record<string, unknown>, target: Target & { digest?: string }, requester: Requester): Promise<Decision> {
    await this.#engine.refresh();
    const evaluation = this.#engine.evaluate(point, input, target);
    const decision: Decision = { ...evaluation, id: randomUUID() };
    if (evaluation.policies.length > 0) await this.#log(point, input, target, requester, decision);
    return decision;
  }

  readonly gates: ManifestGates = {
    beforePush: async (ctx, push) => this.#beforePush(ctx, push),
    beforePull: async (ctx, repository, reference, manifest) => this.#beforePull(ctx, repository, reference, manifest),
  };

  /** Re-runs the push policies' quarantine rules for a quarantined artifact; releases it when none holds. */
  async reevaluateQuarantine(repository: string, digest: string): Promise<boolean> {
    if (!this.#quarantined.has(key(repository, digest))) return false;
    const manifest = await this.#registry.metadata.getManifest(repository, digest);
    if (!manifest) {
      await this.#release(repository, digest);
      return true;
    }
    // The artifact was pushed when it was quarantined: time-based rules ("signed within …") count from then.
    const pushedAt = (await this.#store.getQuarantine(repository, digest))?.since ?? new Date();
    const input = await this.#input('push', { repository, reference: digest, digest, content: manifest.content, contentType: manifest.mediaType }, ANONYMOUS_REQUESTER, undefined, pushedAt);
    const decision = await this.decide('push', input, targetOf(input), ANONYMOUS_REQUESTER);
    if (decision.quarantine.length > 0) return false;
    await this.#release(repository, digest);
    return true;
  }

  quarantineOf(repository: string, digest: string): Violation[] | undefined {
    return this.#quarantined.get(key(repository, digest));
  }

  async #beforePush(ctx: RequestContext, push: ManifestPush): Promise<(() => Promise<void>) | undefined> {
    await this.#engine.refresh();
    const target = { repository: push.repository, namespace: namespaceOf(push.repository) };
    if (this.#engine.applicable('push', target).length === 0) return undefined;
    const requester = ctx.access?.requester ?? ANONYMOUS_REQUESTER;
    const input = await this.#input('push', push, requester, ctx.req.socket.remoteAddress);
    const decision = await this.decide('push', input, targetOf(input), requester);
    if (!decision.allow) throw denied('push', push.repository, decision);
    if (decision.quarantine.length === 0) return undefined;
    return async () => {
      await this.#store.setQuarantine(push.repository, push.digest, decision.quarantine);
      this.#quarantined.set(key(push.repository, push.digest), decision.quarantine);
    };
  }

  async #beforePull(ctx: RequestContext, repository: string, reference: string, manifest: StoredManifest): Promise<void> {
    const held = this.#quarantined.get(key(repository, manifest.digest));
    if (held) {
      throw registryError('DENIED', {
        message: `${repository}@${manifest.digest} is quarantined: ${held.map((v) => v.msg).join('; ')}`,
        detail: { quarantined: true, violations: held },
      });
    }
    await this.#engine.refresh();
    const target = { repository, namespace: namespaceOf(repository) };
    if (this.#engine.applicable('pull', target).length === 0) return;
    const requester = ctx.access?.requester ?? ANONYMOUS_REQUESTER;
    const cacheKey = `${repository}\0${manifest.digest}\0${requester.subject}`;
    const cached = this.#pullCache.get(cacheKey);
    const now = Date.now();
    let decision = cached && cached.generation === this.#engine.generation && cached.until > now ? cached.decision : undefined;
    if (!decision) {
      const input = await this.#input('pull', { repository, reference, digest: manifest.digest, content: manifest.content, contentType: manifest.mediaType }, requester, ctx.req.socket.remoteAddress);
      decision = await this.decide('pull', input, targetOf(input), requester);
      if (this.#pullCache.size >= PULL_CACHE_MAX) this.#pullCache.clear();
      this.#pullCache.set(cacheKey, { generation: this.#engine.generation, until: now + PULL_CACHE_TTL_MS, decision });
    }
    if (!decision.allow) throw denied('pull', repository, decision);
  }

  /** Forgets cached pull decisions for a digest whose trust changed. */
  forgetPullDecisions(repository: string, digest: string): void {
    const prefix = `${repository}\0${digest}\0`;
    for (const cacheKey of this.#pullCache.keys()) if (cacheKey.startsWith(prefix)) this.#pullCache.delete(cacheKey);
  }

  async #input(point: EnforcementPoint, push: ManifestPush, requester: Requester, address: string | undefined, pushedAt = new Date()): Promise<Record<string, unknown>> {
    const artifact = await artifactFacts(this.#registry, { ...push, pushedAt });
    const [trust, namespace] = await Promise.all([
      this.#trust?.trustOf(push.repository, push.digest),
      namespaceFacts(this.#registry, this.#store, namespaceOf(push.repository)),
    ]);
    return policyInput(point, { artifact, trust, requester: requesterFacts(requester, address), namespace });
  }

  async #release(repository: string, digest: string): Promise<void> {
    await this.#store.clearQuarantine(repository, digest);
    this.#quarantined.delete(key(repository, digest));
    this.#logger.info({ repository, digest }, 'released from quarantine');
  }

  async #log(point: EnforcementPoint, input: unknown, target: Target & { digest?: string }, requester: Requester, decision: Decision): Promise<void> {
    const record = {
      id: decision.id, time: new Date(), point, repository: target.repository, digest: target.digest, requester: requester.subject,
      allowed: decision.allow, policies: decision.policies, paths: decision.paths,
      inputHash: createHash('sha256').update(JSON.stringify(input)).digest('hex'),
      result: { violations: decision.violations, quarantine: decision.quarantine, errors: decision.errors },
      durationMs: Math.round(decision.durationMs * 1000) / 1000,
    };
    this.#logger.info({ decision: { ...record, time: record.time.toISOString() } }, 'policy decision');
    await this.#store.appendDecision(record).catch((error: unknown) => this.#logger.error({ err: error }, 'writing the decision log failed'));
  }
}

function key(repository: string, digest: string): string {
  return `${repository}\0${digest}`;
}

function targetOf(input: Record<string, unknown>): Target & { digest?: string } {
  const artifact = input.artifact as { repository: string; namespace: string; artifactType: string | null; digest: string };
  return { repository: artifact.repository, namespace: artifact.namespace, artifactType: artifact.artifactType ?? undefined, digest: artifact.digest };
}

function denied(point: EnforcementPoint, repository: string, decision: Decision) {
  const enforced = decision.violations.filter((violation) => violation.mode === 'enforce');
  return registryError('DENIED', {
    message: `${point} of ${repository} denied by policy: ${enforced.map((v) => v.msg).join('; ')}`,
    detail: { decisionId: decision.id, violations: enforced.map(({ policy, msg, code, details }) => ({ policy, msg, code, details })) },
  });
}
