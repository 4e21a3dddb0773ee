/**
 * Managing the policies a Wharf enforces, on a running server (--server) or its data folder
 * (--data-dir), as `wharf user` does:
 *
 *   wharf policy push PATH… --name NAME --package PKG [--point push|pull|admission]… [--namespace GLOB]…
 *                    [--repository GLOB]… [--artifact-type GLOB]… [--mode enforce|audit] [--data-file FILE]
 *   wharf policy push --from-oci REPOSITORY:TAG --name NAME --package PKG …     (an OPA bundle stored in Wharf)
 *   wharf policy list | rm NAME | quarantine [release REPOSITORY@DIGEST]
 *   wharf policy decisions [--point P] [--denied] [--repository R] [--policy NAME] [--limit N] [--json]
 *   wharf policy simulate PATH… --package PKG [--point P]… [--namespace|--repository|--artifact-type GLOB]… [--data-file FILE] [--json]
 *   wharf namespace set NAMESPACE [--label K=V]… [--quota 10GiB] [--budget 25] [--price 0.02] [--currency EUR] | show NAMESPACE
 * A running server applies pushed policies within a second.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { ConfigError, type WharfConfig } from '../config/config.ts';
import { openBlobStore } from '../storage/blobs/open-blob-store.ts';
import { openMetadataStore } from '../storage/metadata/open-metadata-store.ts';
import type { RegistryDeps } from '../distribution/registry-deps.ts';
import { BundleError } from '../policy/service/opa-bundle.ts';
import { loadBundleFromRegistry } from '../policy/service/bundle-source.ts';
import { PolicyDefinitionError, validatePolicyDefinition } from '../policy/service/policy-definition.ts';
import { decisionFilter, quarantinedArtifact, validateNamespaceSettings } from '../policy/service/policy-api.ts';
import { engineSettings, policyDatabasePath } from '../policy/service/policy-extension.ts';
import { simulatePolicy, type SimulationReport } from '../policy/service/simulation.ts';
import { namespaceFacts, type TrustSource } from '../policy/service/policy-input.ts';
import { supplyChainSettings } from '../config/supplychain-keys.ts';
import { SqliteSupplyChainIndex } from '../supplychain/index/sqlite-index.ts';
import { SupplyChainService } from '../supplychain/supplychain-service.ts';
import { openPolicyStore } from '../policy/service/open-policy-store.ts';
import { PolicyStoreError, type AdmissionTrace, type PolicyStore } from '../policy/service/policy-store.ts';
import { UnreachableError } from '../client/fetch-errors.ts';
import { requireDataFolder, resolveTarget, TargetError } from './admin-target.ts';
import { COMMAND_TABLE, parseOptions } from './command-table.ts';
import { remotePolicyAdmin } from './policy-remote.ts';
import { ServerClient, ServerError } from './server-client.ts';
import { printRows } from './table.ts';

export const POLICY_ADMIN_COMMANDS = new Set(['push', 'list', 'rm', 'decisions', 'simulate', 'quarantine']);

const OPTIONS = {
  data: { type: 'string' }, config: { type: 'string' }, name: { type: 'string' }, package: { type: 'string' },
  point: { type: 'string', multiple: true }, namespace: { type: 'string', multiple: true }, repository: { type: 'string', multiple: true },
  'artifact-type': { type: 'string', multiple: true }, mode: { type: 'string' }, 'data-file': { type: 'string' }, 'from-oci': { type: 'string' },
  description: { type: 'string' }, denied: { type: 'boolean' }, policy: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' },
  label: { type: 'string', multiple: true }, quota: { type: 'string' }, budget: { type: 'string' }, price: { type: 'string' }, currency: { type: 'string' },
} as const;

export type Values = Record<string, string | boolean | string[] | undefined>;

export class UsageError extends Error {}

/** `wharf policy <push|list|rm|decisions|simulate|quarantine>` and `wharf namespace <set|show>`. */
export async function policyAdminCommand(group: 'policy' | 'namespace', argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const spec = command === undefined ? undefined : COMMAND_TABLE[group]?.subcommands?.[command];
  // Each subcommand parses only its own flags (the ones its --help lists).
  const { values, positionals } = parseArgs({ args: rest, options: spec ? parseOptions(spec.flags) : OPTIONS, allowPositionals: true, strict: true }) as { values: Values; positionals: string[] };
  let store: PolicyStore | undefined;
  let registry: (RegistryDeps & { close(): Promise<void> }) | undefined;
  try {
    const target = resolveTarget(values as Record<string, string | undefined>);
    if (target.kind === 'server') {
      await remotePolicyAdmin(new ServerClient(target.url, target.credentials), group, command, positionals, values);
      return 0;
    }
    requireDataFolder(target);
    const config = target.config;
    store = openPolicyStore(config, policyDatabasePath(config.data));
    await store.migrate();
    const openRegistry = async () => (registry ??= await offlineRegistry(config));
    if (group === 'namespace') await namespaceAction(store, command, positionals, values);
    else await policyAction(store, config, openRegistry, command, positionals, values);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof PolicyDefinitionError || error instanceof BundleError || error instanceof ConfigError
      || error instanceof PolicyStoreError || error instanceof TargetError || error instanceof ServerError || error instanceof UnreachableError) {
      console.error(`wharf ${group} ${command ?? ''}: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await store?.close();
    await registry?.close();
  }
}

/** A simulation report as both the data-folder and the --server commands print it. */
export function printSimulation(report: SimulationReport, boundPoints: readonly string[], values: Values, where = ''): void {
  if (values.json) return console.log(JSON.stringify(report, null, 2));
  const skipped = boundPoints.includes('admission') ? ' (admission is not simulated: it judges workloads, not stored content)' : '';
  console.log(`evaluated ${report.evaluated} stored artifacts${where} at ${report.points.join(', ') || 'no point'}${skipped}: ${report.denied.length} would be denied, ${report.quarantined.length} quarantined`);
  const at = (point: string) => (report.points.length > 1 ? `${point} ` : '');
  for (const entry of report.denied) console.log(`DENY ${at(entry.point)}${entry.repository}:${entry.reference}  ${entry.violations.map((v) => v.msg).join('; ')}`);
  for (const entry of report.quarantined) console.log(`HOLD ${entry.repository}:${entry.reference}  ${entry.violations.map((v) => v.msg).join('; ')}`);
  for (const error of report.errors) console.log(`ERROR ${error}`);
}

async function policyAction(store: PolicyStore, config: WharfConfig, openRegistry: () => Promise<RegistryDeps>, command: string | undefined, paths: string[], values: Values): Promise<void> {
  switch (command) {
    case 'push': {
      const source = values['from-oci'] ? await loadBundleFromRegistry(await openRegistry(), values['from-oci'] as string) : undefined;
      const definition = validatePolicyDefinition({
        name: values.name, package: values.package, description: values.description, mode: values.mode,
        modules: source?.modules ?? readModules(paths), data: { ...source?.data, ...readData(values['data-file'] as string | undefined) },
        binding: { points: values.point, namespaces: values.namespace, repositories: values.repository, artifactTypes: values['artifact-type'] },
        origin: source?.origin ?? 'cli',
      });
      const stored = await store.putPolicy(definition);
      console.log(`policy ${stored.name} version ${stored.version} (revision ${stored.revision.slice(0, 12)}) stored`);
      return;
    }
    case 'list':
      return print(values, (await store.listPolicies()).map((p) => ({
        name: p.name, version: p.version, mode: p.mode, points: p.binding.points.join(','), package: p.package,
        scope: [...p.binding.namespaces.map((n) => `ns:${n}`), ...p.binding.repositories.map((r) => `repo:${r}`), ...p.binding.artifactTypes.map((t) => `type:${t}`)].join(' ') || '*',
      })));
    case 'rm':
      if (!paths[0]) throw new UsageError('usage: wharf policy rm NAME');
      if (!(await store.deletePolicy(paths[0]))) throw new UsageError(`no policy ${paths[0]}`);
      return;
    case 'quarantine':
      if (paths[0] === 'release') {
        if (!paths[1] || paths.length > 2) throw new UsageError('usage: wharf policy quarantine release REPOSITORY@DIGEST');
        const { repository, digest } = quarantinedArtifact(paths[1]);
        // The store's generation moves, so a running server applies the release within a second.
        if (!(await store.releaseQuarantine(repository, digest))) throw new UsageError(`${repository}@${digest} is not quarantined`);
        return console.log(`released ${repository}@${digest} from quarantine`);
      }
      if (paths.length > 0) throw new UsageError('usage: wharf policy quarantine [release REPOSITORY@DIGEST]');
      return print(values, (await store.listQuarantined()).map((q) => ({ repository: q.repository, digest: q.digest, since: q.since.toISOString(), reasons: q.reasons.map((r) => r.msg).join('; ') })));
    case 'decisions': {
      const query = new URLSearchParams();
      const first = (value: Values[string]) => (Array.isArray(value) ? value[0] : value);
      for (const [key, value] of [['point', first(values.point)], ['repository', first(values.repository)], ['policy', values.policy], ['limit', values.limit]] as const) {
        if (typeof value === 'string') query.set(key, value);
      }
      if (values.denied) query.set('allowed', 'false');
      const decisions = await store.listDecisions(decisionFilter(query));
      if (values.json) return console.log(JSON.stringify(decisions, null, 2));
      return print(values, decisions.map((d) => ({
        time: d.time.toISOString(), point: d.point,
        target: d.admission ? admissionTarget(d.admission) : `${d.repository ?? ''}${d.digest ? `@${d.digest.slice(7, 19)}` : ''}`,
        allowed: d.allowed, policies: d.policies.join(','), reasons: d.result.violations.map((v) => v.msg).join('; '),
      })));
    }
    case 'simulate': {
      const definition = validatePolicyDefinition({
        name: 'simulation', package: values.package, modules: readModules(paths), data: readData(values['data-file'] as string | undefined),
        binding: { points: values.point, namespaces: values.namespace, repositories: values.repository, artifactTypes: values['artifact-type'] },
      });
      const registry = await openRegistry();
      const trust = await offlineTrust(config, registry);
      try {
        // The server's simulation, fed from the data folder: the same input builder, trust facts included.
        const sources = { registry, trust, namespaceFacts: (namespace: string) => namespaceFacts(registry, store, namespace) };
        const report = await simulatePolicy(definition, sources, engineSettings(config));
        return printSimulation(report, definition.binding.points, values);
      } finally {
        trust?.close();
      }
    }
    default:
      throw new UsageError(`unknown command; use one of ${[...POLICY_ADMIN_COMMANDS].join(', ')}`);
  }
}

async function namespaceAction(store: PolicyStore, command: string | undefined, [namespace]: string[], values: Values): Promise<void> {
  if (!namespace) throw new UsageError('usage: wharf namespace set|show NAMESPACE …');
  if (command === 'show') return console.log(JSON.stringify((await store.getNamespaceSettings(namespace)) ?? { labels: {} }, null, 2));
  if (command !== 'set') throw new UsageError('use set or show');
  const current = (await store.getNamespaceSettings(namespace)) ?? { labels: {} };
  const labels: Record<string, string> = { ...current.labels };
  for (const label of (values.label as string[] | undefined) ?? []) {
    const equals = label.indexOf('=');
    if (equals <= 0) throw new UsageError(`--label takes KEY=VALUE, not "${label}"`);
    labels[label.slice(0, equals)] = label.slice(equals + 1);
  }
  await store.putNamespaceSettings(namespace, validateNamespaceSettings({
    ...current, labels,
    ...(values.quota !== undefined ? { quotaBytes: parseBytes(values.quota as string) } : {}),
    ...(values.budget !== undefined ? { monthlyBudget: Number(values.budget) } : {}),
    ...(values.price !== undefined ? { pricePerGiBMonth: Number(values.price) } : {}),
    ...(values.currency !== undefined ? { currency: values.currency } : {}),
  }));
}

/** `.rego` files, or folders searched for them (tests `*_test.rego` left out). */
export function readModules(paths: string[]): { file: string; source: string }[] {
  if (paths.length === 0) throw new UsageError('give the .rego files or folders of the policy');
  const files: string[] = [];
  const visit = (path: string) => {
    let info;
    try {
      info = statSync(path);
    } catch {
      throw new UsageError(`${path}: no such file or folder`);
    }
    if (info.isDirectory()) for (const entry of readdirSync(path).sort()) visit(join(path, entry));
    else if (path.endsWith('.rego') && !path.endsWith('_test.rego')) files.push(path);
  };
  paths.forEach(visit);
  if (files.length === 0) throw new UsageError(`no .rego module in ${paths.join(', ')}`);
  return files.map((file) => ({ file, source: readFileSync(file, 'utf8') }));
}

export function readData(path: string | undefined): Record<string, unknown> {
  if (path === undefined) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    const value = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
  } catch (error) {
    throw new UsageError(`${path}: ${(error as Error).message}`);
  }
  throw new UsageError(`${path}: the data document must be an object`);
}

export function parseBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB|KB|MB|GB|TB)?$/i.exec(text.trim());
  if (!match) throw new UsageError(`--quota takes a size like 10GiB, not "${text}"`);
  const units: Record<string, number> = { b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12 };
  return Math.round(Number(match[1]) * units[(match[2] ?? 'b').toLowerCase()]!);
}

/** The supply-chain facts of a data folder, as the server gives them to policies (none when the feature is off). */
async function offlineTrust(config: WharfConfig, registry: RegistryDeps): Promise<(TrustSource & { close(): void }) | undefined> {
  const settings = supplyChainSettings(config);
  if (!settings.enabled) return undefined;
  const index = new SqliteSupplyChainIndex(join(config.data, 'supplychain.db'));
  const quiet = { info: () => undefined, warn: () => undefined, error: (fields: object, message: string) => console.error(`wharf: ${message}`, fields) };
  const service = new SupplyChainService(index, registry, settings, quiet);
  try {
    await service.start();
  } catch (error) {
    index.close();
    throw error;
  }
  return { trustOf: (repository, digest) => service.trustFacts(repository, digest), close: () => index.close() };
}

/** The stores of a data folder, for reading stored content without a server. */
async function offlineRegistry(config: WharfConfig): Promise<RegistryDeps & { close(): Promise<void> }> {
  const opened = await openBlobStore(config);
  const { blobs } = opened;
  const metadata = openMetadataStore(config);
  await metadata.migrate();
  return { blobs, metadata, close: async () => { await metadata.close(); opened.close(); } } as unknown as RegistryDeps & { close(): Promise<void> };
}

/** `Deployment prod/web web=nginx:1.25 (uid)`: enough to find the workload and the review. */
function admissionTarget(trace: AdmissionTrace): string {
  const workload = `${trace.workload.kind} ${trace.workload.namespace ?? ''}/${trace.workload.name ?? ''}`;
  return `${workload}${trace.container ? ` ${trace.container.name}=${trace.image}` : ''} (${trace.uid})`;
}

function print(values: Values, rows: Record<string, unknown>[]): void {
  printRows(rows, values.json === true);
}
