/**
 * The one-answer document for an artifact: signatures (who, verified, why), attestations (what
 * predicates, built by whom from which source), SBOM summary, vulnerability counts with the worst
 * findings. Built from stored records only: serving it never verifies anything.
 */
import type { ModelFacts } from '../../content/models/inspect-model.ts';
import type { Attachment, StoredFinding, StoredVerdict } from '../index/records.ts';
import { licenseSummary, type SbomComponent } from '../sbom/sbom-model.ts';
import { SEVERITY_ORDER, type SeverityLevel } from '../vulns/severity.ts';

export interface TrustDocumentInput {
  readonly repository: string;
  readonly digest: string;
  /** Whether the subject manifest itself is in the repository (attachments may arrive first). */
  readonly present: boolean;
  readonly trustVersion: string;
  readonly attachments: readonly Attachment[];
  readonly verdicts: ReadonlyMap<string, StoredVerdict>;
  readonly sbomComponents: ReadonlyMap<string, readonly SbomComponent[]>;
  readonly findings: readonly StoredFinding[];
  readonly worstFindings: number;
  readonly vulnDatabaseRecords: number;
  /** What Wharf read from a model artifact (config, headers, pickle imports); absent for other artifacts. */
  readonly model?: ModelFacts | undefined;
}

export function attachmentKey(attachment: Pick<Attachment, 'manifestDigest' | 'item'>): string {
  return `${attachment.manifestDigest}#${attachment.item}`;
}

const SIGNATURE_TYPES: Record<string, string> = {
  'cosign-simple-signing': 'cosign', 'sigstore-bundle': 'sigstore-bundle', 'notation-jws': 'notary-jws', 'notation-cose': 'notary-cose', dsse: 'dsse',
};

function verdictFields(verdict: StoredVerdict | undefined) {
  if (!verdict) return { verified: false, reason: 'not verified yet' };
  return {
    verified: verdict.verified, reason: verdict.reason, ...(verdict.skipped ? { skipped: true } : {}),
    ...(verdict.signer ? { signer: verdict.signer } : {}), ...(verdict.issuer ? { issuer: verdict.issuer } : {}),
    ...(verdict.warnings?.length ? { warnings: verdict.warnings } : {}),
  };
}

export function buildTrustDocument(input: TrustDocumentInput): Record<string, unknown> {
  const signatures = [], attestations = [], sboms = [];
  const components: SbomComponent[] = [];
  for (const attachment of input.attachments) {
    const verdict = input.verdicts.get(attachmentKey(attachment));
    const where = { attachment: attachment.manifestDigest, via: attachment.via, ...(attachment.tag ? { tag: attachment.tag } : {}) };
    if (attachment.kind === 'signature') {
      signatures.push({ type: SIGNATURE_TYPES[attachment.format] ?? attachment.format, ...where, ...verdictFields(verdict) });
    } else if (attachment.kind === 'attestation') {
      const provenance = attachment.detail.provenance;
      attestations.push({
        predicateType: attachment.detail.predicateType ?? null, format: attachment.format, ...where,
        ...(provenance ? { slsaVersion: provenance.slsaVersion, builder: provenance.builderId ?? null, buildType: provenance.buildType ?? null, sourceRepository: provenance.sourceRepository ?? null, sourceRevision: provenance.sourceRevision ?? null } : {}),
        ...(attachment.evidence.type === 'none' ? { verified: false, reason: attachment.detail.problem ?? 'unsigned in-toto statement' } : verdictFields(verdict)),
      });
    }
    if (attachment.detail.sbom || (attachment.kind === 'sbom')) {
      sboms.push({ ...where, format: attachment.detail.sbom?.format ?? attachment.format, specVersion: attachment.detail.sbom?.specVersion ?? null,
        components: attachment.detail.sbom?.componentCount ?? 0, ...(attachment.detail.problem ? { problem: attachment.detail.problem } : {}) });
      components.push(...(input.sbomComponents.get(attachmentKey(attachment)) ?? []));
    }
  }
  return {
    repository: input.repository,
    digest: input.digest,
    present: input.present,
    trustVersion: input.trustVersion,
    signed: signatures.some((signature) => signature.verified),
    signatures,
    attestations,
    sbom: {
      count: sboms.length,
      formats: [...new Set(sboms.map((sbom) => `${sbom.format}${sbom.specVersion ? ` ${sbom.specVersion}` : ''}`))],
      componentCount: components.length,
      /** Distinct components (by purl, else name@version): nested trees and several SBOMs repeat some. */
      uniqueComponents: new Set(components.map((component) => component.purl ?? `${component.name}@${component.version ?? ''}`)).size,
      licenses: licenseSummary(components, 20),
      documents: sboms,
    },
    vulnerabilities: vulnerabilitySummary(input.findings, input.worstFindings, input.vulnDatabaseRecords),
    model: input.model ?? null,
  };
}

/** Findings listed one by one in the document; counts always cover all of them. */
const MAX_FINDINGS = 5000;

function vulnerabilitySummary(findings: readonly StoredFinding[], worst: number, records: number) {
  const unique = new Map<string, StoredFinding>();
  for (const finding of findings) unique.set(`${finding.purl}\u0000${finding.vulnerabilityId}`, finding);
  const counts = Object.fromEntries(SEVERITY_ORDER.map((level) => [level, 0])) as Record<SeverityLevel, number>;
  for (const finding of unique.values()) counts[finding.severity as SeverityLevel] = (counts[finding.severity as SeverityLevel] ?? 0) + 1;
  const rank = (finding: StoredFinding) => SEVERITY_ORDER.indexOf(finding.severity as SeverityLevel);
  const sorted = [...unique.values()].sort((a, b) => rank(a) - rank(b) || (b.score ?? 0) - (a.score ?? 0) || a.vulnerabilityId.localeCompare(b.vulnerabilityId));
  return {
    databaseRecords: records,
    total: unique.size,
    counts,
    // Every finding, for policies that judge each one (e.g. how long a critical one has been known).
    findings: sorted.slice(0, MAX_FINDINGS).map((finding) => ({
      id: finding.vulnerabilityId, severity: finding.severity, package: finding.purl, component: finding.component, version: finding.version,
      published: finding.published ?? null, fixed: finding.fixed ?? null,
    })),
    worst: sorted.slice(0, worst).map((finding) => ({
      id: finding.vulnerabilityId, aliases: finding.aliases, severity: finding.severity, ...(finding.score !== undefined ? { score: finding.score } : {}),
      purl: finding.purl, component: finding.component, version: finding.version, ...(finding.summary ? { summary: finding.summary } : {}),
    })),
  };
}
