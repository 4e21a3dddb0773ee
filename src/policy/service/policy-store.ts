/**
 * Policies as managed, versioned objects, the decision log, quarantined artifacts and the
 * namespace facts that policies read (labels, quota, budget).
 */
export const ENFORCEMENT_POINTS = ['push', 'pull', 'admission'] as const;
export type EnforcementPoint = (typeof ENFORCEMENT_POINTS)[number];
export type PolicyMode = 'enforce' | 'audit';

/** Where a policy applies. Each list holds glob patterns (`*` = any run of characters); empty = everywhere. */
export interface PolicyBinding {
  readonly points: readonly EnforcementPoint[];
  readonly namespaces: readonly string[];
  readonly repositories: readonly string[];
  readonly artifactTypes: readonly string[];
}

export interface PolicyDefinition {
  readonly name: string;
  /** Rego package holding `deny` / `quarantine`, e.g. `wharf.policies.no_latest`. */
  readonly package: string;
  readonly modules: readonly { readonly file: string; readonly source: string }[];
  /** Data documents, merged under `data` (e.g. `{"wharf": {"params": {...}}}`). */
  readonly data: Readonly<Record<string, unknown>>;
  readonly binding: PolicyBinding;
  readonly mode: PolicyMode;
  readonly description?: string;
  /** Where it came from, e.g. `oci:team-a/policies@sha256:…` or `cli`. */
  readonly origin?: string;
}

export interface StoredPolicy extends PolicyDefinition {
  readonly version: number;
  /** sha256 of the content: the bundle revision in decision logs. */
  readonly revision: string;
  readonly updatedAt: Date;
}

export interface Violation {
  readonly msg: string;
  readonly code?: string;
  readonly details?: unknown;
}

/** Which admission review, workload and container an admission decision was about. */
export interface AdmissionTrace {
  readonly uid: string;
  readonly operation: string;
  readonly workload: { readonly apiVersion: string; readonly kind: string; readonly namespace: string | null; readonly name: string | null };
  /** Null when the review was decided as a whole (an unreadable workload, a failed review). */
  readonly container: { readonly name: string; readonly type: string } | null;
  /** The image as the workload names it. */
  readonly image: string | null;
}

export interface DecisionRecord {
  readonly id: string;
  readonly time: Date;
  readonly point: EnforcementPoint;
  readonly repository?: string;
  readonly digest?: string;
  readonly requester: string;
  readonly allowed: boolean;
  /** `name@version:revision` of every policy evaluated. */
  readonly policies: readonly string[];
  /** Query paths evaluated, e.g. `data.wharf.policies.no_latest.deny`. */
  readonly paths: readonly string[];
  readonly inputHash: string;
  readonly result: { readonly violations: readonly (Violation & { policy: string; mode: PolicyMode })[]; readonly quarantine: readonly (Violation & { policy: string })[]; readonly errors: readonly string[] };
  readonly durationMs: number;
  /** Admission decisions only: the review, workload and container, so an entry can be traced back. */
  readonly admission?: AdmissionTrace;
}

export interface NamespaceSettings {
  readonly labels: Readonly<Record<string, string>>;
  readonly quotaBytes?: number;
  readonly monthlyBudget?: number;
  readonly currency?: string;
  readonly pricePerGiBMonth?: number;
}

/**
 * The store could not do what was asked. The message names the operation in the store's own words;
 * the database's text stays in `cause`, for the server log, never for the user.
 */
export class PolicyStoreError extends Error {
  /** `conflict`: the change clashes with what is stored; `unavailable`: the database failed or is busy. */
  readonly kind: 'conflict' | 'unavailable';
  constructor(kind: 'conflict' | 'unavailable', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}

export interface PolicyStore {
  migrate(): Promise<void>;
  close(): Promise<void>;

  /** Stores a new version of a policy (version 1 when new). */
  putPolicy(definition: PolicyDefinition): Promise<StoredPolicy>;
  getPolicy(name: string): Promise<StoredPolicy | undefined>;
  listPolicies(): Promise<StoredPolicy[]>;
  /** Removes a policy and the quarantine reasons it gave; an artifact left with none is released. */
  deletePolicy(name: string): Promise<boolean>;
  /** Grows with every change to policies or namespace settings: what caches compare against. */
  generation(): Promise<number>;

  /** Appends decisions in one transaction. */
  appendDecisions(records: readonly DecisionRecord[]): Promise<void>;
  listDecisions(filter: { limit: number; point?: EnforcementPoint; allowed?: boolean; repository?: string; policy?: string }): Promise<DecisionRecord[]>;

  setQuarantine(repository: string, digest: string, reasons: readonly Violation[]): Promise<void>;
  clearQuarantine(repository: string, digest: string): Promise<void>;
  /** An administrator's release: clears the quarantine and bumps the generation, so every process sees it. */
  releaseQuarantine(repository: string, digest: string): Promise<boolean>;
  getQuarantine(repository: string, digest: string): Promise<{ reasons: Violation[]; since: Date } | undefined>;
  listQuarantined(): Promise<{ repository: string; digest: string; reasons: Violation[]; since: Date }[]>;

  getNamespaceSettings(namespace: string): Promise<NamespaceSettings | undefined>;
  putNamespaceSettings(namespace: string, settings: NamespaceSettings): Promise<void>;
}
