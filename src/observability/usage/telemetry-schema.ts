/**
 * The telemetry tables as the query language sees them: names, columns, types and what each
 * means (docs/queries.md lists the same). The SQL that creates them is in the store
 * (sqlite-usage-store.ts); a test checks the two agree.
 */
import type { ColumnSchema, TableSchema } from '../query/schema.ts';

const transferColumns = (verb: string): ColumnSchema[] => [
  { name: 'time', type: 'timestamp', description: `when it was ${verb}` },
  { name: 'namespace', type: 'text', description: 'first path segment of the repository (team-a of team-a/app)' },
  { name: 'repository', type: 'text', description: 'repository name' },
  { name: 'digest', type: 'text', description: 'digest of the manifest or blob' },
  { name: 'tag', type: 'text', description: 'the tag asked for, or NULL when it went by digest' },
  { name: 'kind', type: 'text', description: "'manifest' or 'blob'" },
  { name: 'bytes', type: 'integer', description: 'bytes sent (pulls) or received (pushes)' },
  { name: 'identity', type: 'text', description: 'who: user:alice, robot:ci, oidc:…, or anonymous' },
  { name: 'client_address', type: 'text', description: 'client IP address' },
  { name: 'user_agent', type: 'text', description: 'User-Agent header' },
];

export const TELEMETRY_TABLES: readonly TableSchema[] = [
  {
    name: 'pulls', scopedBy: 'repository', columns: transferColumns('pulled'),
    description: 'one row per GET of a manifest or blob that was served (HEAD requests are not pulls)',
  },
  {
    name: 'pushes', scopedBy: 'repository', columns: transferColumns('pushed'),
    description: 'one row per manifest pushed and per blob upload completed',
  },
  {
    name: 'decisions', scopedBy: 'repository',
    description: 'policy decisions on pushes, pulls and admission, one row per violated policy (one row with policy NULL when nothing was violated)',
    columns: [
      { name: 'time', type: 'timestamp', description: 'when it was decided' },
      { name: 'namespace', type: 'text', description: 'namespace of the repository' },
      { name: 'repository', type: 'text', description: 'repository name' },
      { name: 'digest', type: 'text', description: 'digest decided on' },
      { name: 'point', type: 'text', description: "'push', 'pull' or 'admission'" },
      { name: 'identity', type: 'text', description: 'who asked' },
      { name: 'allowed', type: 'boolean', description: 'whether the request went ahead' },
      { name: 'policy', type: 'text', description: 'the violated policy, or NULL' },
      { name: 'mode', type: 'text', description: "the policy's mode ('enforce' or 'audit'), or NULL" },
      { name: 'message', type: 'text', description: 'what the policy said, or NULL' },
    ],
  },
  {
    name: 'audit', scopedBy: 'administrators',
    description: 'the audit trail of access decisions that authentication records (audited pushes and deletions, refused management API calls), for administrators only',
    columns: [
      { name: 'time', type: 'timestamp', description: 'when it happened' },
      { name: 'identity', type: 'text', description: 'who acted' },
      { name: 'action', type: 'text', description: "what was asked, such as 'PUT push' or 'GET api'" },
      { name: 'resource', type: 'text', description: 'what it was about: a path, a repository, an account' },
      { name: 'allowed', type: 'boolean', description: 'whether it was allowed' },
      { name: 'reason', type: 'text', description: 'why' },
      { name: 'client_address', type: 'text', description: 'client IP address, when known' },
    ],
  },
  {
    name: 'artifacts', scopedBy: 'repository',
    description: 'what the registry holds now (measured every observability.usage.measureIntervalSeconds, not pruned): one row per manifest and tag, with tag NULL for an untagged manifest',
    columns: [
      { name: 'namespace', type: 'text', description: 'namespace of the repository' },
      { name: 'repository', type: 'text', description: 'repository name' },
      { name: 'digest', type: 'text', description: 'manifest digest' },
      { name: 'tag', type: 'text', description: 'a tag pointing at it, or NULL' },
      { name: 'media_type', type: 'text', description: 'manifest media type' },
      { name: 'pushed', type: 'timestamp', description: 'when the repository first stored it (NULL when unknown)' },
    ],
  },
  {
    name: 'storage', scopedBy: 'namespace',
    description: 'storage per namespace, one row per namespace and day (the last measurement of that day)',
    columns: [
      { name: 'day', type: 'timestamp', description: 'the day, at 00:00 UTC' },
      { name: 'namespace', type: 'text', description: 'namespace' },
      { name: 'bytes', type: 'integer', description: 'bytes stored for the namespace: the distinct blobs its repositories link, and its manifests' },
      { name: 'repositories', type: 'integer', description: 'repositories in the namespace' },
      { name: 'artifacts', type: 'integer', description: 'artifacts (manifests) stored in the namespace' },
    ],
  },
];
