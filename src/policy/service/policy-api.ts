/**
 * The policy part of the management API (who may call what: POLICY_API_ROUTES below):
 *
 *   GET            /api/v1/policies                  GET|PUT|DELETE /api/v1/policies/{name}
 *                  (PUT with `ociReference` instead of `modules`: an OPA bundle stored in Wharf)
 *   POST           /api/v1/policy-simulations        (body: a policy definition; nothing is stored)
 *   GET            /api/v1/decisions?point=&allowed=&repository=&policy=&limit=
 *   GET            /api/v1/quarantine
 *   DELETE         /api/v1/quarantine/{repository}@{digest}   (release by hand)
 *   GET|PUT        /api/v1/namespaces/{ns}/settings  (labels, quota, budget: facts policies read)
 */
import { registryError } from '../../distribution/errors.ts';
import { parseDigest } from '../../content/digest.ts';
import { repositoryNameProblem } from '../../content/names.ts';
import { readBody, sendEmpty, sendJson, type RequestContext } from '../../distribution/http.ts';
import { ENFORCEMENT_POINTS, PolicyStoreError, type EnforcementPoint, type NamespaceSettings, type PolicyStore } from './policy-store.ts';
import { PolicyDefinitionError, validatePolicyDefinition } from './policy-definition.ts';
import type { SimulationReport } from './simulation.ts';
import { BundleError, type Bundle } from './opa-bundle.ts';
import { matchApiRoute, type ApiRoute } from '../../server/api-routes.ts';

const MAX_POLICY_BODY = 4 * 1024 * 1024;

/**
 * The routes, with the access the guard checks before they run (server/api-routes.ts). Policy
 * sources, simulations and namespace facts are for administrators; decisions and quarantine are
 * listed to anyone logged in, filtered to the repositories the caller may pull.
 */
export const POLICY_API_ROUTES = [
  { method: 'GET', path: '/api/v1/policies', access: 'admin' },
  { method: 'GET', path: '/api/v1/policies/{name}', access: 'admin' },
  { method: 'PUT', path: '/api/v1/policies/{name}', access: 'admin' },
  { method: 'DELETE', path: '/api/v1/policies/{name}', access: 'admin' },
  { method: 'POST', path: '/api/v1/policy-simulations', access: 'admin' },
  { method: 'GET', path: '/api/v1/decisions', access: 'authenticated' },
  { method: 'GET', path: '/api/v1/quarantine', access: 'authenticated' },
  { method: 'GET', path: '/api/v1/namespaces/{namespace}/settings', access: 'admin' },
  { method: 'PUT', path: '/api/v1/namespaces/{namespace}/settings', access: 'admin' },
] as const satisfies readonly ApiRoute[];

/** How many recent decisions a non-administrator's listing looks through to find the ones it may read. */
const SCOPED_DECISION_SCAN = 5000;

export interface PolicyApiHooks {
  simulate(definition: ReturnType<typeof validatePolicyDefinition>): Promise<SimulationReport>;
  /** Called after every change, so this process applies it at once. */
  changed(): Promise<void>;
  /** Writes decisions still buffered, so a listing shows every decision made so far. */
  flushDecisions(): Promise<void>;
  /** Lifts a quarantine by hand; false when the artifact was not quarantined. */
  releaseQuarantine(repository: string, digest: string): Promise<boolean>;
  /** Reads an OPA bundle stored in this registry (`repository:tag` or `repository@digest`). */
  loadBundle(reference: string): Promise<Bundle & { origin: string }>;
}

export class PolicyApi {
  readonly #store: PolicyStore;
  readonly #hooks: PolicyApiHooks;

  constructor(store: PolicyStore, hooks: PolicyApiHooks) {
    this.#store = store;
    this.#hooks = hooks;
  }

  async handle(ctx: RequestContext): Promise<boolean> {
    try {
      return await this.#route(ctx);
    } catch (error) {
      if (error instanceof PolicyDefinitionError || error instanceof BundleError) throw registryError('BAD_REQUEST', { message: error.message });
      // The store's message names the operation; the database's own text stays out of the answer.
      if (error instanceof PolicyStoreError) throw registryError(error.kind === 'conflict' ? 'CONFLICT' : 'UNAVAILABLE', { message: error.message });
      throw error;
    }
  }

  async #route(ctx: RequestContext): Promise<boolean> {
    const { method, path } = ctx;
    const { matched } = matchApiRoute(POLICY_API_ROUTES, method, path);
    // The guard checked the declared access already; this keeps the handlers safe on their own.
    if (matched?.route.access === 'admin' && ctx.principal && !ctx.principal.admin) throw registryError('DENIED', { message: 'administrator access required' });
    if (path === '/api/v1/policies' && method === 'GET') {
      sendJson(ctx.res, 200, await this.#store.listPolicies());
      return true;
    }
    const policy = /^\/api\/v1\/policies\/([^/]+)$/.exec(path);
    if (policy) {
      const name = decodeURIComponent(policy[1]!);
      if (method === 'GET') {
        const stored = await this.#store.getPolicy(name);
        if (!stored) throw registryError('NOT_FOUND', { message: `no policy ${name}` });
        sendJson(ctx.res, 200, stored);
      } else if (method === 'PUT') {
        const definition = validatePolicyDefinition({ ...(await this.#withBundle(await jsonBody(ctx))), name });
        const stored = await this.#store.putPolicy(definition);
        await this.#hooks.changed();
        sendJson(ctx.res, 201, { name: stored.name, version: stored.version, revision: stored.revision });
      } else if (method === 'DELETE') {
        if (!(await this.#store.deletePolicy(name))) throw registryError('NOT_FOUND', { message: `no policy ${name}` });
        await this.#hooks.changed();
        sendEmpty(ctx.res, 204);
      } else {
        return false;
      }
      return true;
    }
    if (path === '/api/v1/policy-simulations' && method === 'POST') {
      sendJson(ctx.res, 200, await this.#hooks.simulate(validatePolicyDefinition(await this.#withBundle(await jsonBody(ctx)))));
      return true;
    }
    if (path === '/api/v1/decisions' && method === 'GET') {
      await this.#hooks.flushDecisions();
      sendJson(ctx.res, 200, await this.#readableDecisions(ctx, decisionFilter(ctx.query)));
      return true;
    }
    if (path === '/api/v1/quarantine' && method === 'GET') {
      const readable = readableBy(ctx);
      sendJson(ctx.res, 200, await filterAsync(await this.#store.listQuarantined(), (entry) => readable(entry.repository)));
      return true;
    }
    const release = /^\/api\/v1\/quarantine\/(.+)$/.exec(path);
    if (release && method === 'DELETE') {
      const { repository, digest } = quarantinedArtifact(decodeURIComponent(release[1]!));
      if (!(await this.#hooks.releaseQuarantine(repository, digest))) throw registryError('NOT_FOUND', { message: `${repository}@${digest} is not quarantined` });
      sendEmpty(ctx.res, 204);
      return true;
    }
    const settings = /^\/api\/v1\/namespaces\/([^/]+)\/settings$/.exec(path);
    if (settings) {
      const namespace = decodeURIComponent(settings[1]!);
      if (method === 'GET') sendJson(ctx.res, 200, (await this.#store.getNamespaceSettings(namespace)) ?? { labels: {} });
      else if (method === 'PUT') {
        await this.#store.putNamespaceSettings(namespace, validateNamespaceSettings(await jsonBody(ctx)));
        await this.#hooks.changed();
        sendEmpty(ctx.res, 204);
      } else return false;
      return true;
    }
    return false;
  }

  /**
   * Decisions the caller may read: all for administrators (and without authentication), else those
   * about repositories it may pull. Asking for one repository it may not pull is refused outright,
   * whether or not anything was decided about it.
   */
  async #readableDecisions(ctx: RequestContext, filter: ReturnType<typeof decisionFilter>) {
    const readable = readableBy(ctx);
    if (!ctx.access || ctx.principal?.admin) return this.#store.listDecisions(filter);
    if (filter.repository !== undefined) {
      if (!(await readable(filter.repository))) throw registryError('DENIED', { message: `${ctx.principal?.subject ?? 'the caller'} may not pull ${filter.repository}` });
      return this.#store.listDecisions(filter);
    }
    const recent = await this.#store.listDecisions({ ...filter, limit: Math.max(filter.limit, SCOPED_DECISION_SCAN) });
    return (await filterAsync(recent, (decision) => readable(decision.repository))).slice(0, filter.limit);
  }

  /** A body naming `ociReference` gets the bundle's modules and data (its own `data` wins). */
  async #withBundle(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (body.ociReference === undefined) return body;
    if (typeof body.ociReference !== 'string') throw new PolicyDefinitionError('ociReference must be a string');
    if (body.modules !== undefined) throw new PolicyDefinitionError('give either modules or ociReference, not both');
    const bundle = await this.#hooks.loadBundle(body.ociReference);
    const data = typeof body.data === 'object' && body.data !== null ? body.data : {};
    return { ...body, modules: bundle.modules, data: { ...bundle.data, ...data }, origin: bundle.origin };
  }
}

/**
 * Whether the caller may read what concerns a repository: pull access, asked once per repository.
 * Records about no repository (admission of foreign images) are for administrators.
 */
function readableBy(ctx: RequestContext): (repository: string | undefined) => Promise<boolean> {
  const access = ctx.access;
  if (!access || ctx.principal?.admin) return async () => true;
  const answers = new Map<string, Promise<boolean>>();
  return (repository) => {
    if (repository === undefined) return Promise.resolve(false);
    let answer = answers.get(repository);
    if (!answer) answers.set(repository, (answer = access.can(repository, 'pull')));
    return answer;
  };
}

async function filterAsync<T>(items: readonly T[], keep: (item: T) => Promise<boolean>): Promise<T[]> {
  const kept: T[] = [];
  for (const item of items) if (await keep(item)) kept.push(item);
  return kept;
}

export function decisionFilter(query: URLSearchParams) {
  const point = query.get('point') ?? undefined;
  if (point !== undefined && !(ENFORCEMENT_POINTS as readonly string[]).includes(point)) throw new PolicyDefinitionError(`unknown point "${point}"`);
  const allowed = query.get('allowed');
  return {
    limit: Math.min(Math.max(Number(query.get('limit') ?? 100) || 100, 1), 1000),
    point: point as EnforcementPoint | undefined,
    allowed: allowed === null ? undefined : allowed === 'true',
    repository: query.get('repository') ?? undefined,
    policy: query.get('policy') ?? undefined,
  };
}

/** `repository@digest`, as the quarantine list shows it (the API path and `wharf policy quarantine release`). */
export function quarantinedArtifact(text: string): { repository: string; digest: string } {
  const at = text.lastIndexOf('@');
  const repository = text.slice(0, at);
  const digest = text.slice(at + 1);
  if (at <= 0 || repositoryNameProblem(repository) !== undefined || !parseDigest(digest)) {
    throw new PolicyDefinitionError(`"${text}" is not REPOSITORY@DIGEST (e.g. team-a/app@sha256:…)`);
  }
  return { repository, digest };
}

export function validateNamespaceSettings(input: unknown): NamespaceSettings {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new PolicyDefinitionError('settings must be an object');
  const body = input as Record<string, unknown>;
  const labels = body.labels ?? {};
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels) || !Object.values(labels).every((v) => typeof v === 'string')) {
    throw new PolicyDefinitionError('labels must be an object of strings');
  }
  const number = (key: string) => {
    const value = body[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new PolicyDefinitionError(`${key} must be a non-negative number`);
    return value;
  };
  const currency = body.currency;
  if (currency !== undefined && (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency))) throw new PolicyDefinitionError('currency must be an ISO 4217 code like EUR');
  return {
    labels: labels as Record<string, string>,
    quotaBytes: number('quotaBytes'), monthlyBudget: number('monthlyBudget'), pricePerGiBMonth: number('pricePerGiBMonth'),
    currency: currency as string | undefined,
  };
}

async function jsonBody(ctx: RequestContext): Promise<Record<string, unknown>> {
  const bytes = await readBody(ctx.req, MAX_POLICY_BODY);
  try {
    const value = JSON.parse(bytes.toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
  } catch {
    // reported below
  }
  throw new PolicyDefinitionError('the body must be a JSON object');
}
