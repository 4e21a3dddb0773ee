/**
 * Schema of `<data>/supplychain.db`, append-only like the registry's own: `user_version` counts
 * the applied entries; a released entry is never edited.
 *
 *   attachments (repository, manifest_digest, item) ── subject_digest, kind, format, evidence
 *     ├─ verdicts (… , trust_version): verified, reason, signer
 *     ├─ sbom_components (… , position): purl, package_key (OSV ecosystem + name)
 *     └─ findings (…): the SBOM's vulnerability matches
 *   osv_records (id): the vulnerability database;  trust (one row);  settings (name → value)
 *   model_facts (repository, manifest_digest): what a model artifact's config and file headers say
 */
export const SUPPLY_CHAIN_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE attachments (
    repository TEXT NOT NULL,
    manifest_digest TEXT NOT NULL,
    item INTEGER NOT NULL,
    subject_digest TEXT NOT NULL,
    kind TEXT NOT NULL,
    format TEXT NOT NULL,
    via TEXT NOT NULL,
    tag TEXT,
    artifact_type TEXT,
    media_type TEXT NOT NULL,
    evidence TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (repository, manifest_digest, item)
  ) WITHOUT ROWID;
  CREATE INDEX attachments_by_subject ON attachments(repository, subject_digest);
  CREATE INDEX attachments_by_tag ON attachments(repository, tag) WHERE tag IS NOT NULL;
  CREATE TABLE verdicts (
    repository TEXT NOT NULL,
    manifest_digest TEXT NOT NULL,
    item INTEGER NOT NULL,
    trust_version TEXT NOT NULL,
    subject_digest TEXT NOT NULL,
    verified INTEGER NOT NULL,
    skipped INTEGER NOT NULL,
    reason TEXT NOT NULL,
    signer TEXT,
    issuer TEXT,
    warnings TEXT,
    PRIMARY KEY (repository, manifest_digest, item, trust_version)
  ) WITHOUT ROWID;
  CREATE INDEX verdicts_by_subject ON verdicts(repository, subject_digest, trust_version);
  CREATE TABLE sbom_components (
    repository TEXT NOT NULL,
    manifest_digest TEXT NOT NULL,
    item INTEGER NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    version TEXT,
    purl TEXT,
    licenses TEXT NOT NULL,
    package_key TEXT,
    PRIMARY KEY (repository, manifest_digest, item, position)
  ) WITHOUT ROWID;
  CREATE INDEX sbom_components_by_package ON sbom_components(package_key) WHERE package_key IS NOT NULL;
  CREATE TABLE findings (
    repository TEXT NOT NULL,
    manifest_digest TEXT NOT NULL,
    item INTEGER NOT NULL,
    subject_digest TEXT NOT NULL,
    purl TEXT NOT NULL,
    vulnerability_id TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (repository, manifest_digest, item, purl, vulnerability_id)
  ) WITHOUT ROWID;
  CREATE INDEX findings_by_subject ON findings(repository, subject_digest);
  CREATE TABLE osv_records (
    id TEXT PRIMARY KEY,
    modified TEXT NOT NULL,
    record TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE trust (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version TEXT NOT NULL,
    document TEXT NOT NULL,
    source TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  `
  CREATE TABLE model_facts (
    repository TEXT NOT NULL,
    manifest_digest TEXT NOT NULL,
    facts TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (repository, manifest_digest)
  ) WITHOUT ROWID;
  `,
];
