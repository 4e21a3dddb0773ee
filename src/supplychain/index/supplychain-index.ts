/**
 * The supply-chain index: its own store, separate from the registry metadata, so the feature can
 * be rebuilt or dropped without touching content. Every record is tied to a subject digest in a
 * repository; removing a manifest removes what it carried and what was attached to it.
 */
import type { OsvRecord } from '../vulns/osv-record.ts';
import type { SbomComponent } from '../sbom/sbom-model.ts';
import type { Verdict } from '../shared/verdict.ts';
import type { ModelFacts } from '../../content/models/inspect-model.ts';
import type { Attachment, SbomRef, StoredFinding, StoredVerdict } from './records.ts';

export interface StoredTrust {
  readonly version: string;
  readonly document: string;
  readonly source: string;
  readonly updatedAt: Date;
}

export interface SupplyChainIndex {
  close(): void;

  /** Replaces everything indexed for one manifest (its attachments, their SBOM components). */
  putAttachments(repository: string, manifestDigest: string, attachments: readonly Attachment[], components: ReadonlyMap<number, readonly SbomComponent[]>): void;
  /** Forgets a deleted manifest: what it carried and what was attached to it. Returns affected subjects. */
  removeManifest(repository: string, digest: string): string[];
  /** Forgets attachments found through a cosign tag that was deleted. Returns affected subjects. */
  removeTag(repository: string, tag: string): string[];
  attachmentsOf(repository: string, subject: string): Attachment[];
  /** Every signature and attestation, for re-verification after a trust change. */
  verifiableAttachments(): Attachment[];

  putVerdict(attachment: Attachment, trustVersion: string, verdict: Verdict & { skipped?: boolean }): void;
  verdictsOf(repository: string, subject: string, trustVersion: string): StoredVerdict[];
  /** Drops results of trust versions other than `current`. */
  pruneVerdicts(current: string): void;

  getTrust(): StoredTrust | undefined;
  putTrust(version: string, document: string, source: string): void;
  getSetting(name: string): string | undefined;
  putSetting(name: string, value: string): void;

  /** Adds or replaces OSV records; returns how many were new or changed. */
  putOsvRecords(records: readonly OsvRecord[]): number;
  osvRecords(): OsvRecord[];
  osvRecordCount(): number;

  sbomComponents(ref: SbomRef): SbomComponent[];
  /** SBOMs containing a component of one of these package keys. */
  sbomsWithPackages(keys: readonly string[]): SbomRef[];
  allSboms(): SbomRef[];
  putFindings(ref: SbomRef, findings: readonly StoredFinding[]): void;
  findingsOf(repository: string, subject: string): StoredFinding[];

  /** What a model artifact's config and headers said (JSON of ModelFacts); removed with the manifest. */
  putModelFacts(repository: string, manifestDigest: string, facts: ModelFacts): void;
  modelFactsOf(repository: string, manifestDigest: string): ModelFacts | undefined;
}
