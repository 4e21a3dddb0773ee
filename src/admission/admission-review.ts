/**
 * The `admission.k8s.io/v1` AdmissionReview envelope: reading a request body into a checked
 * {@link AdmissionRequest}, and building the response the API server expects. Any malformed
 * body becomes an {@link AdmissionReviewError} with a precise message — the webhook answers it
 * with `allowed: false` and that message, never a 500.
 */
import { encodePatch, type JsonPatchOperation } from './json-patch.ts';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';
export const ADMISSION_KIND = 'AdmissionReview';
/** Twice the API server's own 3 MiB request limit: an object plus its old version fit. */
export const DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024;

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
const OPERATIONS: readonly Operation[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface GroupVersionResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
}

export interface UserInfo {
  readonly username?: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: GroupVersionKind;
  readonly resource?: GroupVersionResource;
  readonly subResource?: string;
  readonly requestKind?: GroupVersionKind;
  readonly requestResource?: GroupVersionResource;
  readonly name?: string;
  readonly namespace?: string;
  readonly operation: Operation;
  readonly userInfo: UserInfo;
  /** The object as it would be stored; null for DELETE and CONNECT. */
  readonly object: Record<string, unknown> | null;
  /** The stored object for UPDATE and DELETE, else null. */
  readonly oldObject: Record<string, unknown> | null;
  readonly dryRun: boolean;
  readonly options?: Record<string, unknown>;
}

/** A body that is not a well-formed AdmissionReview v1 request. */
export class AdmissionReviewError extends Error {
  /** The request uid when it could be read, so the response can still echo it. */
  readonly uid: string | undefined;

  constructor(message: string, uid?: string) {
    super(message);
    this.name = 'AdmissionReviewError';
    this.uid = uid;
  }
}

export interface ParseOptions {
  maxBodyBytes?: number;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value} (${JSON.stringify(value).slice(0, 60)})`;
}

/**
 * Parses and checks a request body (text or bytes). Throws only {@link AdmissionReviewError}.
 */
export function parseAdmissionReview(body: string | Uint8Array, options: ParseOptions = {}): AdmissionRequest {
  try {
    return parseChecked(body, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  } catch (e) {
    if (e instanceof AdmissionReviewError) throw e;
    // Anything else (a RangeError from a pathological document, …) still gets a message.
    throw new AdmissionReviewError(`unreadable AdmissionReview: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function parseChecked(body: string | Uint8Array, maxBytes: number): AdmissionRequest {
  const size = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
  if (size === 0) throw new AdmissionReviewError('empty request body: expected an AdmissionReview JSON document');
  if (size > maxBytes) throw new AdmissionReviewError(`request body of ${size} bytes exceeds the limit of ${maxBytes} bytes`);
  const text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: false }).decode(body);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (e) {
    throw new AdmissionReviewError(`request body is not JSON: ${(e as Error).message}`);
  }
  if (!isObject(document)) throw new AdmissionReviewError(`an AdmissionReview must be a JSON object, got ${describe(document)}`);
  const request = document['request'];
  // Read the uid first so that every later error can still be answered to the right request.
  const uid = isObject(request) && typeof request['uid'] === 'string' && request['uid'] !== '' ? request['uid'] : undefined;
  const fail = (message: string): never => {
    throw new AdmissionReviewError(message, uid);
  };
  if (document['apiVersion'] !== ADMISSION_API_VERSION) {
    fail(`unsupported apiVersion ${describe(document['apiVersion'])}: expected "${ADMISSION_API_VERSION}" (set admissionReviewVersions: ["v1"] in the webhook configuration)`);
  }
  if (document['kind'] !== ADMISSION_KIND) fail(`kind must be "${ADMISSION_KIND}", got ${describe(document['kind'])}`);
  if (!isObject(request)) return fail(`request must be an object, got ${describe(request)}`);
  if (uid === undefined) fail(`request.uid must be a non-empty string, got ${describe(request['uid'])}`);

  const operation = request['operation'];
  if (!OPERATIONS.includes(operation as Operation)) fail(`request.operation must be one of ${OPERATIONS.join(', ')}, got ${describe(operation)}`);
  const op = operation as Operation;
  const object = optionalObject(request, 'object', fail);
  const oldObject = optionalObject(request, 'oldObject', fail);
  if ((op === 'CREATE' || op === 'UPDATE') && object === null) fail(`request.object is required for ${op}, got ${describe(request['object'])}`);
  if (op === 'UPDATE' && oldObject === null) fail(`request.oldObject is required for UPDATE, got ${describe(request['oldObject'])}`);
  const dryRun = request['dryRun'] ?? false;
  if (typeof dryRun !== 'boolean') fail(`request.dryRun must be a boolean, got ${describe(dryRun)}`);

  return {
    uid: uid as string,
    kind: groupVersionKind(request['kind'], 'request.kind', fail),
    ...(request['resource'] !== undefined ? { resource: groupVersionResource(request['resource'], 'request.resource', fail) } : {}),
    ...optionalString(request, 'subResource', fail),
    ...(request['requestKind'] !== undefined ? { requestKind: groupVersionKind(request['requestKind'], 'request.requestKind', fail) } : {}),
    ...(request['requestResource'] !== undefined ? { requestResource: groupVersionResource(request['requestResource'], 'request.requestResource', fail) } : {}),
    ...optionalString(request, 'name', fail),
    ...optionalString(request, 'namespace', fail),
    operation: op,
    userInfo: userInfo(request['userInfo'], fail),
    object,
    oldObject,
    dryRun: dryRun as boolean,
    ...(isObject(request['options']) ? { options: request['options'] } : {}),
  };
}

type Fail = (message: string) => never;

function optionalObject(request: Json, field: string, fail: Fail): Json | null {
  const value = request[field];
  if (value === undefined || value === null) return null;
  if (!isObject(value)) return fail(`request.${field} must be an object, got ${describe(value)}`);
  return value;
}

function optionalString(request: Json, field: string, fail: Fail): Record<string, string> {
  const value = request[field];
  if (value === undefined || value === null || value === '') return {};
  if (typeof value !== 'string') return fail(`request.${field} must be a string, got ${describe(value)}`);
  return { [field]: value };
}

function groupVersionKind(value: unknown, where: string, fail: Fail): GroupVersionKind {
  if (!isObject(value)) return fail(`${where} must be an object {group, version, kind}, got ${describe(value)}`);
  const group = value['group'] ?? '';
  const { version, kind } = value;
  if (typeof group !== 'string') fail(`${where}.group must be a string, got ${describe(group)}`);
  if (typeof version !== 'string' || version === '') fail(`${where}.version must be a non-empty string, got ${describe(version)}`);
  if (typeof kind !== 'string' || kind === '') fail(`${where}.kind must be a non-empty string, got ${describe(kind)}`);
  return { group: group as string, version: version as string, kind: kind as string };
}

function groupVersionResource(value: unknown, where: string, fail: Fail): GroupVersionResource {
  if (!isObject(value)) return fail(`${where} must be an object {group, version, resource}, got ${describe(value)}`);
  const group = value['group'] ?? '';
  const { version, resource } = value;
  if (typeof group !== 'string') fail(`${where}.group must be a string, got ${describe(group)}`);
  if (typeof version !== 'string') fail(`${where}.version must be a string, got ${describe(version)}`);
  if (typeof resource !== 'string' || resource === '') fail(`${where}.resource must be a non-empty string, got ${describe(resource)}`);
  return { group: group as string, version: version as string, resource: resource as string };
}

function userInfo(value: unknown, fail: Fail): UserInfo {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) return fail(`request.userInfo must be an object, got ${describe(value)}`);
  const out: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> } = {};
  for (const field of ['username', 'uid'] as const) {
    const v = value[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') fail(`request.userInfo.${field} must be a string, got ${describe(v)}`);
    out[field] = v as string;
  }
  const groups = value['groups'];
  if (groups !== undefined && groups !== null) {
    if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) fail('request.userInfo.groups must be an array of strings');
    out.groups = groups as string[];
  }
  const extra = value['extra'];
  if (extra !== undefined && extra !== null) {
    if (!isObject(extra) || !Object.values(extra).every((v) => Array.isArray(v) && v.every((s) => typeof s === 'string'))) {
      fail('request.userInfo.extra must map names to arrays of strings');
    }
    out.extra = extra as Record<string, string[]>;
  }
  return out;
}

// ---- the response ------------------------------------------------------------------------

export interface AdmissionDecision {
  readonly allowed: boolean;
  /** HTTP-style code of the status: 403 when denied by policy, 400 for a malformed review. */
  readonly code?: number;
  readonly message?: string;
  /** A Kubernetes StatusReason such as `Forbidden`, `BadRequest`, `InternalError`. */
  readonly reason?: string;
  /** Shown by kubectl; for audit-mode findings and other advice. */
  readonly warnings?: readonly string[];
  /** Only sent when allowed and non-empty. */
  readonly patch?: readonly JsonPatchOperation[];
}

export interface AdmissionResponseEnvelope {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: typeof ADMISSION_KIND;
  response: {
    uid: string;
    allowed: boolean;
    status?: { code: number; message: string; reason?: string };
    warnings?: string[];
    patchType?: 'JSONPatch';
    patch?: string;
  };
}

/** Warnings become HTTP Warning headers: one printable line each. */
function cleanWarning(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

export function admissionResponse(uid: string, decision: AdmissionDecision): AdmissionResponseEnvelope {
  const response: AdmissionResponseEnvelope['response'] = { uid, allowed: decision.allowed };
  if (!decision.allowed || decision.message !== undefined) {
    const code = decision.code ?? (decision.allowed ? 200 : 403);
    const message = decision.message ?? (decision.allowed ? 'allowed' : 'denied by policy');
    const reason = decision.reason ?? (decision.allowed ? undefined : code === 400 ? 'BadRequest' : code >= 500 ? 'InternalError' : 'Forbidden');
    response.status = { code, message, ...(reason !== undefined ? { reason } : {}) };
  }
  const warnings = (decision.warnings ?? []).map(cleanWarning).filter((w) => w !== '');
  if (warnings.length) response.warnings = warnings;
  if (decision.allowed && decision.patch && decision.patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = encodePatch(decision.patch);
  }
  return { apiVersion: ADMISSION_API_VERSION, kind: ADMISSION_KIND, response };
}

/**
 * The answer to a body that could not be read: denied with the reason. The uid is echoed when
 * it was readable; otherwise the API server will reject the answer and apply the webhook's
 * failurePolicy, which is the best that can be done for a request it did not send.
 */
export function malformedReviewResponse(error: AdmissionReviewError): AdmissionResponseEnvelope {
  return admissionResponse(error.uid ?? '', { allowed: false, code: 400, reason: 'BadRequest', message: `malformed AdmissionReview: ${error.message}` });
}
