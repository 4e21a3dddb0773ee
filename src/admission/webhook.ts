/**
 * The Kubernetes admission webhook (AdmissionReview v1):
 *   POST /admission/validate  — every container image (init and ephemeral too) of Pods and pod
 *        templates is judged by the policies bound to the `admission` point; images of this
 *        registry are resolved from tag to digest and come with their supply-chain facts.
 *   POST /admission/mutate    — images of this registry are pinned to the digest their tag has now.
 * Every answer is an AdmissionReview: malformed bodies and failures get `allowed: false` (or true
 * under failurePolicy Ignore) with the reason, never an HTTP error. The review is bounded in time.
 */
import { RegistryError, registryError } from '../distribution/errors.ts';
import type { ApiRoute } from '../server/api-routes.ts';
import type { RequestContext, Requester } from '../distribution/http.ts';
import { readBody, sendJson } from '../distribution/http.ts';
import type { RegistryDeps } from '../distribution/registry-deps.ts';
import { namespaceOf } from '../auth/access.ts';
import { artifactFacts, policyInput, type TrustSource } from '../policy/service/policy-input.ts';
import { workloadOf, type PolicyService } from '../policy/service/policy-service.ts';
import type { AdmissionTrace, PolicyStore } from '../policy/service/policy-store.ts';
import {
  AdmissionReviewError, admissionResponse, DEFAULT_MAX_BODY_BYTES, malformedReviewResponse, parseAdmissionReview,
  type AdmissionDecision, type AdmissionRequest,
} from './admission-review.ts';
import { isOnRegistry, parseImageReference, ImageReferenceError, type ImageReference } from './image-reference.ts';
import { pinImagesPatch, type ResolvedImage } from './json-patch.ts';
import { isWorkloadKind, workloadImages, WorkloadShapeError, type WorkloadImage } from './workload-images.ts';

/**
 * Admission resolves tags of every repository of the registry: the guard lets only administrators
 * and identities with the admission capability (auth/roles.ts) call it.
 */
export const ADMISSION_ROUTES = [
  { method: 'POST', path: '/admission/validate', access: 'admission' },
  { method: 'POST', path: '/admission/mutate', access: 'admission' },
] as const satisfies readonly ApiRoute[];

export interface AdmissionSettings {
  /** Hosts under which clusters pull from this registry. */
  readonly registryHosts: readonly string[];
  readonly timeoutMs: number;
  readonly failurePolicy: 'Fail' | 'Ignore';
}

export interface AdmissionDeps {
  readonly registry: RegistryDeps;
  readonly policies: PolicyService;
  readonly store: PolicyStore;
  readonly trust: TrustSource | undefined;
  readonly settings: AdmissionSettings;
}

/** Answers /admission/validate and /admission/mutate; false for other paths. */
export async function handleAdmission(ctx: RequestContext, deps: AdmissionDeps): Promise<boolean> {
  const mode = ctx.path === '/admission/validate' ? 'validate' : ctx.path === '/admission/mutate' ? 'mutate' : undefined;
  if (!mode || ctx.method !== 'POST') return false;
  // Checked by the guard before; kept here so that the handler is safe on its own.
  if (ctx.principal && !ctx.principal.admin && !ctx.principal.capabilities?.includes('admission')) {
    throw registryError('DENIED', { message: `${ctx.principal.subject} lacks the admission capability` });
  }
  let request: AdmissionRequest;
  try {
    request = parseAdmissionReview(await readBody(ctx.req, DEFAULT_MAX_BODY_BYTES));
  } catch (error) {
    const malformed = error instanceof RegistryError && error.code === 'SIZE_INVALID'
      ? new AdmissionReviewError(`the body is larger than ${DEFAULT_MAX_BODY_BYTES} bytes`)
      : error;
    if (!(malformed instanceof AdmissionReviewError)) throw error;
    sendJson(ctx.res, 200, malformedReviewResponse(malformed));
    return true;
  }
  const decision = await withinTime(deps.settings, () => (mode === 'validate' ? validate(request, deps) : mutate(request, deps)), (failure, message) => {
    if (mode === 'validate') deps.policies.recordAdmission(reviewTrace(request), reviewer(request), failure.allowed, message);
  });
  sendJson(ctx.res, 200, admissionResponse(request.uid, decision));
  return true;
}

async function validate(request: AdmissionRequest, deps: AdmissionDeps): Promise<AdmissionDecision> {
  const images = imagesOf(request);
  if (!Array.isArray(images)) {
    // A workload that cannot be read is refused before any policy runs: it is still an outcome to trace.
    if (!images.allowed) deps.policies.recordAdmission(reviewTrace(request), reviewer(request), false, images.message ?? 'refused');
    return images;
  }
  const denials: string[] = [];
  const warnings: string[] = [];
  // A workload often runs one image in several containers: look each image up once.
  const facts = new Map<string, Promise<ImageFacts | undefined>>();
  for (const image of images) {
    let lookup = facts.get(image.image);
    if (!lookup) facts.set(image.image, (lookup = imageFacts(parseImageReference(image.image), deps)));
    const resolved = await lookup;
    const input = policyInput('admission', {
      artifact: resolved?.artifact ?? null,
      trust: resolved?.trust,
      requester: { subject: `kubernetes:${request.userInfo.username ?? 'unknown'}`, kind: 'anonymous', claims: { ...request.userInfo }, address: null },
      namespace: resolved?.namespace ?? null,
      admission: {
        uid: request.uid, operation: request.operation, kind: request.kind, namespace: request.namespace ?? null, name: request.name ?? null,
        container: { name: image.containerName, image: image.image, type: image.type }, object: request.object,
      },
    });
    const target = resolved
      ? { repository: resolved.repository, namespace: namespaceOf(resolved.repository), artifactType: (resolved.artifact.artifactType as string | null) ?? undefined }
      : {};
    const requester = reviewer(request);
    const decision = await deps.policies.decide('admission', input, { ...target, digest: resolved?.digest }, requester);
    for (const violation of decision.violations) {
      const line = `${image.type} ${JSON.stringify(image.containerName)} (${image.image}): ${violation.msg}`;
      if (violation.mode === 'enforce') denials.push(line);
      else warnings.push(`audit: ${line}`);
    }
  }
  if (denials.length > 0) return { allowed: false, code: 403, reason: 'Forbidden', message: denials.join('; '), warnings };
  return { allowed: true, warnings };
}

/** The review as a whole, for decisions not about one container. */
function reviewTrace(request: AdmissionRequest): AdmissionTrace {
  return { uid: request.uid, operation: request.operation, workload: workloadOf(request.kind, request.namespace, request.name), container: null, image: null };
}

function reviewer(request: AdmissionRequest): Requester {
  return { subject: `kubernetes:${request.userInfo.username ?? 'unknown'}`, kind: 'anonymous' };
}

async function mutate(request: AdmissionRequest, deps: AdmissionDeps): Promise<AdmissionDecision> {
  const images = imagesOf(request);
  if (!Array.isArray(images)) return images;
  const pinned: ResolvedImage[] = [];
  for (const image of images) {
    const resolved = await resolve(parseImageReference(image.image), deps);
    if (resolved) pinned.push({ path: image.path, image: image.image, digest: resolved.digest });
  }
  return { allowed: true, patch: pinImagesPatch(pinned) };
}

/** The images to judge, or the decision when there are none to judge or they cannot be read. */
function imagesOf(request: AdmissionRequest): WorkloadImage[] | AdmissionDecision {
  if (request.object === null || !isWorkloadKind(request.kind.kind)) return { allowed: true };
  try {
    const images = workloadImages(request.kind.kind, request.object);
    for (const image of images) parseImageReference(image.image);
    return images;
  } catch (error) {
    if (error instanceof WorkloadShapeError || error instanceof ImageReferenceError) {
      return { allowed: false, code: 400, reason: 'BadRequest', message: `cannot read the ${request.kind.kind}: ${error.message}` };
    }
    throw error;
  }
}

interface ImageFacts {
  readonly repository: string;
  readonly digest: string;
  readonly artifact: Record<string, unknown>;
  readonly trust: Record<string, unknown> | undefined;
  readonly namespace: Record<string, unknown>;
}

/** What policies are told about an image of this registry; undefined for other registries. */
async function imageFacts(reference: ImageReference, deps: AdmissionDeps): Promise<ImageFacts | undefined> {
  const resolved = await resolve(reference, deps);
  if (!resolved) return undefined;
  const [trust, namespace] = await Promise.all([
    deps.trust?.trustOf(resolved.repository, resolved.digest),
    deps.policies.namespaceFacts(namespaceOf(resolved.repository)),
  ]);
  return { ...resolved, trust, namespace };
}

/** An image of this registry, resolved to the manifest its tag (or digest) names now. */
async function resolve(reference: ImageReference, deps: AdmissionDeps) {
  if (!deps.settings.registryHosts.some((host) => isOnRegistry(reference, host))) return undefined;
  const { metadata } = deps.registry;
  const manifest = reference.digest
    ? await metadata.getManifest(reference.repository, reference.digest)
    : await metadata.getManifestByTag(reference.repository, reference.tag ?? 'latest');
  if (!manifest) return undefined;
  const artifact = await artifactFacts(deps.registry, {
    repository: reference.repository, reference: reference.digest ?? reference.tag ?? 'latest', digest: manifest.digest,
    content: manifest.content, contentType: manifest.mediaType, pushedAt: manifest.pushedAt ?? new Date(),
  });
  return { repository: reference.repository, digest: manifest.digest, artifact };
}

/** Runs the review within the time budget; a failure or a timeout follows the failure policy. */
export async function withinTime(
  settings: AdmissionSettings, review: () => Promise<AdmissionDecision>, onFailure?: (decision: AdmissionDecision, message: string) => void,
): Promise<AdmissionDecision> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Error>((resolve) => {
    timer = setTimeout(() => resolve(new Error(`the review took longer than ${settings.timeoutMs} ms`)), settings.timeoutMs);
  });
  try {
    const outcome = await Promise.race([review().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))), timeout]);
    if (!(outcome instanceof Error)) return outcome;
    const ignore = settings.failurePolicy === 'Ignore';
    const message = `admission review failed (failurePolicy ${settings.failurePolicy}): ${outcome.message}`;
    const decision: AdmissionDecision = ignore ? { allowed: true, warnings: [message] } : { allowed: false, code: 500, reason: 'InternalError', message };
    onFailure?.(decision, message);
    return decision;
  } finally {
    clearTimeout(timer);
  }
}
