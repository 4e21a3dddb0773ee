/**
 * The supply-chain feature's state and work: indexing pushed manifests, verifying attachments
 * against the current trust (results stored per trust version), re-verifying when trust changes,
 * matching SBOMs against the vulnerability database (incrementally after an import), and serving
 * the trust document from a cache that every change invalidates.
 */
import { readFile } from 'node:fs/promises';
import type { BlobStore } from '../storage/blobs/blob-store.ts';
import type { MetadataStore } from '../storage/metadata/metadata-store.ts';
import type { SupplyChainConfig } from '../config/supplychain-keys.ts';
import type { SupplyChainIndex } from './index/supplychain-index.ts';
import type { Attachment, SbomRef, StoredFinding, StoredVerdict } from './index/records.ts';
import { recogniseManifest, type PushedManifest } from './ingest/recognise.ts';
import { verifyAttachment } from './verify/verify-attachment.ts';
import { emptyTrust, parseTrustBytes, parseTrustDocument, type TrustConfig } from './trust/trust-config.ts';
import { VulnDatabase } from './vulns/vuln-database.ts';
import type { OsvRecord } from './vulns/osv-record.ts';
import { attachmentKey, buildTrustDocument } from './api/trust-document.ts';
import type { SbomComponent } from './sbom/sbom-model.ts';
import { parseJson } from './shared/json.ts';
import { inspectModel, modelFamilyOf } from '../content/models/inspect-model.ts';
import { blobStoreRangeRead } from '../content/models/blob-range.ts';

const MAX_CACHED_DOCUMENTS = 10_000;

export interface ServiceLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export class SupplyChainService {
  readonly index: SupplyChainIndex;
  readonly #metadata: MetadataStore;
  readonly #blobs: BlobStore;
  readonly #settings: SupplyChainConfig;
  readonly #logger: ServiceLogger;
  readonly #vulns = new VulnDatabase();
  readonly #documents = new Map<string, TrustEntry>();
  #trust: TrustConfig = emptyTrust();
  #queue: Promise<void> = Promise.resolve();

  constructor(index: SupplyChainIndex, registry: { metadata: MetadataStore; blobs: BlobStore }, settings: SupplyChainConfig, logger: ServiceLogger) {
    this.index = index;
    this.#metadata = registry.metadata;
    this.#blobs = registry.blobs;
    this.#settings = settings;
    this.#logger = logger;
  }

  get trust(): TrustConfig { return this.#trust; }
  get vulnRecordCount(): number { return this.#vulns.size; }

  /** Loads stored trust and vulnerability records; applies the trust file when it changed. */
  async start(): Promise<void> {
    const stored = this.index.getTrust();
    if (stored) {
      const parsed = parseTrustBytes(stored.document);
      if (parsed.ok) this.#trust = parsed.trust; else this.#logger.error({ reason: parsed.reason }, 'stored trust configuration is invalid; using none');
    }
    for (const record of this.index.osvRecords()) this.#vulns.upsert(record);
    if (this.#settings.trustFile) {
      const text = await readFile(this.#settings.trustFile, 'utf8');
      const parsed = parseTrustBytes(text);
      if (!parsed.ok) throw new Error(`supplychain.trustFile ${this.#settings.trustFile}: ${parsed.reason}`);
      if (this.index.getSetting('trustFileVersion') !== parsed.trust.version) {
        this.index.putSetting('trustFileVersion', parsed.trust.version);
        this.#applyTrust(parsed.trust, `file:${this.#settings.trustFile}`);
      }
    }
  }

  /** Runs work after everything queued before it; errors are logged, never thrown at the emitter. */
  enqueue(label: string, work: () => Promise<void> | void): Promise<void> {
    const next = this.#queue.then(work).catch((error: unknown) => this.#logger.error({ err: error, work: label }, 'supply-chain work failed'));
    this.#queue = next;
    return next;
  }

  /** Resolves when everything queued so far is done (tests, shutdown). */
  idle(): Promise<void> {
    return this.#queue;
  }

  async indexManifest(pushed: PushedManifest): Promise<void> {
    // Signatures may arrive before their subject; those over the manifest bytes can only be checked now.
    const waiting = this.index.attachmentsOf(pushed.repository, pushed.digest);
    for (const attachment of waiting) await this.#verifyAndStore(attachment);
    if (waiting.length > 0) this.#invalidate(pushed.repository, pushed.digest);
    await this.#indexModel(pushed);
    const limit = this.#settings.attachments.maxBlobBytes;
    const recognised = await recogniseManifest(pushed, {
      sbomLimits: this.#settings.sbom,
      maxLayers: this.#settings.attachments.maxLayers,
      readBlob: (digest, size) => this.#readBlob(pushed.repository, digest, Math.max(limit, this.#settings.sbom.maxBytes), size),
    });
    // cosign re-pushes its tag with one more layer per signature: the tag's previous manifest is superseded.
    if (pushed.tag) for (const subject of this.index.removeTag(pushed.repository, pushed.tag)) this.#invalidate(pushed.repository, subject);
    if (recognised.attachments.length === 0) return;
    this.index.putAttachments(pushed.repository, pushed.digest, recognised.attachments, recognised.components);
    for (const attachment of recognised.attachments) await this.#verifyAndStore(attachment);
    for (const [item, components] of recognised.components) {
      const subject = recognised.attachments[0]!.subject;
      this.#storeFindings({ repository: pushed.repository, manifestDigest: pushed.digest, item, subject }, components);
    }
    for (const subject of new Set(recognised.attachments.map((attachment) => attachment.subject))) this.#invalidate(pushed.repository, subject);
  }

  /** A model artifact's facts, read through ranged reads of its config and file headers. */
  async #indexModel(pushed: PushedManifest): Promise<void> {
    const parsed = parseJson(pushed.content);
    if (!parsed.ok || modelFamilyOf(parsed.value) === undefined) return;
    const read = blobStoreRangeRead(this.#blobs, (digest) => this.#metadata.linkedBlobSize(pushed.repository, digest), `repository ${pushed.repository}`);
    const facts = await inspectModel(parsed.value, read);
    if (!facts) return;
    this.index.putModelFacts(pushed.repository, pushed.digest, facts);
    this.#invalidate(pushed.repository, pushed.digest);
    if (facts.findings.length > 0) this.#logger.warn({ repository: pushed.repository, digest: pushed.digest, findings: facts.findings.length }, 'model files run code when loaded');
  }

  removeManifest(repository: string, digest: string): void {
    for (const subject of this.index.removeManifest(repository, digest)) this.#invalidate(repository, subject);
    this.#invalidate(repository, digest);
  }

  removeTag(repository: string, tag: string): void {
    for (const subject of this.index.removeTag(repository, tag)) this.#invalidate(repository, subject);
  }

  async #readBlob(repository: string, digest: string, limit: number, declaredSize: number): Promise<Buffer | string> {
    const size = await this.#metadata.linkedBlobSize(repository, digest);
    if (size === undefined) return `blob ${digest} is not in repository ${repository}`;
    if (size > limit || declaredSize > limit) return `blob ${digest} is ${size} bytes, over the limit of ${limit}`;
    const stream = await this.#blobs.open(digest);
    if (!stream) return `blob ${digest} is missing from storage`;
    const chunks: Buffer[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  async #verifyAndStore(attachment: Attachment): Promise<StoredVerdict | undefined> {
    if (attachment.kind !== 'signature' && attachment.kind !== 'attestation') return undefined;
    const content = await this.#subjectContent(attachment.repository, attachment.subject);
    const verdict = verifyAttachment(attachment, this.#trust, { ...(content ? { manifest: content } : {}), ...(this.#settings.registryHost ? { registryHost: this.#settings.registryHost } : {}) });
    this.index.putVerdict(attachment, this.#trust.version, verdict);
    return { ...verdict, manifestDigest: attachment.manifestDigest, item: attachment.item, trustVersion: this.#trust.version };
  }

  /**
   * The bytes a message signature is over: the subject manifest, or — for a signed file stored as a
   * blob of the repository (a Sigstore bundle about a plain artifact) — that blob, within the limit.
   */
  async #subjectContent(repository: string, digest: string): Promise<Uint8Array | undefined> {
    const manifest = await this.#metadata.getManifest(repository, digest);
    if (manifest) return manifest.content;
    const blob = await this.#readBlob(repository, digest, this.#settings.attachments.maxBlobBytes, 0);
    return typeof blob === 'string' ? undefined : blob;
  }

  #storeFindings(ref: SbomRef, components: readonly SbomComponent[]): void {
    const findings: StoredFinding[] = this.#vulns.match(components).map((finding) => ({
      purl: finding.purl, component: finding.component, version: finding.version, vulnerabilityId: finding.vulnerabilityId,
      aliases: finding.aliases, ...(finding.summary ? { summary: finding.summary } : {}), severity: finding.severity.level,
      ...(finding.severity.score !== undefined ? { score: finding.severity.score } : {}),
      ...(finding.published ? { published: finding.published } : {}), ...(finding.fixed ? { fixed: finding.fixed } : {}),
    }));
    this.index.putFindings(ref, findings);
  }

  /** Replaces the trust configuration; re-verification runs in the background queue. */
  replaceTrust(document: unknown, source: string): { ok: true; version: string; changed: boolean } | { ok: false; reason: string } {
    const parsed = parseTrustDocument(document);
    if (!parsed.ok) return parsed;
    if (parsed.trust.version === this.#trust.version) return { ok: true, version: parsed.trust.version, changed: false };
    this.#applyTrust(parsed.trust, source);
    return { ok: true, version: parsed.trust.version, changed: true };
  }

  #applyTrust(trust: TrustConfig, source: string): void {
    this.index.putTrust(trust.version, JSON.stringify(trust.document), source);
    this.#trust = trust;
    this.#documents.clear();
    void this.enqueue('re-verify after trust change', () => this.#reverifyAll(trust.version));
  }

  async #reverifyAll(version: string): Promise<void> {
    let count = 0;
    for (const attachment of this.index.verifiableAttachments()) {
      if (this.#trust.version !== version) return; // a newer change superseded this run
      await this.#verifyAndStore(attachment);
      count++;
    }
    this.index.pruneVerdicts(version);
    this.#documents.clear();
    this.#logger.info({ attachments: count, trustVersion: version }, 're-verified attachments after a trust change');
  }

  /** Imports OSV records and re-matches only the SBOMs that contain an affected package. */
  importVulnerabilities(records: readonly OsvRecord[]): { received: number; changed: number; rematchedSboms: number } {
    // OSV bumps `modified` on every change, so an unchanged timestamp means an unchanged record.
    const changedRecords = records.filter((record) => this.#vulns.get(record.id)?.modified !== record.modified);
    const changed = this.index.putOsvRecords(changedRecords);
    const touched = new Set<string>();
    for (const record of changedRecords) for (const key of this.#vulns.upsert(record)) touched.add(key);
    const sboms = this.index.sbomsWithPackages([...touched]);
    for (const ref of sboms) {
      this.#storeFindings(ref, this.index.sbomComponents(ref));
      this.#invalidate(ref.repository, ref.subject);
    }
    return { received: records.length, changed, rematchedSboms: sboms.length };
  }

  /**
   * The trust document's JSON bytes as the API serves them (every finding is counted, the worst are
   * listed), or undefined when the repository knows nothing of the digest. With `allFindings`, every
   * finding is listed too.
   */
  async trustDocument(repository: string, digest: string, allFindings = false): Promise<Buffer | undefined> {
    const entry = await this.#trustEntry(repository, digest);
    return allFindings ? entry && Buffer.from(JSON.stringify(entry.facts)) : entry?.bytes;
  }

  /** The whole document as an object, every finding included: what policies are given. */
  async trustFacts(repository: string, digest: string): Promise<Record<string, unknown> | undefined> {
    return (await this.#trustEntry(repository, digest))?.facts;
  }

  async #trustEntry(repository: string, digest: string): Promise<TrustEntry | undefined> {
    const key = `${repository}\u0000${digest}`;
    const cached = this.#documents.get(key);
    if (cached) return cached;
    // Like the referrers API, attachments of a subject that is not (yet) pushed are still reported.
    const present = (await this.#metadata.getManifest(repository, digest)) !== undefined;
    const version = this.#trust.version;
    const attachments = this.index.attachmentsOf(repository, digest);
    if (!present && attachments.length === 0) return undefined;
    const verdicts = new Map(this.index.verdictsOf(repository, digest, version).map((verdict) => [attachmentKey(verdict), verdict]));
    for (const attachment of attachments) {
      // Only when re-verification has not reached it yet: verify once, store, and never again for this trust.
      if ((attachment.kind === 'signature' || attachment.kind === 'attestation') && !verdicts.has(attachmentKey(attachment))) {
        const verdict = await this.#verifyAndStore(attachment);
        if (verdict) verdicts.set(attachmentKey(attachment), verdict);
      }
    }
    const sbomComponents = new Map<string, SbomComponent[]>();
    for (const attachment of attachments) {
      if (attachment.detail.sbom) sbomComponents.set(attachmentKey(attachment), this.index.sbomComponents({ repository, manifestDigest: attachment.manifestDigest, item: attachment.item, subject: digest }));
    }
    const document = buildTrustDocument({
      repository, digest, present, trustVersion: version, attachments, verdicts, sbomComponents,
      findings: this.index.findingsOf(repository, digest), model: this.index.modelFactsOf(repository, digest), worstFindings: this.#settings.vulns.worstFindings, vulnDatabaseRecords: this.#vulns.size,
    });
    const entry: TrustEntry = { facts: document, bytes: Buffer.from(JSON.stringify(withoutFindingList(document))) };
    if (this.#trust.version === version) {
      // Bounded cache: Map keeps insertion order, so the oldest entry goes first.
      if (this.#documents.size >= MAX_CACHED_DOCUMENTS) this.#documents.delete(this.#documents.keys().next().value!);
      this.#documents.set(key, entry);
    }
    return entry;
  }

  #invalidate(repository: string, subject: string): void {
    this.#documents.delete(`${repository}\u0000${subject}`);
  }
}

interface TrustEntry {
  readonly facts: Record<string, unknown>;
  /** The API's form: the full finding list left out (counts and the worst findings stay). */
  readonly bytes: Buffer;
}

function withoutFindingList(document: Record<string, unknown>): Record<string, unknown> {
  const vulnerabilities = document.vulnerabilities as Record<string, unknown> | undefined;
  if (!vulnerabilities) return document;
  const { findings: _omitted, ...rest } = vulnerabilities;
  return { ...document, vulnerabilities: rest };
}
