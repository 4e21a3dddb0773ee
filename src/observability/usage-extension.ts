/**
 * Usage telemetry as a registry extension: records pulls and pushes (batched, off the request
 * path), mirrors policy decisions, measures storage per namespace daily, prunes by age, and
 * answers POST /api/v1/query with the pipe-SQL query language (query/).
 */
import { namespaceOf } from '../auth/access.ts';
import type { RegistryEvent } from '../distribution/events.ts';
import { policyDatabasePath } from '../policy/service/policy-extension.ts';
import { SqlitePolicyStore } from '../policy/service/sqlite-policy-store.ts';
import type { Extension, RunningExtension } from '../server/extension.ts';
import type { MetadataStore } from '../storage/metadata/metadata-store.ts';
import { decisionRows } from './usage/decision-rows.ts';
import { handleQuery, QUERY_ROUTES } from './usage/query-api.ts';
import { SqliteUsageStore, telemetryDatabasePath } from './usage/sqlite-usage-store.ts';
import { UsageQueries } from './usage/usage-queries.ts';
import { UsageRecorder } from './usage/usage-recorder.ts';
import type { ArtifactRow, StorageRow, UsageStore } from './usage/usage-store.ts';

const DAY_MS = 86_400_000;
/** Decisions and audit entries are copied from their logs this often, at most this many a round. */
const DECISION_MIRROR_MS = 5000;
const DECISION_MIRROR_BATCH = 1000;

export interface RunningUsage extends RunningExtension {
  readonly recorder: UsageRecorder;
  readonly store: UsageStore;
  /** Prunes old rows and measures storage and the artifact inventory (every measureIntervalSeconds, and a second after start). */
  housekeeping(): Promise<void>;
  /** Writes what is waiting and copies new policy decisions (tests and the query API call it). */
  flush(): Promise<void>;
}

/** What the policy extension offers, when it runs. */
interface PolicyLike extends RunningExtension {
  readonly service: { flushDecisions(): Promise<void> };
}

export const usageExtension = {
  name: 'usage',
  async start({ config, registry, logger, running }) {
    const store = new SqliteUsageStore(telemetryDatabasePath(config.data));
    await store.migrate();
    const settings = config.observability;
    const recorder = new UsageRecorder(store, settings.usage, (error) => logger.error({ err: error }, 'writing usage records failed'));
    recorder.start();
    const unsubscribe = registry.events.subscribe((event) => record(recorder, event));

    const policy = running.get('policy') as PolicyLike | undefined;
    const policyStore = policy ? new SqlitePolicyStore(policyDatabasePath(config.data)) : undefined;
    // The audit trail is the identity extension's, when authentication is on.
    // Loaded only then: a registry without authentication never loads the identity code.
    const identityStore = running.has('identity') ? await openIdentityStore(config.data) : undefined;
    let mirroring: Promise<void> = Promise.resolve();
    const mirrorDecisions = () => (mirroring = mirroring.then(async () => {
      if (policy && policyStore) {
        await policy.service.flushDecisions();
        const latest = await store.latestDecisionTime();
        const records = await policyStore.listDecisions({ limit: DECISION_MIRROR_BATCH });
        recorder.recordDecisions(records.filter((decision) => decision.time.getTime() >= latest).flatMap(decisionRows));
      }
      if (identityStore) {
        const latest = await store.latestAuditTime();
        const entries = await identityStore.listAudit({ limit: DECISION_MIRROR_BATCH });
        recorder.recordAudit(entries.filter((entry) => entry.time.getTime() >= latest).map((entry) => ({
          time: entry.time.getTime(), identity: entry.identity, action: entry.action, resource: entry.resource, allowed: entry.allowed, reason: entry.reason,
          ...(entry.client === undefined ? {} : { clientAddress: entry.client }),
        })));
      }
    }).catch((error: unknown) => logger.error({ err: error }, 'copying policy decisions and audit entries failed')));
    const housekeeping = async () => {
      await store.prune(Date.now() - settings.retentionDays * DAY_MS);
      const now = Date.now();
      await store.putStorage(now - (now % DAY_MS), await storageByNamespace(registry.metadata));
      await store.replaceArtifacts(await inventory(registry.metadata));
    };
    // One run at a time; closing waits for the one under way.
    let housekeepingRun: Promise<void> | undefined;
    const runHousekeeping = () => {
      housekeepingRun ??= housekeeping()
        .catch((error: unknown) => logger.error({ err: error }, 'usage housekeeping failed'))
        .finally(() => { housekeepingRun = undefined; });
    };
    const mirrorTimer = setInterval(() => void mirrorDecisions(), DECISION_MIRROR_MS).unref();
    const housekeepingTimer = setInterval(runHousekeeping, settings.usage.measureIntervalSeconds * 1000).unref();
    const firstHousekeeping = setTimeout(runHousekeeping, 1000).unref();

    const queries = new UsageQueries(config.data, settings.query);
    const flush = async () => {
      await mirrorDecisions();
      await recorder.flush();
    };
    return {
      recorder,
      store,
      flush,
      housekeeping,
      apiRoutes: QUERY_ROUTES,
      handle: (ctx) => handleQuery(ctx, queries, store, flush),
      async close() {
        clearInterval(mirrorTimer);
        clearInterval(housekeepingTimer);
        clearTimeout(firstHousekeeping);
        unsubscribe();
        await housekeepingRun;
        await mirroring;
        await recorder.close();
        await queries.close();
        await policyStore?.close();
        await identityStore?.close();
        await store.close();
      },
    } satisfies RunningUsage;
  },
} satisfies Extension;

async function openIdentityStore(dataDir: string) {
  const [{ identityDatabasePath }, { SqliteIdentityStore }] = await Promise.all([import('../auth/identity-extension.ts'), import('../auth/sqlite-identity-store.ts')]);
  return new SqliteIdentityStore(identityDatabasePath(dataDir));
}

function record(recorder: UsageRecorder, event: RegistryEvent): void {
  const time = Date.now();
  if (event.kind === 'content-pulled') {
    const { client } = event;
    recorder.recordPull({
      time, repository: event.repository, digest: event.digest, kind: event.target, bytes: event.bytes, identity: client.identity,
      ...(event.tag === undefined ? {} : { tag: event.tag }),
      ...(client.address === undefined ? {} : { clientAddress: client.address }),
      ...(client.userAgent === undefined ? {} : { userAgent: client.userAgent }),
    });
  } else if ((event.kind === 'manifest-pushed' || event.kind === 'blob-committed') && event.client) {
    const { client } = event;
    recorder.recordPush({
      time, repository: event.repository, digest: event.digest, identity: client.identity,
      ...(event.kind === 'manifest-pushed'
        ? { kind: 'manifest' as const, bytes: event.content.byteLength, ...(event.tag === undefined ? {} : { tag: event.tag }) }
        : { kind: 'blob' as const, bytes: event.size }),
      ...(client.address === undefined ? {} : { clientAddress: client.address }),
      ...(client.userAgent === undefined ? {} : { userAgent: client.userAgent }),
    });
  }
}

/** Every manifest of every repository, once per tag pointing at it (or once untagged). */
async function inventory(metadata: MetadataStore): Promise<ArtifactRow[]> {
  const rows: ArtifactRow[] = [];
  for (const repository of await metadata.listRepositories({})) {
    const tagsOf = new Map<string, string[]>();
    for (const tag of (await metadata.listTags(repository, {})) ?? []) {
      const manifest = await metadata.getManifestByTag(repository, tag);
      if (manifest) tagsOf.set(manifest.digest, [...(tagsOf.get(manifest.digest) ?? []), tag]);
    }
    for (const { digest, mediaType } of await metadata.listManifests(repository)) {
      const pushed = (await metadata.getManifest(repository, digest))?.pushedAt?.getTime();
      const base = { repository, digest, mediaType, ...(pushed === undefined ? {} : { pushed }) };
      const tags = tagsOf.get(digest);
      if (tags) rows.push(...tags.map((tag) => ({ ...base, tag })));
      else rows.push(base);
    }
  }
  return rows;
}

async function storageByNamespace(metadata: MetadataStore): Promise<StorageRow[]> {
  const repositories = await metadata.listRepositories({});
  const counts = new Map<string, number>();
  for (const repository of repositories) counts.set(namespaceOf(repository), (counts.get(namespaceOf(repository)) ?? 0) + 1);
  const rows: StorageRow[] = [];
  for (const [namespace, count] of counts) {
    const usage = await metadata.namespaceUsage(namespace);
    rows.push({ namespace, bytes: usage.storageBytes, repositories: count, artifacts: usage.artifacts });
  }
  return rows;
}
