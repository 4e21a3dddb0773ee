/**
 * Managing the policies a Wharf enforces, against its data folder (as `wharf user` does):
 *
 *   wharf policy push PATH… --name NAME --package PKG [--point push|pull|admission]… [--namespace GLOB]…
 *                    [--repository GLOB]… [--artifact-type GLOB]… [--mode enforce|audit] [--data FILE]
 *   wharf policy push --from-oci REPOSITORY:TAG --name NAME --package PKG …     (an OPA bundle stored in Wharf)
 *   wharf policy list | rm NAME | quarantine
 *   wharf policy decisions [--point P] [--denied] [--repository R] [--policy NAME] [--limit N] [--json]
 *   wharf policy simulate PATH… --package PKG [--data FILE] [--json]
 *   wharf namespace set NAMESPACE [--label K=V]… [--quota 10GiB] [--budget 25] [--price 0.02] [--currency EUR] | show NAMESPACE
 * A running server applies pushed policies within a second.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { ConfigError, loadConfig, type WharfConfig } from '../config/config.ts';
import { FilesystemBlobStore } from '../storage/blobs/filesystem-blob-store.ts';
import { openMetadataStore } from '../storage/metadata/open-metadata-store.ts';
import type { RegistryDeps } from '../distribution/registry-deps.ts';
import { BundleError } from '../policy/service/opa-bundle.ts';
import { loadBundleFromRegistry } from '../policy/service/bundle-source.ts';
import { PolicyDefinitionError, validatePolicyDefinition } from '../policy/service/policy-definition.ts';
import { decisionFilter, validateNamespaceSettings } from '../policy/service/policy-api.ts';
import { engineSettings, policyDatabasePath } from '../policy/service/policy-extension.ts';
import { simulatePolicy } from '../policy/service/simulation.ts';
import { openPolicyStore } from '../policy/service/open-policy-store.ts';
import type { PolicyStore } from '../policy/service/policy-store.ts';
import { printRows } from './table.ts';

export const POLICY_ADMIN_COMMANDS = new Set(['push', 'list', 'rm', 'decisions', 'simulate', 'quarantine']);

const OPTIONS = {
  data: { type: 'string' }, config: { type: 'string' }, name: { type: 'string' }, package: { type: 'string' },
  point: { type: 'string', multiple: true }, namespace: { type: 'string', multiple: true }, repository: { type: 'string', multiple: true },
  'artifact-type': { type: 'string', multiple: true }, mode: { type: 'string' }, 'data-file': { type: 'string' }, 'from-oci': { type: 'string' },
  description: { type: 'string' }, denied: { type: 'boolean' }, policy: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' },
  label: { type: 'string', multiple: true }, quota: { type: 'string' }, budget: { type: 'string' }, price: { type: 'string' }, currency: { type: 'string' },
} as const;

type Values = Record<string, string | boolean | string[] | undefined>;

class UsageError extends Error {}

/** `wharf policy <push|list|rm|decisions|simulate|quarantine>` and `wharf namespace <set|show>`. */
export async function policyAdminCommand(group: 'policy' | 'namespace', argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
  let store: PolicyStore | undefined;
  let registry: (RegistryDeps & { close(): Promise<void> }) | undefined;
  try {
    const config = loadConfig({ file: values.config, env: process.env, flags: { data: values.data } });
    store = openPolicyStore(config, policyDatabasePath(config.data));
    await store.migrate();
    const openRegistry = async () => (registry ??= await offlineRegistry(config));
    if (group === 'namespace') await namespaceAction(store, command, positionals, values);
    else await policyAction(store, config, openRegistry, command, positionals, values);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof PolicyDefinitionError || error instanceof BundleError || error instanceof ConfigError) {
      console.error(`wharf ${group} ${command ?? ''}: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await store?.close();
    await registry?.close();
  }
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
        time: d.time.toISOString(), point: d.point, target: `${d.repository ?? ''}${d.digest ? `@${d.digest.slice(7, 19)}` : ''}`,
        allowed: d.allowed, policies: d.policies.join(','), reasons: d.result.violations.map((v) => v.msg).join('; '),
      })));
    }
    case 'simulate': {
      const definition = validatePolicyDefinition({
        name: 'simulation', package: values.package, modules: readModules(paths), data: readData(values['data-file'] as string | undefined),
        binding: { points: ['push'], namespaces: values.namespace, repositories: values.repository, artifactTypes: values['artifact-type'] },
      });
      const report = await simulatePolicy(definition, await openRegistry(), store, undefined, engineSettings(config));
      if (values.json) return console.log(JSON.stringify(report, null, 2));
      console.log(`evaluated ${report.evaluated} stored artifacts (supply-chain facts are not read offline): ${report.denied.length} would be denied, ${report.quarantined.length} quarantined`);
      for (const entry of report.denied) console.log(`DENY ${entry.repository}:${entry.reference}  ${entry.violations.map((v) => v.msg).join('; ')}`);
      for (const entry of report.quarantined) console.log(`HOLD ${entry.repository}:${entry.reference}  ${entry.violations.map((v) => v.msg).join('; ')}`);
      for (const error of report.errors) console.log(`ERROR ${error}`);
      return;
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
function readModules(paths: string[]): { file: string; source: string }[] {
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

function readData(path: string | undefined): Record<string, unknown> {
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

function parseBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB|KB|MB|GB|TB)?$/i.exec(text.trim());
  if (!match) throw new UsageError(`--quota takes a size like 10GiB, not "${text}"`);
  const units: Record<string, number> = { b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12 };
  return Math.round(Number(match[1]) * units[(match[2] ?? 'b').toLowerCase()]!);
}

/** The stores of a data folder, for reading stored content without a server. */
async function offlineRegistry(config: WharfConfig): Promise<RegistryDeps & { close(): Promise<void> }> {
  const blobs = new FilesystemBlobStore(join(config.data, 'blobs'), { directIO: config.storage.directIO });
  await blobs.init();
  const metadata = openMetadataStore(config);
  await metadata.migrate();
  return { blobs, metadata, close: () => metadata.close() } as unknown as RegistryDeps & { close(): Promise<void> };
}

function print(values: Values, rows: Record<string, unknown>[]): void {
  printRows(rows, values.json === true);
}
