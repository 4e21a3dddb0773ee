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
import type { DecisionRecord, EnforcementPoint, PolicyStore, Violation } from './policy-store.ts';

export interface DecisionLogger {
  info(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface Decision extends Evaluation {
  readonly id: string;
}

/** Decisions are written to the log in batches, at most this long after they were made. */
const DECISION_FLUSH_MS = 50;
/** Namespace usage is summed at most this often per namespace (it is a scan). */
const USAGE_TTL_MS = 5_000;

/** Pull decisions are reused this long at most, so time-based rules stay current. */
const PULL_CACHE_TTL_MS = 60_000;
const PULL_CACHE_MAX = 50_000;

export class PolicyService {
  readonly #store: PolicyStore;
  readonly #engine: PolicyEngine;
  readonly #registry: RegistryDeps;
  readonly #trust: TrustSource | undefined;
  readonly #logger: DecisionLogger;
  readonly #pullCache = new Map<string, { generation: number; until: number; decision: Decision | undefined }>();
  readonly #quarantined = new Map<string, Violation[]>();
  readonly #pendingDecisions: DecisionRecord[] = [];
  #flushTimer: NodeJS.Timeout | undefined;
  readonly #namespaces = new Map<string, { until: number; generation: number; facts: Promise<Record<string, unknown>> }>();

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
    const evaluation = await this.#engine.evaluate(point, input, target);
    const decision: Decision = { ...evaluation, id: randomUUID() };
    if (evaluation.policies.length > 0) await this.#log(point, input, target, requester, decision);
    return decision;
  }

  readonly gates: ManifestGates = {
    beforePush: (ctx, push) => this.#beforePush(ctx, push),
    beforePull: (ctx, repository, reference, manifest) => this.#beforePull(ctx, repository, reference, manifest),
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

  /** Synchronous when the answer is known (quarantine, no policy, a cached decision): no await on the hot path. */
  #beforePull(ctx: RequestContext, repository: string, reference: string, manifest: StoredManifest): Promise<void> | undefined {
    const held = this.#quarantined.size > 0 ? this.#quarantined.get(key(repository, manifest.digest)) : undefined;
    if (held) {
      throw registryError('DENIED', {
        message: `${repository}@${manifest.digest} is quarantined: ${held.map((v) => v.msg).join('; ')}`,
        detail: { quarantined: true, violations: held },
      });
    }
    const now = Date.now();
    const refreshing = this.#engine.refresh(false, now);
    if (refreshing) return refreshing.then(() => this.#beforePull(ctx, repository, reference, manifest));
    if (!this.#engine.hasPoint('pull')) return undefined;
    // One lookup on the hot path: the cached decision already says whether any policy applied.
    const requester = ctx.access?.requester ?? ANONYMOUS_REQUESTER;
    const cacheKey = `${repository}\0${manifest.digest}\0${requester.subject}`;
    const cached = this.#pullCache.get(cacheKey);
    if (cached && cached.generation === this.#engine.generation && cached.until > now) {
      if (cached.decision && !cached.decision.allow) throw denied('pull', repository, cached.decision);
      return undefined;
    }
    if (this.#engine.applicable('pull', { repository, namespace: namespaceOf(repository) }).length === 0) {
      this.#remember(cacheKey, undefined, now);
      return undefined;
    }
    return this.#decidePull(ctx, repository, reference, manifest, requester, cacheKey);
  }

  /** Caches a pull decision (undefined: no policy applied). */
  #remember(cacheKey: string, decision: Decision | undefined, now: number): void {
    if (this.#pullCache.size >= PULL_CACHE_MAX) this.#pullCache.clear();
    this.#pullCache.set(cacheKey, { generation: this.#engine.generation, until: now + PULL_CACHE_TTL_MS, decision });
  }

  async #decidePull(ctx: RequestContext, repository: string, reference: string, manifest: StoredManifest, requester: Requester, cacheKey: string): Promise<void> {
    const input = await this.#input('pull', { repository, reference, digest: manifest.digest, content: manifest.content, contentType: manifest.mediaType }, requester, ctx.req.socket.remoteAddress);
    const decision = await this.decide('pull', input, targetOf(input), requester);
    this.#remember(cacheKey, decision, Date.now());
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
      this.namespaceFacts(namespaceOf(push.repository)),
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
    this.#pendingDecisions.push(record);
    this.#flushTimer ??= setTimeout(() => void this.flushDecisions(), DECISION_FLUSH_MS);
  }

  /** Writes buffered decision-log entries in one transaction (one fsync for many decisions). */
  async flushDecisions(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const batch = this.#pendingDecisions.splice(0);
    if (batch.length === 0) return;
    await this.#store.appendDecisions(batch).catch((error: unknown) => this.#logger.error({ err: error, decisions: batch.length }, 'writing the decision log failed'));
  }

  /** Namespace facts, summed at most every USAGE_TTL_MS per namespace. */
  namespaceFacts(namespace: string): Promise<Record<string, unknown>> {
    const now = Date.now();
    const cached = this.#namespaces.get(namespace);
    // Changed settings (labels, quota, budget) bump the generation and apply at once.
    if (cached && cached.until > now && cached.generation === this.#engine.generation) return cached.facts;
    const facts = namespaceFacts(this.#registry, this.#store, namespace);
    if (this.#namespaces.size > 10_000) this.#namespaces.clear();
    this.#namespaces.set(namespace, { until: now + USAGE_TTL_MS, generation: this.#engine.generation, facts });
    return facts;
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
