/**
 * The supply-chain endpoints under /api/v1/:
 *   GET  /api/v1/repositories/{name}/manifests/{digest}/trust   the one-answer document
 *   GET  /api/v1/trust                                           current trust configuration + version (administrators)
 *   PUT  /api/v1/trust                                           replace it (re-verifies in the background)
 *   POST /api/v1/vulnerabilities                                 import OSV records (JSON, JSON array or JSON Lines)
 *   GET  /api/v1/vulnerabilities                                 database size
 */
import type { RequestContext } from '../../distribution/http.ts';
import { readBody, sendJson } from '../../distribution/http.ts';
import { registryError } from '../../distribution/errors.ts';
import { isDigest } from '../shared/digest.ts';
import { parseJson } from '../shared/json.ts';
import { parseJsonLines } from '../vulns/osv-import.ts';
import { parseOsvRecord, type OsvRecord } from '../vulns/osv-record.ts';
import type { SupplyChainService } from '../supplychain-service.ts';
import { matchApiRoute, type ApiRoute } from '../../server/api-routes.ts';

const MAX_TRUST_BODY = 16 * 1024 * 1024;
const MAX_VULN_BODY = 512 * 1024 * 1024;

/** The routes, with the access the guard checks before they run (server/api-routes.ts). */
export const SUPPLY_CHAIN_ROUTES = [
  // The document tells what a repository holds: `{repository}` makes the guard require pull access.
  { method: 'GET', path: '/api/v1/repositories/{repository}/manifests/{digest}/trust', access: 'authenticated' },
  // Keys and identities the registry trusts name other teams' workflows and signers.
  { method: 'GET', path: '/api/v1/trust', access: 'admin' },
  { method: 'PUT', path: '/api/v1/trust', access: 'admin' },
  // The size of the shared database tells nothing about any namespace.
  { method: 'GET', path: '/api/v1/vulnerabilities', access: 'authenticated' },
  { method: 'POST', path: '/api/v1/vulnerabilities', access: 'admin' },
] as const satisfies readonly ApiRoute[];

export async function handleSupplyChainRequest(ctx: RequestContext, service: SupplyChainService): Promise<boolean> {
  const { matched, allowedMethods } = matchApiRoute(SUPPLY_CHAIN_ROUTES, ctx.method, ctx.path);
  if (!matched) {
    if (allowedMethods.length > 0) throw registryError('UNSUPPORTED', { message: `${ctx.method} is not supported here`, headers: { allow: allowedMethods.join(', ') } });
    return false;
  }
  // The guard checked the declared access already; these checks keep the handlers safe on their own.
  if (matched.route.access === 'admin') requireAdmin(ctx);
  switch (matched.route) {
    case SUPPLY_CHAIN_ROUTES[0]:
      await requirePull(ctx, matched.params.repository!);
      await serveTrustDocument(ctx, service, matched.params.repository!, matched.params.digest!);
      break;
    case SUPPLY_CHAIN_ROUTES[1]: serveTrust(ctx, service); break;
    case SUPPLY_CHAIN_ROUTES[2]: await replaceTrust(ctx, service); break;
    case SUPPLY_CHAIN_ROUTES[3]: sendJson(ctx.res, 200, { records: service.vulnRecordCount }); break;
    case SUPPLY_CHAIN_ROUTES[4]: await importVulnerabilities(ctx, service); break;
  }
  return true;
}

/** With authentication on, changing trust or the vulnerability database is an administrator's job. */
function requireAdmin(ctx: RequestContext): void {
  if (ctx.principal && !ctx.principal.admin) throw registryError('DENIED', { message: `${ctx.principal.subject} is not an administrator` });
}

/** The document reveals what a repository holds: it needs pull access when access is checked. */
async function requirePull(ctx: RequestContext, repository: string): Promise<void> {
  if (ctx.access && !(await ctx.access.can(repository, 'pull'))) throw registryError('DENIED', { message: `no pull access to ${repository}` });
}

async function serveTrustDocument(ctx: RequestContext, service: SupplyChainService, repository: string, digest: string): Promise<void> {
  if (!isDigest(digest)) throw registryError('BAD_REQUEST', { message: `"${digest}" is not a digest`, detail: { digest } });
  const document = await service.trustDocument(repository, digest, ctx.query.get('findings') === 'all');
  if (!document) throw registryError('NOT_FOUND', { message: `repository ${repository} has neither manifest ${digest} nor anything attached to it`, detail: { repository, digest } });
  ctx.res.writeHead(200, { 'content-type': 'application/json', 'content-length': document.byteLength });
  ctx.res.end(ctx.method === 'HEAD' ? undefined : document);
}

function serveTrust(ctx: RequestContext, service: SupplyChainService): void {
  const stored = service.index.getTrust();
  sendJson(ctx.res, 200, { version: service.trust.version, source: stored?.source ?? 'default', updatedAt: stored?.updatedAt.toISOString() ?? null, trust: service.trust.document });
}

async function replaceTrust(ctx: RequestContext, service: SupplyChainService): Promise<void> {
  const body = parseJson(await readBody(ctx.req, MAX_TRUST_BODY));
  if (!body.ok) throw registryError('BAD_REQUEST', { message: `trust configuration is ${body.reason}` });
  const result = service.replaceTrust(body.value, 'api');
  if (!result.ok) throw registryError('BAD_REQUEST', { message: result.reason, detail: { reason: result.reason } });
  sendJson(ctx.res, 200, { version: result.version, changed: result.changed });
}

async function importVulnerabilities(ctx: RequestContext, service: SupplyChainService): Promise<void> {
  const text = (await readBody(ctx.req, MAX_VULN_BODY)).toString('utf8');
  const records: OsvRecord[] = [];
  const problems: { source: string; reason: string }[] = [];
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) {
    const parsed = parseJson(trimmed);
    if (!parsed.ok || !Array.isArray(parsed.value)) throw registryError('BAD_REQUEST', { message: `OSV body is ${parsed.ok ? 'not an array' : parsed.reason}` });
    parsed.value.forEach((value, index) => {
      const record = parseOsvRecord(value);
      if (record.ok) records.push(record.record); else problems.push({ source: `[${index}]`, reason: record.reason });
    });
  } else {
    const loaded = parseJsonLines(text, 'body');
    records.push(...loaded.records);
    problems.push(...loaded.problems);
  }
  const result = service.importVulnerabilities(records);
  sendJson(ctx.res, 200, { ...result, rejected: problems.length, problems: problems.slice(0, 20), records: service.vulnRecordCount });
}
