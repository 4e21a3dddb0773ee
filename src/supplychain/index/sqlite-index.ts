/**
 * The SQLite implementation of the supply-chain index, on Wharf's shared SqliteDatabase (WAL,
 * migrations, cached statements): every method is one short synchronous transaction that never
 * spans an await, so concurrent requests cannot interleave.
 */
import type { SQLInputValue } from 'node:sqlite';
import { SqliteDatabase } from '../../storage/sqlite-database.ts';
import type { SbomComponent } from '../sbom/sbom-model.ts';
import { componentKey } from '../vulns/vuln-database.ts';
import { deserializeOsvRecord, serializeOsvRecord, type OsvRecord } from '../vulns/osv-record.ts';
import type { Verdict } from '../shared/verdict.ts';
import type { Attachment, SbomRef, StoredFinding, StoredVerdict } from './records.ts';
import type { ModelFacts } from '../../content/models/inspect-model.ts';
import type { StoredTrust, SupplyChainIndex } from './supplychain-index.ts';
import { SUPPLY_CHAIN_MIGRATIONS } from './sqlite-migrations.ts';

type Row = Record<string, SQLInputValue>;

export class SqliteSupplyChainIndex implements SupplyChainIndex {
  readonly #db: SqliteDatabase;

  constructor(path: string) {
    this.#db = new SqliteDatabase(path);
    this.#db.migrate(SUPPLY_CHAIN_MIGRATIONS);
  }

  close(): void {
    this.#db.close();
  }

  putAttachments(repository: string, manifestDigest: string, attachments: readonly Attachment[], components: ReadonlyMap<number, readonly SbomComponent[]>): void {
    const insert = this.#db.sql(`INSERT INTO attachments (repository, manifest_digest, item, subject_digest, kind, format, via, tag, artifact_type, media_type, evidence, detail, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const insertComponent = this.#db.sql(`INSERT INTO sbom_components (repository, manifest_digest, item, position, name, version, purl, licenses, package_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#db.transaction(() => {
      this.#deleteManifestRows(repository, manifestDigest);
      for (const attachment of attachments) {
        insert.run(repository, manifestDigest, attachment.item, attachment.subject, attachment.kind, attachment.format, attachment.via, attachment.tag ?? null,
          attachment.artifactType ?? null, attachment.mediaType, JSON.stringify(attachment.evidence), JSON.stringify(attachment.detail), Date.now());
      }
      for (const [item, list] of components) {
        list.forEach((component, position) => {
          insertComponent.run(repository, manifestDigest, item, position, component.name, component.version ?? null, component.purl ?? null,
            JSON.stringify(component.licenses), componentKey(component)?.key ?? null);
        });
      }
    });
  }

  #deleteManifestRows(repository: string, manifestDigest: string): void {
    for (const table of ['attachments', 'verdicts', 'sbom_components', 'findings']) {
      this.#db.sql(`DELETE FROM ${table} WHERE repository = ? AND manifest_digest = ?`).run(repository, manifestDigest);
    }
  }

  removeManifest(repository: string, digest: string): string[] {
    return this.#db.transaction(() => {
      const carried = this.#db.sql('SELECT DISTINCT subject_digest FROM attachments WHERE repository = ? AND manifest_digest = ?').all(repository, digest) as Row[];
      const attached = this.#db.sql('SELECT DISTINCT manifest_digest FROM attachments WHERE repository = ? AND subject_digest = ?').all(repository, digest) as Row[];
      this.#deleteManifestRows(repository, digest);
      this.#db.sql('DELETE FROM model_facts WHERE repository = ? AND manifest_digest = ?').run(repository, digest);
      for (const row of attached) this.#deleteManifestRows(repository, String(row.manifest_digest));
      return [...new Set([...carried.map((row) => String(row.subject_digest)), ...(attached.length > 0 ? [digest] : [])])];
    });
  }

  removeTag(repository: string, tag: string): string[] {
    return this.#db.transaction(() => {
      const rows = this.#db.sql('SELECT DISTINCT manifest_digest, subject_digest FROM attachments WHERE repository = ? AND tag = ?').all(repository, tag) as Row[];
      for (const row of rows) this.#deleteManifestRows(repository, String(row.manifest_digest));
      return [...new Set(rows.map((row) => String(row.subject_digest)))];
    });
  }

  attachmentsOf(repository: string, subject: string): Attachment[] {
    return (this.#db.sql('SELECT * FROM attachments WHERE repository = ? AND subject_digest = ? ORDER BY created_at, manifest_digest, item').all(repository, subject) as Row[]).map(toAttachment);
  }

  verifiableAttachments(): Attachment[] {
    return (this.#db.sql("SELECT * FROM attachments WHERE kind IN ('signature', 'attestation')").all() as Row[]).map(toAttachment);
  }

  putVerdict(attachment: Attachment, trustVersion: string, verdict: Verdict & { skipped?: boolean }): void {
    this.#db.sql(`INSERT OR REPLACE INTO verdicts (repository, manifest_digest, item, trust_version, subject_digest, verified, skipped, reason, signer, issuer, warnings)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(attachment.repository, attachment.manifestDigest, attachment.item, trustVersion, attachment.subject,
      verdict.verified ? 1 : 0, verdict.skipped ? 1 : 0, verdict.reason, verdict.signer ?? null, verdict.issuer ?? null, verdict.warnings ? JSON.stringify(verdict.warnings) : null);
  }

  verdictsOf(repository: string, subject: string, trustVersion: string): StoredVerdict[] {
    const rows = this.#db.sql('SELECT * FROM verdicts WHERE repository = ? AND subject_digest = ? AND trust_version = ?').all(repository, subject, trustVersion) as Row[];
    return rows.map((row) => ({
      manifestDigest: String(row.manifest_digest), item: Number(row.item), trustVersion: String(row.trust_version),
      verified: row.verified === 1, skipped: row.skipped === 1, reason: String(row.reason),
      ...(row.signer !== null ? { signer: String(row.signer) } : {}), ...(row.issuer !== null ? { issuer: String(row.issuer) } : {}),
      ...(row.warnings !== null ? { warnings: JSON.parse(String(row.warnings)) as string[] } : {}),
    }));
  }

  pruneVerdicts(current: string): void {
    this.#db.sql('DELETE FROM verdicts WHERE trust_version <> ?').run(current);
  }

  getTrust(): StoredTrust | undefined {
    const row = this.#db.sql('SELECT * FROM trust WHERE id = 1').get() as Row | undefined;
    return row ? { version: String(row.version), document: String(row.document), source: String(row.source), updatedAt: new Date(Number(row.updated_at)) } : undefined;
  }

  putTrust(version: string, document: string, source: string): void {
    this.#db.sql('INSERT OR REPLACE INTO trust (id, version, document, source, updated_at) VALUES (1, ?, ?, ?, ?)').run(version, document, source, Date.now());
  }

  getSetting(name: string): string | undefined {
    const row = this.#db.sql('SELECT value FROM settings WHERE name = ?').get(name) as Row | undefined;
    return row ? String(row.value) : undefined;
  }

  putModelFacts(repository: string, manifestDigest: string, facts: ModelFacts): void {
    this.#db.sql('INSERT OR REPLACE INTO model_facts (repository, manifest_digest, facts, created_at) VALUES (?, ?, ?, ?)').run(repository, manifestDigest, JSON.stringify(facts), Date.now());
  }

  modelFactsOf(repository: string, manifestDigest: string): ModelFacts | undefined {
    const row = this.#db.sql('SELECT facts FROM model_facts WHERE repository = ? AND manifest_digest = ?').get(repository, manifestDigest) as Row | undefined;
    return row ? JSON.parse(String(row.facts)) as ModelFacts : undefined;
  }

  putSetting(name: string, value: string): void {
    this.#db.sql('INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)').run(name, value);
  }

  putOsvRecords(records: readonly OsvRecord[]): number {
    const existing = this.#db.sql('SELECT modified, record FROM osv_records WHERE id = ?');
    const upsert = this.#db.sql('INSERT OR REPLACE INTO osv_records (id, modified, record) VALUES (?, ?, ?)');
    return this.#db.transaction(() => {
      let changed = 0;
      for (const record of records) {
        const text = serializeOsvRecord(record);
        const row = existing.get(record.id) as Row | undefined;
        if (row && row.record === text) continue;
        upsert.run(record.id, record.modified, text);
        changed++;
      }
      return changed;
    });
  }

  osvRecords(): OsvRecord[] {
    return (this.#db.sql('SELECT record FROM osv_records').all() as Row[]).map((row) => deserializeOsvRecord(String(row.record)));
  }

  osvRecordCount(): number {
    return Number((this.#db.sql('SELECT COUNT(*) AS n FROM osv_records').get() as Row).n);
  }

  sbomComponents(ref: SbomRef): SbomComponent[] {
    const rows = this.#db.sql('SELECT name, version, purl, licenses FROM sbom_components WHERE repository = ? AND manifest_digest = ? AND item = ? ORDER BY position')
      .all(ref.repository, ref.manifestDigest, ref.item) as Row[];
    return rows.map((row) => ({
      name: String(row.name), ...(row.version !== null ? { version: String(row.version) } : {}), ...(row.purl !== null ? { purl: String(row.purl) } : {}),
      licenses: JSON.parse(String(row.licenses)) as string[],
    }));
  }

  sbomsWithPackages(keys: readonly string[]): SbomRef[] {
    const found = new Map<string, SbomRef>();
    const query = this.#db.sql(`SELECT DISTINCT c.repository, c.manifest_digest, c.item, a.subject_digest FROM sbom_components c
      JOIN attachments a ON a.repository = c.repository AND a.manifest_digest = c.manifest_digest AND a.item = c.item WHERE c.package_key = ?`);
    for (const key of keys) {
      for (const row of query.all(key) as Row[]) {
        const ref = { repository: String(row.repository), manifestDigest: String(row.manifest_digest), item: Number(row.item), subject: String(row.subject_digest) };
        found.set(`${ref.repository}\u0000${ref.manifestDigest}\u0000${ref.item}`, ref);
      }
    }
    return [...found.values()];
  }

  allSboms(): SbomRef[] {
    return (this.#db.sql(`SELECT DISTINCT a.repository, a.manifest_digest, a.item, a.subject_digest FROM attachments a
      WHERE EXISTS (SELECT 1 FROM sbom_components c WHERE c.repository = a.repository AND c.manifest_digest = a.manifest_digest AND c.item = a.item)`).all() as Row[])
      .map((row) => ({ repository: String(row.repository), manifestDigest: String(row.manifest_digest), item: Number(row.item), subject: String(row.subject_digest) }));
  }

  putFindings(ref: SbomRef, findings: readonly StoredFinding[]): void {
    const insert = this.#db.sql('INSERT OR REPLACE INTO findings (repository, manifest_digest, item, subject_digest, purl, vulnerability_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.#db.transaction(() => {
      this.#db.sql('DELETE FROM findings WHERE repository = ? AND manifest_digest = ? AND item = ?').run(ref.repository, ref.manifestDigest, ref.item);
      for (const finding of findings) insert.run(ref.repository, ref.manifestDigest, ref.item, ref.subject, finding.purl, finding.vulnerabilityId, JSON.stringify(finding));
    });
  }

  findingsOf(repository: string, subject: string): StoredFinding[] {
    return (this.#db.sql('SELECT detail FROM findings WHERE repository = ? AND subject_digest = ?').all(repository, subject) as Row[])
      .map((row) => JSON.parse(String(row.detail)) as StoredFinding);
  }
}

function toAttachment(row: Row): Attachment {
  return {
    repository: String(row.repository), manifestDigest: String(row.manifest_digest), item: Number(row.item), subject: String(row.subject_digest),
    kind: String(row.kind) as Attachment['kind'], format: String(row.format) as Attachment['format'], via: String(row.via) as Attachment['via'],
    ...(row.tag !== null ? { tag: String(row.tag) } : {}), ...(row.artifact_type !== null ? { artifactType: String(row.artifact_type) } : {}),
    mediaType: String(row.media_type), evidence: JSON.parse(String(row.evidence)), detail: JSON.parse(String(row.detail)),
  };
}
