/**
 * The policy service: decides at each enforcement point with the applicable policies, writes a
 * decision-log entry for every decision, quarantines pushes that a `quarantine` rule holds back
 * (and releases them when a later signature or SBOM satisfies it, when an administrator says so,
 * or when the policy that held them is removed), lets callers with push access read past pull
 * gates and quarantine (signing must read what it signs), and caches pull decisions per
 * repository, digest, requester, reference and policy generation.
 */
import { createHash, randomUUID } from 'node:crypto';
import { namespaceOf } from '../../auth/access.ts';
import { registryError, type RegistryError } from '../../distribution/errors.ts';
import type { RequestContext, Requester } from '../../distribution/http.ts';
import { ANONYMOUS_REQUESTER } from '../../distribution/http.ts';
import type { ManifestGates, ManifestPush, RegistryDeps } from '../../distribution/registry-deps.ts';
import type { StoredManifest } from '../../storage/metadata/metadata-store.ts';
import type { Evaluation, PolicyEngine, Target } from './policy-engine.ts';
import { manifestInput, namespaceFacts, requesterFacts, type InputSources, type ManifestFacts, type TrustSource } from './policy-input.ts';
import type { AdmissionTrace, DecisionRecord, EnforcementPoint, PolicyStore, Violation } from './policy-store.ts';

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
  readonly #sources: InputSources;
  readonly #logger: DecisionLogger;
  readonly #pullCache = new Map<string, { generation: number; until: number; decision: Decision | undefined }>();
  readonly #quarantined = new Map<string, Violation[]>();
  /** The store generation the quarantine map was last read at: a release elsewhere (the CLI) bumps it. */
  #quarantineGeneration = -1;
  readonly #pendingDecisions: DecisionRecord[] = [];
  #flushTimer: NodeJS.Timeout | undefined;
  readonly #decisionObservers: ((point: EnforcementPoint, decision: Decision) => void)[] = [];
  readonly #namespaces = new Map<string, { until: number; generation: number; facts: Promise<Record<string, unknown>> }>();

  constructor(store: PolicyStore, engine: PolicyEngine, registry: RegistryDeps, trust: TrustSource | undefined, logger: DecisionLogger) {
    this.#store = store;
    this.#engine = engine;
    this.#registry = registry;
    this.#sources = { registry, trust, namespaceFacts: (namespace) => this.namespaceFacts(namespace) };
    this.#logger = logger;
  }

  async start(): Promise<void> {
    await this.refresh();
  }

  /** Applies changed policies, settings and quarantines now (after a change through the API). */
  async refresh(): Promise<void> {
    await this.#engine.refresh(true);
    await this.#syncQuarantine();
  }

  /** Like the engine's refresh: nothing to await when it is not time to ask the store. */
  #refresh(now = Date.now()): Promise<void> | undefined {
    return this.#engine.refresh(false, now)?.then(() => this.#syncQuarantine());
  }

  /** Re-reads the quarantined artifacts when the store changed (a release, a removed policy). */
  async #syncQuarantine(): Promise<void> {
    const generation = this.#engine.generation;
    if (generation === this.#quarantineGeneration) return;
    const stored = new Map((await this.#store.listQuarantined()).map((entry) => [key(entry.repository, entry.digest), entry.reasons]));
    // Updated in place, so a quarantine this process sets meanwhile is not lost.
    for (const held of [...this.#quarantined.keys()]) {
      if (stored.has(held)) continue;
      this.#quarantined.delete(held);
      const [repository, digest] = held.split('\0') as [string, string];
      this.forgetPullDecisions(repository, digest);
      this.#logger.info({ repository, digest }, 'released from quarantine');
    }
    for (const [held, reasons] of stored) this.#quarantined.set(held, reasons);
    this.#quarantineGeneration = generation;
  }

  /** Evaluates the applicable policies and logs the decision. */
  async decide(point: EnforcementPoint, input: Record<string, unknown>, target: Target & { digest?: string }, requester: Requester): Promise<Decision> {
    await this.#refresh();
    const evaluation = await this.#engine.evaluate(point, input, target);
    const decision: Decision = { ...evaluation, id: randomUUID() };
    for (const observe of this.#decisionObservers) observe(point, decision);
    // Every admission outcome is logged, judged by a policy or not: clusters ask why a workload got in.
    if (evaluation.policies.length > 0 || point === 'admission') await this.#log(point, input, target, requester, decision);
    return decision;
  }

  /** Calls `observe` with every decision made from now on (metrics); returns how to stop. */
  observeDecisions(observe: (point: EnforcementPoint, decision: Decision) => void): () => void {
    this.#decisionObservers.push(observe);
    return () => {
      const at = this.#decisionObservers.indexOf(observe);
      if (at !== -1) this.#decisionObservers.splice(at, 1);
    };
  }

  /** Logs an admission review decided as a whole, without a policy (an unreadable workload, a failed review). */
  recordAdmission(trace: AdmissionTrace, requester: Requester, allowed: boolean, reason: string): void {
    this.#append({
      id: randomUUID(), time: new Date(), point: 'admission', requester: requester.subject, allowed, policies: [], paths: [],
      inputHash: createHash('sha256').update(JSON.stringify(trace)).digest('hex'),
      result: { violations: [], quarantine: [], errors: [reason] }, durationMs: 0, admission: trace,
    });
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
    // Time-based rules ("signed within …") count from when the artifact was pushed.
    const pushedAt = manifest.pushedAt ?? (await this.#store.getQuarantine(repository, digest))?.since ?? new Date();
    const input = await this.#input('push', { repository, reference: digest, digest, content: manifest.content, contentType: manifest.mediaType, pushedAt }, ANONYMOUS_REQUESTER, undefined);
    const decision = await this.decide('push', input, targetOf(input), ANONYMOUS_REQUESTER);
    if (decision.quarantine.length > 0) return false;
    await this.#release(repository, digest);
    return true;
  }

  /** Lifts a quarantine by hand (an administrator's decision); false when the artifact was not held. */
  async releaseQuarantine(repository: string, digest: string): Promise<boolean> {
    const released = await this.#store.releaseQuarantine(repository, digest);
    if (this.#quarantined.delete(key(repository, digest))) this.forgetPullDecisions(repository, digest);
    if (released) this.#logger.info({ repository, digest }, 'released from quarantine by an administrator');
    return released;
  }

  quarantineOf(repository: string, digest: string): Violation[] | undefined {
    return this.#quarantined.get(key(repository, digest));
  }

  async #beforePush(ctx: RequestContext, push: ManifestPush): Promise<(() => Promise<void>) | undefined> {
    await this.#refresh();
    const target = { repository: push.repository, namespace: namespaceOf(push.repository) };
    if (this.#engine.applicable('push', target).length === 0) return undefined;
    const requester = ctx.access?.requester ?? ANONYMOUS_REQUESTER;
    const input = await this.#input('push', { ...push, pushedAt: new Date() }, requester, ctx.req.socket.remoteAddress);
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
    const now = Date.now();
    const refreshing = this.#refresh(now);
    if (refreshing) return refreshing.then(() => this.#beforePull(ctx, repository, reference, manifest));
    const held = this.#quarantined.size > 0 ? this.#quarantined.get(key(repository, manifest.digest)) : undefined;
    if (held) {
      return this.#unlessPusher(ctx, repository, manifest.digest, registryError('DENIED', {
        message: `${repository}@${manifest.digest} is quarantined: ${held.map((v) => v.msg).join('; ')}`,
        detail: { quarantined: true, violations: held },
      }));
    }
    if (!this.#engine.hasPoint('pull')) return undefined;
    // One lookup on the hot path: the cached decision already says whether any policy applied.
    const requester = ctx.access?.requester ?? ANONYMOUS_REQUESTER;
    // The reference is part of the input (a tag rule, a cosign attachment tag), so part of the key.
    const cacheKey = `${repository}\0${manifest.digest}\0${requester.subject}\0${reference}`;
    const cached = this.#pullCache.get(cacheKey);
    if (cached && cached.generation === this.#engine.generation && cached.until > now) {
      if (cached.decision && !cached.decision.allow) return this.#unlessPusher(ctx, repository, manifest.digest, denied('pull', repository, cached.decision));
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
    const input = await this.#input('pull', {
      repository, reference, digest: manifest.digest, content: manifest.content, contentType: manifest.mediaType, pushedAt: manifest.pushedAt ?? new Date(),
    }, requester, ctx.req.socket.remoteAddress);
    const decision = await this.decide('pull', input, targetOf(input), requester);
    this.#remember(cacheKey, decision, Date.now());
    if (!decision.allow) await this.#unlessPusher(ctx, repository, manifest.digest, denied('pull', repository, decision));
  }

  /**
   * Pull gates and quarantine protect those who consume an artifact. A caller who may push to the
   * repository could replace it anyway, and must read what it signs or attests (as Harbor lets
   * push-scoped callers past its content-trust gate): it reads past them. Anyone else is refused.
   * Without authentication everyone may push, so there the gates hold for all.
   */
  async #unlessPusher(ctx: RequestContext, repository: string, digest: string, refusal: RegistryError): Promise<void> {
    const access = ctx.access;
    if (!access || access.requester.kind === 'anonymous' || !(await access.can(repository, 'push'))) throw refusal;
    this.#logger.info({ repository, digest, requester: access.requester.subject, refusal: refusal.message }, 'pull past the pull gate: the caller may push to the repository');
  }

  /** Forgets cached pull decisions for a digest whose trust changed. */
  forgetPullDecisions(repository: string, digest: string): void {
    const prefix = `${repository}\0${digest}\0`;
    for (const cacheKey of this.#pullCache.keys()) if (cacheKey.startsWith(prefix)) this.#pullCache.delete(cacheKey);
  }

  #input(point: EnforcementPoint, manifest: ManifestFacts, requester: Requester, address: string | undefined): Promise<Record<string, unknown>> {
    return manifestInput(point, this.#sources, manifest, requesterFacts(requester, address));
  }

  /** The sources the input builder reads, for a simulation in this process. */
  get inputSources(): InputSources {
    return this.#sources;
  }

  async #release(repository: string, digest: string): Promise<void> {
    await this.#store.clearQuarantine(repository, digest);
    this.#quarantined.delete(key(repository, digest));
    this.#logger.info({ repository, digest }, 'released from quarantine');
  }

  async #log(point: EnforcementPoint, input: Record<string, unknown>, target: Target & { digest?: string }, requester: Requester, decision: Decision): Promise<void> {
    const admission = point === 'admission' ? admissionTrace(input.admission) : undefined;
    this.#append({
      id: decision.id, time: new Date(), point, repository: target.repository, digest: target.digest, requester: requester.subject,
      allowed: decision.allow, policies: decision.policies, paths: decision.paths,
      inputHash: createHash('sha256').update(JSON.stringify(input)).digest('hex'),
      result: { violations: decision.violations, quarantine: decision.quarantine, errors: decision.errors },
      durationMs: Math.round(decision.durationMs * 1000) / 1000,
      ...(admission ? { admission } : {}),
    });
  }

  #append(record: DecisionRecord): void {
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

/** The trace of an admission input (see docs/policy-input.md, `admission`). */
function admissionTrace(value: unknown): AdmissionTrace | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const admission = value as { uid?: string; operation?: string; kind?: { group?: string; version?: string; kind?: string }; namespace?: string | null; name?: string | null; container?: { name?: string; image?: string; type?: string } };
  return {
    uid: admission.uid ?? '', operation: admission.operation ?? '',
    workload: workloadOf(admission.kind, admission.namespace, admission.name),
    container: admission.container ? { name: admission.container.name ?? '', type: admission.container.type ?? 'container' } : null,
    image: admission.container?.image ?? null,
  };
}

export function workloadOf(kind: { group?: string; version?: string; kind?: string } | undefined, namespace: string | null | undefined, name: string | null | undefined): AdmissionTrace['workload'] {
  const apiVersion = kind?.group ? `${kind.group}/${kind.version ?? ''}` : (kind?.version ?? '');
  return { apiVersion, kind: kind?.kind ?? '', namespace: namespace ?? null, name: name ?? null };
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
