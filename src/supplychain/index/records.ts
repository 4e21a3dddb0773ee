/**
 * What the supply-chain index stores: attachments (a signature, attestation or SBOM tied to a
 * subject digest, found through the referrers API or a cosign tag), the evidence needed to verify
 * them again without reading blobs, verification results per trust version, SBOM components and
 * vulnerability findings.
 */
import type { ProvenanceSummary } from '../intoto/statement.ts';
import type { Verdict } from '../shared/verdict.ts';
import type { Finding } from '../vulns/vuln-database.ts';

export type AttachmentKind = 'signature' | 'attestation' | 'sbom' | 'other';
export type AttachmentFormat =
  | 'cosign-simple-signing' | 'sigstore-bundle' | 'notation-jws' | 'notation-cose' | 'dsse'
  | 'in-toto-statement' | 'cyclonedx' | 'spdx' | 'unknown';

/** Bytes and annotations a verifier needs; base64 so the record is plain JSON. */
export type Evidence =
  | { readonly type: 'cosign'; readonly payload: string; readonly signature: string; readonly certificate?: string; readonly chain?: string; readonly rekorBundle?: string }
  | { readonly type: 'sigstore-bundle'; readonly bundle: string }
  | { readonly type: 'notation'; readonly envelope: string; readonly mediaType: string }
  | { readonly type: 'dsse'; readonly envelope: string; readonly certificate?: string; readonly rekorBundle?: string }
  | { readonly type: 'none' };

export interface AttachmentDetail {
  readonly predicateType?: string;
  readonly provenance?: ProvenanceSummary;
  readonly sbom?: { readonly format: 'cyclonedx' | 'spdx'; readonly specVersion: string; readonly componentCount: number; readonly subject?: string };
  /** Why the attachment could not be read, when it could not. */
  readonly problem?: string;
}

export interface Attachment {
  readonly repository: string;
  /** The manifest that carries the attachment. */
  readonly manifestDigest: string;
  /** Which layer (or predicate) of that manifest; one manifest can carry several signatures. */
  readonly item: number;
  readonly subject: string;
  readonly kind: AttachmentKind;
  readonly format: AttachmentFormat;
  readonly via: 'referrer' | 'tag';
  readonly tag?: string;
  readonly artifactType?: string;
  readonly mediaType: string;
  readonly evidence: Evidence;
  readonly detail: AttachmentDetail;
}

export interface StoredVerdict extends Verdict {
  readonly manifestDigest: string;
  readonly item: number;
  readonly trustVersion: string;
  readonly skipped?: boolean;
}

/** A finding as stored: its severity flattened to the level and the score. */
export type StoredFinding = Omit<Finding, 'severity'> & {
  readonly severity: string;
  readonly score?: number;
};

export interface SbomRef {
  readonly repository: string;
  readonly manifestDigest: string;
  readonly item: number;
  readonly subject: string;
}
