/**
 * MetadataStore on SQLite (node:sqlite), the embedded default. One connection in WAL mode;
 * node:sqlite calls are synchronous, so each method runs to completion before another request's
 * code can interleave, and a transaction never spans an await.
 */
import type { StatementSync } from 'node:sqlite';
import { SqliteDatabase } from '../sqlite-database.ts';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.ts';
import type {
  ManifestRecord, MetadataStore, Page, Referrer, StoredManifest, UploadSession,
} from './metadata-store.ts';

type Row = Record<string, unknown>;

export class SqliteMetadataStore implements MetadataStore {
  readonly #db: SqliteDatabase;

  constructor(path: string) {
    this.#db = new SqliteDatabase(path);
  }

  async migrate(): Promise<void> {
    this.#db.migrate(SQLITE_MIGRATIONS);
  }

  async close(): Promise<void> {
    this.#db.close();
  }

  async check(): Promise<void> {
    this.#sql('SELECT 1').get();
  }

  async repositoryExists(repository: string): Promise<boolean> {
    return this.#repositoryId(repository) !== undefined;
  }

  async listRepositories(page: Page): Promise<string[]> {
    const rows = this.#sql('SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?')
      .all(page.last ?? '', page.limit ?? -1) as Row[];
    return rows.map((row) => row.name as string);
  }

  async linkBlob(repository: string, digest: string, size: number): Promise<void> {
    this.#transaction(() => {
      const now = Date.now();
      const id = this.#ensureRepository(repository, now);
      this.#sql('INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(digest, size, now);
      this.#sql('INSERT INTO repository_blobs (repository_id, digest, linked_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(id, digest, now);
    });
  }

  async linkedBlobSize(repository: string, digest: string): Promise<number | undefined> {
    const row = this.#sql(`SELECT b.size FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id
      JOIN blobs b ON b.digest = rb.digest WHERE r.name = ? AND rb.digest = ?`).get(repository, digest) as Row | undefined;
    return row === undefined ? undefined : Number(row.size);
  }

  async unlinkBlob(repository: string, digest: string): Promise<boolean> {
    const result = this.#sql(`DELETE FROM repository_blobs WHERE digest = ?
      AND repository_id = (SELECT id FROM repositories WHERE name = ?)`).run(digest, repository);
    return Number(result.changes) > 0;
  }

  async missingBlobs(repository: string, digests: readonly string[]): Promise<string[]> {
    const id = this.#repositoryId(repository);
    if (id === undefined) return [...digests];
    const statement = this.#sql('SELECT 1 FROM repository_blobs WHERE repository_id = ? AND digest = ?');
    return digests.filter((digest) => statement.get(id, digest) === undefined);
  }

  async putManifest(repository: string, manifest: ManifestRecord, tag?: string): Promise<void> {
    this.#transaction(() => {
      const now = Date.now();
      const id = this.#ensureRepository(repository, now);
      const annotations = manifest.annotations ? JSON.stringify(manifest.annotations) : null;
      this.#sql(`INSERT INTO manifests (repository_id, digest, media_type, artifact_type, size, content, subject_digest, annotations, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`).run(
        id, manifest.digest, manifest.mediaType, manifest.artifactType ?? null, manifest.content.byteLength,
        manifest.content, manifest.subject ?? null, annotations, now,
      );
      const reference = this.#sql(`INSERT INTO manifest_references (repository_id, manifest_digest, child_digest, kind)
        VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`);
      for (const child of manifest.references) reference.run(id, manifest.digest, child.digest, child.kind);
      if (tag !== undefined) {
        this.#sql(`INSERT INTO tags (repository_id, name, digest, updated_at) VALUES (?, ?, ?, ?)
          ON CONFLICT (repository_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at`)
          .run(id, tag, manifest.digest, now);
      }
    });
  }

  async getManifest(repository: string, digest: string): Promise<StoredManifest | undefined> {
    const row = this.#sql(`SELECT m.digest, m.media_type, m.content, m.created_at FROM manifests m JOIN repositories r ON r.id = m.repository_id
      WHERE r.name = ? AND m.digest = ?`).get(repository, digest) as Row | undefined;
    return row && toStoredManifest(row);
  }

  async getManifestByTag(repository: string, tag: string): Promise<StoredManifest | undefined> {
    const row = this.#sql(`SELECT m.digest, m.media_type, m.content, m.created_at FROM tags t JOIN repositories r ON r.id = t.repository_id
      JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.digest
      WHERE r.name = ? AND t.name = ?`).get(repository, tag) as Row | undefined;
    return row && toStoredManifest(row);
  }

  async listManifests(repository: string): Promise<{ digest: string; mediaType: string }[]> {
    const rows = this.#sql(`SELECT m.digest, m.media_type FROM manifests m JOIN repositories r ON r.id = m.repository_id
      WHERE r.name = ? ORDER BY m.created_at, m.digest`).all(repository) as Row[];
    return rows.map((row) => ({ digest: row.digest as string, mediaType: row.media_type as string }));
  }

  async missingManifests(repository: string, digests: readonly string[]): Promise<string[]> {
    const id = this.#repositoryId(repository);
    if (id === undefined) return [...digests];
    const statement = this.#sql('SELECT 1 FROM manifests WHERE repository_id = ? AND digest = ?');
    return digests.filter((digest) => statement.get(id, digest) === undefined);
  }

  async deleteManifest(repository: string, digest: string): Promise<boolean> {
    const id = this.#repositoryId(repository);
    if (id === undefined) return false;
    // Tags and references go with it through ON DELETE CASCADE; the referrer edge lives in the row.
    const result = this.#sql('DELETE FROM manifests WHERE repository_id = ? AND digest = ?').run(id, digest);
    return Number(result.changes) > 0;
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    const result = this.#sql(`DELETE FROM tags WHERE name = ?
      AND repository_id = (SELECT id FROM repositories WHERE name = ?)`).run(tag, repository);
    return Number(result.changes) > 0;
  }

  async listTags(repository: string, page: Page): Promise<string[] | undefined> {
    const id = this.#repositoryId(repository);
    if (id === undefined) return undefined;
    const rows = this.#sql('SELECT name FROM tags WHERE repository_id = ? AND name > ? ORDER BY name LIMIT ?')
      .all(id, page.last ?? '', page.limit ?? -1) as Row[];
    return rows.map((row) => row.name as string);
  }

  async listReferrers(repository: string, subject: string, artifactType?: string): Promise<Referrer[]> {
    const id = this.#repositoryId(repository);
    if (id === undefined) return [];
    const rows = (artifactType === undefined
      ? this.#sql(`SELECT digest, media_type, size, artifact_type, annotations FROM manifests
          WHERE repository_id = ? AND subject_digest = ? ORDER BY created_at, digest`).all(id, subject)
      : this.#sql(`SELECT digest, media_type, size, artifact_type, annotations FROM manifests
          WHERE repository_id = ? AND subject_digest = ? AND artifact_type = ? ORDER BY created_at, digest`).all(id, subject, artifactType)
    ) as Row[];
    return rows.map((row) => ({
      digest: row.digest as string,
      mediaType: row.media_type as string,
      size: Number(row.size),
      artifactType: (row.artifact_type as string | null) ?? undefined,
      annotations: row.annotations ? JSON.parse(row.annotations as string) as Record<string, string> : undefined,
    }));
  }

  async namespaceUsage(namespace: string): Promise<{ storageBytes: number; artifacts: number }> {
    const inNamespace = '(r.name = ?1 OR substr(r.name, 1, length(?1) + 1) = ?1 || \'/\')';
    const blobs = this.#sql(`SELECT COALESCE(SUM(size), 0) AS bytes FROM (SELECT DISTINCT b.digest, b.size FROM repository_blobs rb
      JOIN repositories r ON r.id = rb.repository_id JOIN blobs b ON b.digest = rb.digest WHERE ${inNamespace})`).get(namespace) as Row;
    const manifests = this.#sql(`SELECT COALESCE(SUM(m.size), 0) AS bytes, COUNT(*) AS n FROM manifests m
      JOIN repositories r ON r.id = m.repository_id WHERE ${inNamespace}`).get(namespace) as Row;
    return { storageBytes: Number(blobs.bytes) + Number(manifests.bytes), artifacts: Number(manifests.n) };
  }

  async usageByNamespace(): Promise<{ namespace: string; storageBytes: number; artifacts: number }[]> {
    const namespaceOfName = "CASE WHEN instr(r.name, '/') > 0 THEN substr(r.name, 1, instr(r.name, '/') - 1) ELSE r.name END";
    const rows = this.#sql(`SELECT ns.namespace, COALESCE(bl.bytes, 0) + COALESCE(mf.bytes, 0) AS bytes, COALESCE(mf.n, 0) AS n
      FROM (SELECT DISTINCT ${namespaceOfName} AS namespace FROM repositories r) ns
      LEFT JOIN (SELECT namespace, SUM(size) AS bytes FROM (SELECT DISTINCT ${namespaceOfName} AS namespace, b.digest, b.size
        FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id JOIN blobs b ON b.digest = rb.digest) GROUP BY namespace) bl
        ON bl.namespace = ns.namespace
      LEFT JOIN (SELECT ${namespaceOfName} AS namespace, SUM(m.size) AS bytes, COUNT(*) AS n
        FROM manifests m JOIN repositories r ON r.id = m.repository_id GROUP BY 1) mf ON mf.namespace = ns.namespace
      ORDER BY ns.namespace`).all() as Row[];
    return rows.map((row) => ({ namespace: String(row.namespace), storageBytes: Number(row.bytes), artifacts: Number(row.n) }));
  }

  async createUpload(id: string, repository: string): Promise<void> {
    this.#transaction(() => {
      const now = Date.now();
      const repositoryId = this.#ensureRepository(repository, now);
      this.#sql('INSERT INTO uploads (id, repository_id, created_at) VALUES (?, ?, ?)').run(id, repositoryId, now);
    });
  }

  async getUpload(id: string): Promise<UploadSession | undefined> {
    const row = this.#sql(`SELECT u.id, r.name, u.created_at FROM uploads u JOIN repositories r ON r.id = u.repository_id
      WHERE u.id = ?`).get(id) as Row | undefined;
    return row && toUpload(row);
  }

  async deleteUpload(id: string): Promise<void> {
    this.#sql('DELETE FROM uploads WHERE id = ?').run(id);
  }

  async listUploads(): Promise<UploadSession[]> {
    const rows = this.#sql(`SELECT u.id, r.name, u.created_at FROM uploads u
      JOIN repositories r ON r.id = u.repository_id ORDER BY u.created_at`).all() as Row[];
    return rows.map(toUpload);
  }

  #repositoryId(name: string): number | undefined {
    const row = this.#sql('SELECT id FROM repositories WHERE name = ?').get(name) as Row | undefined;
    return row === undefined ? undefined : Number(row.id);
  }

  #ensureRepository(name: string, now: number): number {
    this.#sql('INSERT INTO repositories (name, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING').run(name, now);
    return this.#repositoryId(name)!;
  }

  #sql(text: string): StatementSync {
    return this.#db.sql(text);
  }

  #transaction(work: () => void): void {
    this.#db.transaction(work);
  }
}

function toStoredManifest(row: Row): StoredManifest {
  return { digest: row.digest as string, mediaType: row.media_type as string, content: row.content as Uint8Array, pushedAt: new Date(Number(row.created_at)) };
}

function toUpload(row: Row): UploadSession {
  return { id: row.id as string, repository: row.name as string, createdAt: new Date(Number(row.created_at)) };
}
