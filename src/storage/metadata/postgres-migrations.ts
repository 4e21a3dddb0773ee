/**
 * Schema of the PostgreSQL metadata store, as an append-only list: a released migration is never
 * edited, a change is a new entry. `schema_migrations` records each applied version.
 *
 * The shape follows the SQLite store (and, where it fits, GitLab's container registry):
 *
 *   repositories ─┬─ repository_blobs ── blobs (which blobs the repository may read)
 *                 ├─ manifests ── manifest_references (blobs/manifests each one needs)
 *                 │      └─ subject_digest: the referrer edge of OCI 1.1
 *                 ├─ tags (name → manifest digest)
 *                 └─ uploads (open upload sessions)
 *
 * Digests stay text ("sha256:…"), readable in psql. Names are compared with COLLATE "C" so pages
 * come out in byte order whatever the database's locale. Manifests carry an identity column so
 * "oldest first" is the order of insertion across replicas.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE repositories (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text COLLATE "C" NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE blobs (
    digest text PRIMARY KEY,
    size bigint NOT NULL CHECK (size >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE repository_blobs (
    repository_id bigint NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    digest text NOT NULL REFERENCES blobs(digest),
    linked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (repository_id, digest)
  );
  CREATE INDEX repository_blobs_by_digest ON repository_blobs(digest);
  CREATE TABLE manifests (
    id bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    repository_id bigint NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    digest text NOT NULL,
    media_type text NOT NULL,
    artifact_type text,
    size bigint NOT NULL,
    content bytea NOT NULL,
    subject_digest text,
    annotations jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (repository_id, digest)
  );
  CREATE INDEX manifests_by_subject ON manifests(repository_id, subject_digest) WHERE subject_digest IS NOT NULL;
  CREATE TABLE manifest_references (
    repository_id bigint NOT NULL,
    manifest_digest text NOT NULL,
    child_digest text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('blob', 'manifest')),
    PRIMARY KEY (repository_id, manifest_digest, child_digest),
    FOREIGN KEY (repository_id, manifest_digest) REFERENCES manifests(repository_id, digest) ON DELETE CASCADE
  );
  CREATE INDEX manifest_references_by_child ON manifest_references(child_digest);
  CREATE TABLE tags (
    repository_id bigint NOT NULL,
    name text COLLATE "C" NOT NULL,
    digest text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (repository_id, name),
    FOREIGN KEY (repository_id, digest) REFERENCES manifests(repository_id, digest) ON DELETE CASCADE
  );
  CREATE INDEX tags_by_manifest ON tags(repository_id, digest);
  CREATE TABLE uploads (
    id text PRIMARY KEY,
    repository_id bigint NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  `,
];
