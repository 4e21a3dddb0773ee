/**
 * MetadataStore on PostgreSQL, for several Wharf processes sharing one database. Writes that the
 * contract makes atomic (a manifest with its tag and references; a repository created with its
 * first blob or upload) run in one transaction; reads are single statements on the pool.
 *
 * Every change to what a tag resolves to is announced with NOTIFY on the channel `wharf_tags` in
 * the same transaction, so it reaches the other processes exactly when it is committed; they
 * forget their cached tags on it (see `watchTagChanges`).
 */
import { PostgresDatabase, type PostgresOptions, type Queryable } from '../postgres-database.ts';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.ts';
import type {
  ManifestRecord, MetadataStore, Page, Referrer, StoredManifest, TagChange, TagChangeListener, UploadSession,
} from './metadata-store.ts';

type Row = Record<string, unknown>;

export const TAG_CHANNEL = 'wharf_tags';
/** After the LISTEN connection breaks, how long to wait between attempts to open it again. */
const RELISTEN_DELAY_MS = 1000;

export class PostgresMetadataStore implements MetadataStore {
  readonly #db: PostgresDatabase;

  constructor(options: PostgresOptions) {
    this.#db = new PostgresDatabase(options);
  }

  async migrate(): Promise<void> {
    await this.#db.migrate('metadata', POSTGRES_MIGRATIONS);
  }

  async close(): Promise<void> {
    await this.#db.close();
  }

  async check(): Promise<void> {
    await this.#db.query('SELECT 1');
  }

  async repositoryExists(repository: string): Promise<boolean> {
    return (await this.#repositoryId(undefined, repository)) !== undefined;
  }

  async listRepositories(page: Page): Promise<string[]> {
    const { rows } = await this.#db.query('SELECT name FROM repositories WHERE name > $1 ORDER BY name LIMIT $2', [page.last ?? '', page.limit ?? null]);
    return rows.map((row) => row.name as string);
  }

  async linkBlob(repository: string, digest: string, size: number): Promise<void> {
    await this.#db.transaction(async (client) => {
      const id = await this.#ensureRepository(client, repository);
      await client.query('INSERT INTO blobs (digest, size) VALUES ($1, $2) ON CONFLICT DO NOTHING', [digest, size]);
      await client.query('INSERT INTO repository_blobs (repository_id, digest) VALUES ($1, $2) ON CONFLICT DO NOTHING', [id, digest]);
    });
  }

  async linkedBlobSize(repository: string, digest: string): Promise<number | undefined> {
    const { rows } = await this.#db.query(`SELECT b.size FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id
      JOIN blobs b ON b.digest = rb.digest WHERE r.name = $1 AND rb.digest = $2`, [repository, digest]);
    return rows[0] === undefined ? undefined : Number(rows[0].size);
  }

  async unlinkBlob(repository: string, digest: string): Promise<boolean> {
    const result = await this.#db.query(`DELETE FROM repository_blobs WHERE digest = $1
      AND repository_id = (SELECT id FROM repositories WHERE name = $2)`, [digest, repository]);
    return (result.rowCount ?? 0) > 0;
  }

  async missingBlobs(repository: string, digests: readonly string[]): Promise<string[]> {
    if (digests.length === 0) return [];
    const { rows } = await this.#db.query(`SELECT rb.digest FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id
      WHERE r.name = $1 AND rb.digest = ANY($2::text[])`, [repository, digests]);
    const present = new Set(rows.map((row) => row.digest as string));
    return digests.filter((digest) => !present.has(digest));
  }

  async putManifest(repository: string, manifest: ManifestRecord, tag?: string): Promise<void> {
    await this.#db.transaction(async (client) => {
      const id = await this.#ensureRepository(client, repository);
      // A push of a manifest that exists already updates nothing but still locks its row, so that
      // a delete by another replica waits for this transaction instead of pulling the manifest
      // from under its tag and references (a foreign key failure).
      await client.query(`INSERT INTO manifests (repository_id, digest, media_type, artifact_type, size, content, subject_digest, annotations)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (repository_id, digest) DO UPDATE SET digest = manifests.digest`, [
        id, manifest.digest, manifest.mediaType, manifest.artifactType ?? null, manifest.content.byteLength,
        Buffer.from(manifest.content.buffer, manifest.content.byteOffset, manifest.content.byteLength),
        manifest.subject ?? null, manifest.annotations ? JSON.stringify(manifest.annotations) : null,
      ]);
      if (manifest.references.length > 0) {
        await client.query(`INSERT INTO manifest_references (repository_id, manifest_digest, child_digest, kind)
          SELECT $1, $2, child, kind FROM unnest($3::text[], $4::text[]) AS r(child, kind) ON CONFLICT DO NOTHING`, [
          id, manifest.digest, manifest.references.map((reference) => reference.digest), manifest.references.map((reference) => reference.kind),
        ]);
      }
      if (tag !== undefined) {
        await client.query(`INSERT INTO tags (repository_id, name, digest) VALUES ($1, $2, $3)
          ON CONFLICT (repository_id, name) DO UPDATE SET digest = excluded.digest, updated_at = now()`, [id, tag, manifest.digest]);
        await notifyTagChange(client, { repository, tag });
      }
    });
  }

  async getManifest(repository: string, digest: string): Promise<StoredManifest | undefined> {
    const { rows } = await this.#db.query(`SELECT m.digest, m.media_type, m.content, m.created_at FROM manifests m JOIN repositories r ON r.id = m.repository_id
      WHERE r.name = $1 AND m.digest = $2`, [repository, digest]);
    return rows[0] && toStoredManifest(rows[0]);
  }

  async getManifestByTag(repository: string, tag: string): Promise<StoredManifest | undefined> {
    const { rows } = await this.#db.query(`SELECT m.digest, m.media_type, m.content, m.created_at FROM tags t JOIN repositories r ON r.id = t.repository_id
      JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.digest
      WHERE r.name = $1 AND t.name = $2`, [repository, tag]);
    return rows[0] && toStoredManifest(rows[0]);
  }

  async listManifests(repository: string): Promise<{ digest: string; mediaType: string }[]> {
    const { rows } = await this.#db.query(`SELECT m.digest, m.media_type FROM manifests m JOIN repositories r ON r.id = m.repository_id
      WHERE r.name = $1 ORDER BY m.id`, [repository]);
    return rows.map((row) => ({ digest: row.digest as string, mediaType: row.media_type as string }));
  }

  async missingManifests(repository: string, digests: readonly string[]): Promise<string[]> {
    if (digests.length === 0) return [];
    const { rows } = await this.#db.query(`SELECT m.digest FROM manifests m JOIN repositories r ON r.id = m.repository_id
      WHERE r.name = $1 AND m.digest = ANY($2::text[])`, [repository, digests]);
    const present = new Set(rows.map((row) => row.digest as string));
    return digests.filter((digest) => !present.has(digest));
  }

  async deleteManifest(repository: string, digest: string): Promise<boolean> {
    return this.#db.transaction(async (client) => {
      // Tags and references go with it through ON DELETE CASCADE; the referrer edge lives in the row.
      const result = await client.query(`DELETE FROM manifests WHERE digest = $1
        AND repository_id = (SELECT id FROM repositories WHERE name = $2)`, [digest, repository]);
      const deleted = (result.rowCount ?? 0) > 0;
      if (deleted) await notifyTagChange(client, { repository });
      return deleted;
    });
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    return this.#db.transaction(async (client) => {
      const result = await client.query(`DELETE FROM tags WHERE name = $1
        AND repository_id = (SELECT id FROM repositories WHERE name = $2)`, [tag, repository]);
      const deleted = (result.rowCount ?? 0) > 0;
      if (deleted) await notifyTagChange(client, { repository, tag });
      return deleted;
    });
  }

  async listTags(repository: string, page: Page): Promise<string[] | undefined> {
    const id = await this.#repositoryId(undefined, repository);
    if (id === undefined) return undefined;
    const { rows } = await this.#db.query('SELECT name FROM tags WHERE repository_id = $1 AND name > $2 ORDER BY name LIMIT $3',
      [id, page.last ?? '', page.limit ?? null]);
    return rows.map((row) => row.name as string);
  }

  async listReferrers(repository: string, subject: string, artifactType?: string): Promise<Referrer[]> {
    const { rows } = await this.#db.query(`SELECT m.digest, m.media_type, m.size, m.artifact_type, m.annotations
      FROM manifests m JOIN repositories r ON r.id = m.repository_id
      WHERE r.name = $1 AND m.subject_digest = $2 AND ($3::text IS NULL OR m.artifact_type = $3) ORDER BY m.id`,
    [repository, subject, artifactType ?? null]);
    return rows.map((row) => ({
      digest: row.digest as string,
      mediaType: row.media_type as string,
      size: Number(row.size),
      artifactType: (row.artifact_type as string | null) ?? undefined,
      annotations: (row.annotations as Record<string, string> | null) ?? undefined,
    }));
  }

  async namespaceUsage(namespace: string): Promise<{ storageBytes: number; artifacts: number }> {
    const inNamespace = "(r.name = $1 OR starts_with(r.name, $1 || '/'))";
    const { rows } = await this.#db.query(`SELECT
      (SELECT COALESCE(SUM(size), 0) FROM (SELECT DISTINCT b.digest, b.size FROM repository_blobs rb
        JOIN repositories r ON r.id = rb.repository_id JOIN blobs b ON b.digest = rb.digest WHERE ${inNamespace}) AS distinct_blobs) AS blob_bytes,
      (SELECT COALESCE(SUM(m.size), 0) FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE ${inNamespace}) AS manifest_bytes,
      (SELECT COUNT(*) FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE ${inNamespace}) AS manifests`, [namespace]);
    const row = rows[0]!;
    return { storageBytes: Number(row.blob_bytes) + Number(row.manifest_bytes), artifacts: Number(row.manifests) };
  }

  async usageByNamespace(): Promise<{ namespace: string; storageBytes: number; artifacts: number }[]> {
    const namespaceOf = "split_part(r.name, '/', 1)";
    const { rows } = await this.#db.query(`SELECT ns.namespace, COALESCE(bl.bytes, 0) + COALESCE(mf.bytes, 0) AS bytes, COALESCE(mf.n, 0) AS n
      FROM (SELECT DISTINCT ${namespaceOf} AS namespace FROM repositories r) ns
      LEFT JOIN (SELECT namespace, SUM(size) AS bytes FROM (SELECT DISTINCT ${namespaceOf} AS namespace, b.digest, b.size
        FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id JOIN blobs b ON b.digest = rb.digest) d GROUP BY namespace) bl
        ON bl.namespace = ns.namespace
      LEFT JOIN (SELECT ${namespaceOf} AS namespace, SUM(m.size) AS bytes, COUNT(*) AS n
        FROM manifests m JOIN repositories r ON r.id = m.repository_id GROUP BY 1) mf ON mf.namespace = ns.namespace
      ORDER BY ns.namespace COLLATE "C"`);
    return rows.map((row) => ({ namespace: String(row.namespace), storageBytes: Number(row.bytes), artifacts: Number(row.n) }));
  }

  async watchTagChanges(listener: TagChangeListener): Promise<() => Promise<void>> {
    let connection: { close(): Promise<void> } | undefined;
    let stopped = false;
    let retry: NodeJS.Timeout | undefined;
    const onNotify = (payload: string) => {
      const change = parseTagChange(payload);
      if (change) listener.changed(change);
    };
    const open = async (): Promise<void> => {
      connection = await this.#db.listen(TAG_CHANNEL, onNotify, (error) => {
        connection = undefined;
        listener.lost(error);
        scheduleReopen();
      });
    };
    const scheduleReopen = () => {
      if (stopped) return;
      retry = setTimeout(() => {
        open().then(() => {
          if (stopped) void connection?.close();
          else listener.restored();
        }, scheduleReopen);
      }, RELISTEN_DELAY_MS);
      retry.unref();
    };
    await open();
    return async () => {
      stopped = true;
      clearTimeout(retry);
      await connection?.close();
    };
  }

  async createUpload(id: string, repository: string): Promise<void> {
    await this.#db.transaction(async (client) => {
      const repositoryId = await this.#ensureRepository(client, repository);
      await client.query('INSERT INTO uploads (id, repository_id) VALUES ($1, $2)', [id, repositoryId]);
    });
  }

  async getUpload(id: string): Promise<UploadSession | undefined> {
    const { rows } = await this.#db.query(`SELECT u.id, r.name, u.created_at FROM uploads u JOIN repositories r ON r.id = u.repository_id
      WHERE u.id = $1`, [id]);
    return rows[0] && toUpload(rows[0]);
  }

  async deleteUpload(id: string): Promise<void> {
    await this.#db.query('DELETE FROM uploads WHERE id = $1', [id]);
  }

  async listUploads(): Promise<UploadSession[]> {
    const { rows } = await this.#db.query(`SELECT u.id, r.name, u.created_at FROM uploads u
      JOIN repositories r ON r.id = u.repository_id ORDER BY u.created_at, u.id`);
    return rows.map(toUpload);
  }

  /** On `client` inside a transaction, else on the pool (through the database's error mapping). */
  async #repositoryId(client: Queryable | undefined, name: string): Promise<string | undefined> {
    const sql = 'SELECT id FROM repositories WHERE name = $1';
    const { rows } = client ? await client.query<Row>(sql, [name]) : await this.#db.query(sql, [name]);
    return rows[0] === undefined ? undefined : String(rows[0].id);
  }

  /** The repository's id, creating it; safe when another replica creates it at the same moment. */
  async #ensureRepository(client: Queryable, name: string): Promise<string> {
    const inserted = await client.query<Row>('INSERT INTO repositories (name) VALUES ($1) ON CONFLICT DO NOTHING RETURNING id', [name]);
    if (inserted.rows[0] !== undefined) return String(inserted.rows[0].id);
    return (await this.#repositoryId(client, name))!;
  }
}

/** Queued with the transaction: PostgreSQL delivers it to every listener when (and only if) it commits. */
async function notifyTagChange(client: Queryable, change: TagChange): Promise<void> {
  await client.query('SELECT pg_notify($1, $2)', [TAG_CHANNEL, JSON.stringify(change)]);
}

function parseTagChange(payload: string): TagChange | undefined {
  try {
    const value = JSON.parse(payload) as { repository?: unknown; tag?: unknown };
    if (typeof value.repository !== 'string') return undefined;
    return typeof value.tag === 'string' ? { repository: value.repository, tag: value.tag } : { repository: value.repository };
  } catch {
    return undefined;
  }
}

function toStoredManifest(row: Row): StoredManifest {
  return { digest: row.digest as string, mediaType: row.media_type as string, content: row.content as Uint8Array, pushedAt: row.created_at as Date };
}

function toUpload(row: Row): UploadSession {
  return { id: row.id as string, repository: row.name as string, createdAt: row.created_at as Date };
}
