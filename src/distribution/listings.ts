/** The paginated listings: tags of a repository, the catalog of repositories, and referrers. */
import { OCI_INDEX } from '../content/media-types.ts';
import { registryError } from './errors.ts';
import { nextPageLink, pageParameters, sendJson, type RequestContext } from './http.ts';
import type { RegistryDeps } from './registry-deps.ts';
import { requireDigest, requireRepositoryName } from './validate.ts';

export async function listTags(ctx: RequestContext, deps: RegistryDeps, name: string): Promise<void> {
  requireRepositoryName(name);
  const page = pageParameters(ctx.query);
  // One extra row tells whether a next page exists without a second query.
  const tags = await deps.metadata.listTags(name, { last: page.last, limit: plusOne(page.limit) });
  if (tags === undefined) throw registryError('NAME_UNKNOWN', { detail: { name } });
  const { items, link } = paginate(tags, page.limit, ctx.path);
  sendJson(ctx.res, 200, { name, tags: items }, link ? { link } : {}, ctx.method === 'HEAD');
}

export async function listRepositories(ctx: RequestContext, deps: RegistryDeps): Promise<void> {
  const page = pageParameters(ctx.query);
  const names = await deps.metadata.listRepositories({ last: page.last, limit: plusOne(page.limit) });
  const { items, link } = paginate(names, page.limit, ctx.path);
  sendJson(ctx.res, 200, { repositories: items }, link ? { link } : {}, ctx.method === 'HEAD');
}

/** OCI 1.1 referrers: an image index of the manifests whose `subject` is the given digest. */
export async function listReferrers(ctx: RequestContext, deps: RegistryDeps, name: string, subject: string): Promise<void> {
  requireRepositoryName(name);
  const digest = requireDigest(subject).text;
  // Media types never contain spaces, so a space here is a `+` (as in `+json`) the client did
  // not percent-encode.
  const artifactType = ctx.query.get('artifactType')?.replaceAll(' ', '+');
  const referrers = await deps.metadata.listReferrers(name, digest, artifactType);
  const index = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: referrers.map((referrer) => ({
      mediaType: referrer.mediaType,
      digest: referrer.digest,
      size: referrer.size,
      ...(referrer.artifactType === undefined ? {} : { artifactType: referrer.artifactType }),
      ...(referrer.annotations === undefined ? {} : { annotations: referrer.annotations }),
    })),
  };
  const headers: Record<string, string> = { 'content-type': OCI_INDEX };
  if (artifactType !== undefined) headers['oci-filters-applied'] = 'artifactType';
  sendJson(ctx.res, 200, index, headers, ctx.method === 'HEAD');
}

function plusOne(limit: number | undefined): number | undefined {
  return limit === undefined ? undefined : limit + 1;
}

function paginate(rows: string[], limit: number | undefined, path: string): { items: string[]; link?: string } {
  if (limit === undefined || rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, link: limit > 0 ? nextPageLink(path, limit, items[items.length - 1]!) : undefined };
}
