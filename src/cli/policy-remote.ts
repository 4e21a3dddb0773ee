/**
 * `wharf policy …` and `wharf namespace …` against a running server (--server), through its
 * /api/v1 policy API (src/policy/service/policy-api.ts): the same commands and output as on a
 * data folder, with the server's view of stored artifacts and supply-chain facts.
 */
import type { SimulationReport } from '../policy/service/simulation.ts';
import { parseBytes, printSimulation, readData, readModules, UsageError, type Values } from './policy-admin.ts';
import { segment, type ServerClient } from './server-client.ts';
import { printRows } from './table.ts';

interface StoredPolicy { name: string; version: number; revision: string; mode: string; package: string; binding: { points: string[]; namespaces: string[]; repositories: string[]; artifactTypes: string[] } }
interface Violation { msg: string }
interface Decision { time: string; point: string; repository?: string; digest?: string; allowed: boolean; policies: string[]; result: { violations: Violation[] } }

const API = '/api/v1';

export async function remotePolicyAdmin(server: ServerClient, group: 'policy' | 'namespace', command: string | undefined, paths: string[], values: Values): Promise<void> {
  if (group === 'namespace') return remoteNamespace(server, command, paths, values);
  const binding = { namespaces: values.namespace, repositories: values.repository, artifactTypes: values['artifact-type'] };
  switch (command) {
    case 'push': {
      if (typeof values.name !== 'string') throw new UsageError('--name NAME is needed');
      const source = typeof values['from-oci'] === 'string' ? { ociReference: values['from-oci'] } : { modules: readModules(paths) };
      const stored = await server.call('PUT', `${API}/policies/${segment(values.name, '--name')}`, {
        ...source, package: values.package, description: values.description, mode: values.mode,
        data: readData(values['data-file'] as string | undefined), binding: { ...binding, points: values.point },
      }) as StoredPolicy;
      console.log(`policy ${stored.name} version ${stored.version} (revision ${stored.revision.slice(0, 12)}) stored on ${server.url}`);
      return;
    }
    case 'list':
      return print(values, ((await server.call('GET', `${API}/policies`)) as StoredPolicy[]).map((p) => ({
        name: p.name, version: p.version, mode: p.mode, points: p.binding.points.join(','), package: p.package,
        scope: [...p.binding.namespaces.map((n) => `ns:${n}`), ...p.binding.repositories.map((r) => `repo:${r}`), ...p.binding.artifactTypes.map((t) => `type:${t}`)].join(' ') || '*',
      })));
    case 'rm':
      if (!paths[0]) throw new UsageError('usage: wharf policy rm NAME');
      await server.call('DELETE', `${API}/policies/${segment(paths[0], 'NAME')}`);
      return;
    case 'quarantine':
      if (paths[0] === 'release') {
        if (!paths[1] || paths.length > 2) throw new UsageError('usage: wharf policy quarantine release REPOSITORY@DIGEST');
        await server.call('DELETE', `${API}/quarantine/${encodeURIComponent(paths[1])}`);
        return console.log(`released ${paths[1]} from quarantine on ${server.url}`);
      }
      if (paths.length > 0) throw new UsageError('usage: wharf policy quarantine [release REPOSITORY@DIGEST]');
      return print(values, ((await server.call('GET', `${API}/quarantine`)) as { repository: string; digest: string; since: string; reasons: Violation[] }[])
        .map((q) => ({ repository: q.repository, digest: q.digest, since: q.since, reasons: q.reasons.map((r) => r.msg).join('; ') })));
    case 'decisions': {
      const query = new URLSearchParams();
      for (const key of ['point', 'repository', 'policy', 'limit'] as const) {
        const value = values[key];
        if (typeof value === 'string') query.set(key, value);
      }
      if (values.denied) query.set('allowed', 'false');
      const decisions = await server.call('GET', `${API}/decisions?${query}`) as Decision[];
      if (values.json) return console.log(JSON.stringify(decisions, null, 2));
      return print(values, decisions.map((d) => ({
        time: d.time, point: d.point, target: `${d.repository ?? ''}${d.digest ? `@${d.digest.slice(7, 19)}` : ''}`,
        allowed: d.allowed, policies: d.policies.join(','), reasons: d.result.violations.map((v) => v.msg).join('; '),
      })));
    }
    case 'simulate': {
      const report = await server.call('POST', `${API}/policy-simulations`, {
        name: 'simulation', package: values.package, modules: readModules(paths), data: readData(values['data-file'] as string | undefined),
        binding: { ...binding, points: values.point },
      }) as SimulationReport;
      printSimulation(report, (values.point as string[] | undefined) ?? ['push'], values, ` on ${server.url}`);
      return;
    }
    default:
      throw new UsageError(`"${command}" is not available with --server`);
  }
}

async function remoteNamespace(server: ServerClient, command: string | undefined, [namespace]: string[], values: Values): Promise<void> {
  if (!namespace) throw new UsageError('usage: wharf namespace set|show NAMESPACE …');
  const path = `${API}/namespaces/${segment(namespace, 'NAMESPACE')}/settings`;
  const current = (await server.call('GET', path)) as { labels: Record<string, string> } & Record<string, unknown>;
  if (command === 'show') return console.log(JSON.stringify(current, null, 2));
  if (command !== 'set') throw new UsageError('use set or show');
  const labels: Record<string, string> = { ...current.labels };
  for (const label of (values.label as string[] | undefined) ?? []) {
    const equals = label.indexOf('=');
    if (equals <= 0) throw new UsageError(`--label takes KEY=VALUE, not "${label}"`);
    labels[label.slice(0, equals)] = label.slice(equals + 1);
  }
  await server.call('PUT', path, {
    ...current, labels,
    ...(values.quota !== undefined ? { quotaBytes: parseBytes(values.quota as string) } : {}),
    ...(values.budget !== undefined ? { monthlyBudget: Number(values.budget) } : {}),
    ...(values.price !== undefined ? { pricePerGiBMonth: Number(values.price) } : {}),
    ...(values.currency !== undefined ? { currency: values.currency } : {}),
  });
}

function print(values: Values, rows: Record<string, unknown>[]): void {
  printRows(rows, values.json === true);
}
