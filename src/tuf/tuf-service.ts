/**
 * The registry's side of a namespace's TUF repository (TUF 1.0, metadata through @tufjs/models):
 * it holds the online snapshot and timestamp keys, accepts root and targets metadata that the
 * team (root, top-level targets) and the delegated publishers signed on their own machines,
 * checks it as a client would before storing it, and then signs a new snapshot and timestamp.
 * It never holds a root or targets key, so it cannot name a different artifact under a tag: a
 * forged snapshot or timestamp still points at targets metadata that only the team's keys sign.
 */
import { createHash } from 'node:crypto';
import { Metadata, MetadataKind, MetaFile, Root, Snapshot, Targets, Timestamp, type TargetFile } from '@tufjs/models';
import { namespaceOf } from '../auth/access.ts';
import { repositoryNameProblem } from '../content/names.ts';
import { generateTufKey, keyIdOf, signerOf, type TufKeyFile } from './keys.ts';
import type { KeySealer } from './sealed-keys.ts';
import type { DelegationRow, TargetRow, TufStore } from './tuf-store.ts';

export interface TufSettings {
  readonly timestampExpirySeconds: number;
  readonly snapshotExpirySeconds: number;
}

/** A refusal of uploaded metadata: the API answers it as 400 with the reason. */
export class TufRejection extends Error {
  readonly code: 'BAD_REQUEST' | 'CONFLICT' | 'NOT_FOUND' | 'DENIED';
  constructor(message: string, code: TufRejection['code'] = 'BAD_REQUEST') {
    super(message);
    this.code = code;
  }
}

/** What a publish may need the caller to be allowed (checked by the API against the caller's access). */
export interface PublishAccess {
  /** Root, top-level targets and online keys are the team's: administrators only. */
  teamMetadata(): Promise<void>;
  /** A delegated role names these repositories: the caller needs push access to each. */
  repositories(names: ReadonlySet<string>): Promise<void>;
}

export interface PublishRequest {
  readonly root?: unknown;
  /** Targets metadata by role name (`targets` for the top-level role). */
  readonly targets?: Readonly<Record<string, unknown>>;
}

export interface OnlineKeysAnswer {
  readonly snapshot: { readonly active: TufKeyFile[]; readonly pending: TufKeyFile[] };
  readonly timestamp: { readonly active: TufKeyFile[]; readonly pending: TufKeyFile[] };
}

export interface TufFacts {
  /** Whether the namespace has a TUF repository. */
  readonly enabled: boolean;
  /** Whether its timestamp is still valid (a frozen repository is not). */
  readonly current: boolean;
  /** The targets (REPOSITORY:TAG) that name this digest, with the role that signed each. */
  readonly targets: readonly { readonly path: string; readonly tag: string; readonly role: string }[];
}

/** The TUF specification version the metadata Wharf signs follows. */
export const SPEC_VERSION = '1.0.31';
const TOP_LEVEL = new Set(['root', 'targets', 'snapshot', 'timestamp']);
const ROLE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** A target's path: REPOSITORY:TAG, the reference a client resolves. */
const TARGET_PATH = /^([a-z0-9][a-z0-9._/-]*):([A-Za-z0-9_][A-Za-z0-9._-]{0,127})$/;

export function parseTargetPath(path: string): { repository: string; tag: string } | undefined {
  const match = TARGET_PATH.exec(path);
  if (!match || repositoryNameProblem(match[1]!) !== undefined) return undefined;
  return { repository: match[1]!, tag: match[2]! };
}

export function isRoleName(name: string): boolean {
  return ROLE_NAME.test(name) && !TOP_LEVEL.has(name);
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function serialize(metadata: Metadata<Root | Targets | Snapshot | Timestamp>): Buffer {
  return Buffer.from(JSON.stringify(metadata.toJSON()));
}

function parseMetadata<T extends MetadataKind.Root | MetadataKind.Targets>(kind: T, value: unknown, what: string) {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TufRejection(`${what} is not a JSON object`);
  const signedType = (value as { signed?: { _type?: unknown } }).signed?._type;
  if (signedType !== kind) throw new TufRejection(`${what} is not ${kind} metadata (signed._type is ${JSON.stringify(signedType)})`);
  try {
    return Metadata.fromJSON(kind as MetadataKind.Root, value as never) as unknown as T extends MetadataKind.Root ? Metadata<Root> : Metadata<Targets>;
  } catch (error) {
    throw new TufRejection(`${what} is not valid TUF metadata: ${(error as Error).message}`);
  }
}

function verifyDelegate(delegator: Metadata<Root | Targets>, role: string, delegated: Metadata<Root | Targets>, what: string): void {
  try {
    delegator.verifyDelegate(role, delegated);
  } catch (error) {
    throw new TufRejection(`${what} is not signed by a threshold of ${role}'s keys: ${(error as Error).message}`);
  }
}

export class TufService {
  readonly #store: TufStore;
  readonly #sealer: KeySealer;
  readonly #settings: TufSettings;
  readonly #now: () => Date;
  /** Reachable roles per namespace for the read paths (policy facts); dropped on every publication. */
  readonly #reachableCache = new Map<string, Set<string>>();

  constructor(store: TufStore, sealer: KeySealer, settings: TufSettings, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#sealer = sealer;
    this.#settings = settings;
    this.#now = now;
  }

  get store(): TufStore {
    return this.#store;
  }

  hasRepository(namespace: string): boolean {
    return this.#store.latest(namespace, 'root') !== undefined;
  }

  /**
   * The online keys a root must name for snapshot and timestamp: made on first use; `rotate` adds
   * a pending key for a role, which becomes active (and the old one retired) once a root naming
   * it is published.
   */
  onlineKeys(namespace: string, rotate?: 'snapshot' | 'timestamp'): OnlineKeysAnswer {
    return this.#store.transaction(() => {
      const rows = this.#store.onlineKeys(namespace);
      for (const role of ['snapshot', 'timestamp'] as const) {
        const live = rows.filter((row) => row.role === role && row.state !== 'retired');
        const wantsNew = live.length === 0 || (rotate === role && !live.some((row) => row.state === 'pending'));
        if (!wantsNew) continue;
        const key = generateTufKey();
        this.#store.addOnlineKey(namespace, {
          keyid: key.keyid, role, publicHex: key.keyval.public, sealed: this.#sealer.seal(key.private!, `${namespace}/${role}/${key.keyid}`),
          state: live.length === 0 ? 'active' : 'pending',
        });
      }
      const after = this.#store.onlineKeys(namespace);
      const publicOf = (row: { keyid: string; publicHex: string }): TufKeyFile => ({ keytype: 'ed25519', scheme: 'ed25519', keyid: row.keyid, keyval: { public: row.publicHex } });
      const of = (role: 'snapshot' | 'timestamp') => ({
        active: after.filter((row) => row.role === role && row.state === 'active').map(publicOf),
        pending: after.filter((row) => row.role === role && row.state === 'pending').map(publicOf),
      });
      return { snapshot: of('snapshot'), timestamp: of('timestamp') };
    });
  }

  /** A metadata file as TUF clients name it: `timestamp.json`, `N.root.json`, `N.snapshot.json`, `N.ROLE.json`, `ROLE.json`. */
  file(namespace: string, name: string): Buffer | undefined {
    const match = /^(?:([1-9][0-9]{0,15})\.)?([a-z0-9][a-z0-9_-]{0,63})\.json$/.exec(name);
    if (!match) return undefined;
    const role = match[2]!;
    if (match[1] !== undefined) {
      if (role === 'timestamp') return undefined;
      return this.#store.get(namespace, role, Number(match[1]))?.body;
    }
    return this.#store.latest(namespace, role)?.body;
  }

  /**
   * Accepts a batch of metadata the team or a publisher signed (a root, targets roles), checks each
   * as a client would, stores them, and signs a new snapshot and timestamp: all in one transaction,
   * so clients never see half of a batch.
   */
  async publish(namespace: string, request: PublishRequest, access: PublishAccess): Promise<{ snapshot: number; timestamp: number }> {
    const now = this.#now();
    const root = request.root === undefined ? undefined : parseMetadata(MetadataKind.Root, request.root, 'root');
    const targets = new Map<string, Metadata<Targets>>();
    for (const [role, value] of Object.entries(request.targets ?? {})) {
      if (role !== 'targets' && !isRoleName(role)) throw new TufRejection(`"${role}" is not a role name (lower case letters, digits, - and _; not root, snapshot or timestamp)`);
      targets.set(role, parseMetadata(MetadataKind.Targets, value, `${role} metadata`));
    }
    if (!root && targets.size === 0) throw new TufRejection('nothing to publish: give root and/or targets metadata');
    if (root || targets.has('targets')) await access.teamMetadata();

    // Access is checked before anything is stored (and outside the transaction: it may await).
    const previousTargets = new Map<string, Metadata<Targets>>();
    for (const [role, metadata] of targets) {
      if (role === 'targets') continue;
      const previous = this.#latestTargets(namespace, role);
      if (previous) previousTargets.set(role, previous);
      const repositories = new Set<string>();
      for (const path of changedPaths(previous?.signed.targets ?? {}, metadata.signed.targets)) {
        repositories.add(parseTargetPath(path)?.repository ?? path);
      }
      await access.repositories(repositories);
    }

    this.#reachableCache.delete(namespace);
    try {
      return this.#publishBatch(namespace, root, targets, now);
    } finally {
      this.#reachableCache.delete(namespace);
    }
  }

  #publishBatch(namespace: string, root: Metadata<Root> | undefined, targets: ReadonlyMap<string, Metadata<Targets>>, now: Date): { snapshot: number; timestamp: number } {
    return this.#store.transaction(() => {
      const currentRoot = this.#latestRoot(namespace);
      if (!currentRoot && !root) throw new TufRejection(`namespace ${namespace} has no TUF repository yet: run \`wharf tuf init ${namespace}\``, 'NOT_FOUND');
      let trustedRoot = currentRoot;
      if (root) {
        this.#checkRoot(namespace, currentRoot, root, now);
        this.#store.putMetadata(namespace, { role: 'root', version: root.signed.version, body: serialize(root), expires: new Date(root.signed.expires) });
        this.#activateOnlineKeys(namespace, root);
        trustedRoot = root;
      }
      // Delegators first: each role is checked against the metadata of the role delegating to it.
      const pending = new Map(targets);
      while (pending.size > 0) {
        const ready = [...pending.keys()].find((role) => role === 'targets' || this.#delegatorOf(namespace, role, pending) !== 'pending');
        if (ready === undefined) {
          throw new TufRejection(`no published role delegates to ${[...pending.keys()].join(', ')}`);
        }
        this.#acceptTargets(namespace, trustedRoot!, ready, pending.get(ready)!, now);
        pending.delete(ready);
      }
      if (!this.#latestTargets(namespace, 'targets')) {
        throw new TufRejection(`namespace ${namespace} has no top-level targets metadata yet: publish it with its root`);
      }
      this.#checkStillTrusted(namespace, trustedRoot!, root !== undefined, targets);
      return this.#signSnapshotAndTimestamp(namespace, trustedRoot!, now);
    });
  }

  /** Signs a new timestamp (and, when due, a new snapshot) for every namespace whose current one nears expiry. */
  refreshDue(): { refreshed: string[] } {
    const now = this.#now();
    const refreshed: string[] = [];
    for (const namespace of this.#store.namespaces()) {
      const timestamp = this.#store.latest(namespace, 'timestamp');
      const snapshot = this.#store.latest(namespace, 'snapshot');
      if (!timestamp || !snapshot) continue;
      const timestampLeft = timestamp.expires.getTime() - now.getTime();
      const snapshotLeft = snapshot.expires.getTime() - now.getTime();
      // Refresh at half-life, so a missed run or two never lets clients see an expired timestamp.
      const timestampDue = timestampLeft < this.#settings.timestampExpirySeconds * 500;
      const snapshotDue = snapshotLeft < this.#settings.timestampExpirySeconds * 1000;
      if (!timestampDue && !snapshotDue) continue;
      this.#store.transaction(() => {
        const root = this.#latestRoot(namespace)!;
        if (snapshotDue) this.#signSnapshotAndTimestamp(namespace, root, now);
        else this.#signTimestamp(namespace, root, snapshot, now);
      });
      refreshed.push(namespace);
    }
    return { refreshed };
  }

  /** Signs a new timestamp now (over the current snapshot). */
  refreshTimestamp(namespace: string): number {
    return this.#store.transaction(() => {
      const root = this.#latestRoot(namespace);
      const snapshot = this.#store.latest(namespace, 'snapshot');
      if (!root || !snapshot) throw new TufRejection(`namespace ${namespace} has no TUF repository`, 'NOT_FOUND');
      return this.#signTimestamp(namespace, root, snapshot, this.#now());
    });
  }

  /** What policies read: does the namespace have TUF, and which of its current targets name this digest. */
  factsFor(repository: string, digest: string): TufFacts {
    const namespace = namespaceOf(repository);
    const timestamp = this.#store.latest(namespace, 'timestamp');
    if (!timestamp || !digest.startsWith('sha256:')) return { enabled: timestamp !== undefined, current: timestamp !== undefined && timestamp.expires > this.#now(), targets: [] };
    const reachable = this.#cachedReachableRoles(namespace);
    const rows = this.#store.targetsWithHash(namespace, `${repository}:`, digest.slice('sha256:'.length)).filter((row) => reachable.has(row.role));
    return {
      enabled: true,
      current: timestamp.expires > this.#now(),
      targets: rows.map((row) => ({ path: row.path, tag: row.path.slice(repository.length + 1), role: row.role })),
    };
  }

  /** The target a path names, as the registry's current metadata holds it (first role in delegation order wins is the client's rule; the registry lists all). */
  targetsAt(namespace: string, path: string): TargetRow[] {
    const reachable = this.#cachedReachableRoles(namespace);
    return this.#store.targetAt(namespace, path).filter((row) => reachable.has(row.role));
  }

  #latestRoot(namespace: string): Metadata<Root> | undefined {
    const stored = this.#store.latest(namespace, 'root');
    return stored ? Metadata.fromJSON(MetadataKind.Root, JSON.parse(stored.body.toString('utf8'))) : undefined;
  }

  #latestTargets(namespace: string, role: string): Metadata<Targets> | undefined {
    const stored = this.#store.latest(namespace, role);
    return stored ? Metadata.fromJSON(MetadataKind.Targets, JSON.parse(stored.body.toString('utf8'))) : undefined;
  }

  #checkRoot(namespace: string, current: Metadata<Root> | undefined, root: Metadata<Root>, now: Date): void {
    const expected = (current?.signed.version ?? 0) + 1;
    if (root.signed.version !== expected) throw new TufRejection(`root version ${root.signed.version} is not the next one (${expected})`, 'CONFLICT');
    if (!root.signed.consistentSnapshot) throw new TufRejection('root must set consistent_snapshot: Wharf serves versioned snapshot and targets metadata');
    if (root.signed.isExpired(now)) throw new TufRejection(`root expires at ${root.signed.expires}, which has passed`);
    // A new root is trusted by a threshold of the old root's keys and of its own (TUF 5.3.4, 5.3.5).
    if (current) verifyDelegate(current, 'root', root, `root version ${root.signed.version} (old root's keys)`);
    verifyDelegate(root, 'root', root, `root version ${root.signed.version}`);
    const held = new Map(this.#store.onlineKeys(namespace).filter((row) => row.state !== 'retired').map((row) => [row.keyid, row.role]));
    for (const role of ['snapshot', 'timestamp'] as const) {
      const keyIds = root.signed.roles[role]?.keyIDs ?? [];
      if (keyIds.length === 0) throw new TufRejection(`root names no ${role} key`);
      for (const keyId of keyIds) {
        if (held.get(keyId) !== role) throw new TufRejection(`root names ${role} key ${keyId.slice(0, 12)}…, which this registry does not hold for ${role} (ask with \`wharf tuf init\` or \`wharf tuf rotate --role ${role}\`)`);
        const key = root.signed.keys[keyId];
        if (!key || keyIdOf(key.keyVal.public ?? '') !== keyId) throw new TufRejection(`root lists ${role} key ${keyId.slice(0, 12)}… with a different public key`);
      }
    }
  }

  /**
   * Metadata a batch did not replace must still verify under the delegators the batch changed: a
   * new root with other targets keys, or a delegation with other keys, needs the delegated
   * metadata re-signed in the same publication, or every client would refuse the repository.
   */
  #checkStillTrusted(namespace: string, root: Metadata<Root>, rootChanged: boolean, batch: ReadonlyMap<string, Metadata<Targets>>): void {
    if (rootChanged && !batch.has('targets')) {
      verifyDelegate(root, 'targets', this.#latestTargets(namespace, 'targets')!, 'the published top-level targets (re-sign it with the new targets keys in the same publication)');
    }
    const versions = this.#store.latestVersions(namespace);
    for (const [delegatorName, delegator] of batch) {
      const delegations = delegator.signed.delegations;
      if (!delegations) continue;
      const children = [...Object.keys(delegations.roles ?? {})];
      if (delegations.succinctRoles) children.push(...[...versions.keys()].filter((name) => delegations.succinctRoles!.isDelegatedRole(name)));
      for (const child of children) {
        if (batch.has(child) || !versions.has(child)) continue;
        verifyDelegate(delegator, child, this.#latestTargets(namespace, child)!, `the published ${child} metadata (${delegatorName} changed its keys: re-sign ${child} in the same publication)`);
      }
    }
  }

  /** The online keys a root names; the others of their role are retired. */
  #activateOnlineKeys(namespace: string, root: Metadata<Root>): void {
    for (const row of this.#store.onlineKeys(namespace)) {
      const named = root.signed.roles[row.role]?.keyIDs.includes(row.keyid) ?? false;
      if (named && row.state !== 'active') this.#store.setOnlineKeyState(namespace, row.keyid, 'active');
      if (!named && row.state === 'active') this.#store.setOnlineKeyState(namespace, row.keyid, 'retired');
    }
  }

  /** The role that delegates to `role`, 'pending' when that delegator is itself in the batch, undefined when none does. */
  #delegatorOf(namespace: string, role: string, pending: ReadonlyMap<string, unknown>): string | undefined {
    const rows = this.#store.delegations(namespace);
    const reachable = this.#reachableRoles(namespace, rows);
    const binsOf = (row: DelegationRow) => row.kind === 'bins' && role.startsWith(`${row.role}-`);
    const row = rows.find((r) => reachable.has(r.delegator) && ((r.kind === 'role' && r.role === role) || binsOf(r)));
    if (row) return pending.has(row.delegator) ? 'pending' : row.delegator;
    // The delegator may be in the batch (a new delegation and the role's first metadata together).
    for (const name of pending.keys()) if (name !== role) return 'pending';
    return undefined;
  }

  #acceptTargets(namespace: string, root: Metadata<Root>, role: string, metadata: Metadata<Targets>, now: Date): void {
    const what = `${role} metadata version ${metadata.signed.version}`;
    const previous = this.#store.latest(namespace, role);
    if (previous && metadata.signed.version <= previous.version) throw new TufRejection(`${what} is not newer than the published version ${previous.version}`, 'CONFLICT');
    if (metadata.signed.isExpired(now)) throw new TufRejection(`${what} expired at ${metadata.signed.expires}`);
    let delegatedRole: { isDelegatedPath(path: string): boolean } | undefined;
    if (role === 'targets') {
      verifyDelegate(root, 'targets', metadata, what);
    } else {
      const delegatorName = this.#delegatorOf(namespace, role, new Map());
      if (delegatorName === undefined) throw new TufRejection(`no published role delegates to ${role} (run \`wharf tuf delegate ${namespace} ${role}\` first)`, 'NOT_FOUND');
      const delegator = this.#latestTargets(namespace, delegatorName)!;
      verifyDelegate(delegator, role, metadata, what);
      const delegations = delegator.signed.delegations!;
      const named = delegations.roles?.[role];
      const succinct = delegations.succinctRoles;
      delegatedRole = named ?? (succinct?.isDelegatedRole(role) ? { isDelegatedPath: (path: string) => succinct.getRoleForTarget(path) === role } : undefined);
      if (!delegatedRole) throw new TufRejection(`${delegatorName} does not delegate to ${role}`);
    }
    const rows: TargetRow[] = [];
    for (const [path, target] of Object.entries(metadata.signed.targets)) {
      const parsed = parseTargetPath(path);
      if (!parsed) throw new TufRejection(`target "${path}" is not REPOSITORY:TAG`);
      if (namespaceOf(parsed.repository) !== namespace) throw new TufRejection(`target "${path}" is outside namespace ${namespace}`);
      if (delegatedRole && !delegatedRole.isDelegatedPath(path)) throw new TufRejection(`target "${path}" is not among the paths delegated to ${role}`);
      rows.push(targetRow(role, path, target));
    }
    this.#store.putMetadata(namespace, { role, version: metadata.signed.version, body: serialize(metadata), expires: new Date(metadata.signed.expires) });
    this.#store.replaceTargets(namespace, role, rows);
    const delegations = metadata.signed.delegations;
    const delegationRows: DelegationRow[] = [];
    for (const name of Object.keys(delegations?.roles ?? {})) {
      if (!isRoleName(name)) throw new TufRejection(`delegated role name "${name}" is not a role name`);
      delegationRows.push({ delegator: role, role: name, kind: 'role' });
    }
    if (delegations?.succinctRoles) {
      if (!isRoleName(delegations.succinctRoles.namePrefix)) throw new TufRejection(`hash-bin name prefix "${delegations.succinctRoles.namePrefix}" is not a role name`);
      delegationRows.push({ delegator: role, role: delegations.succinctRoles.namePrefix, kind: 'bins' });
    }
    this.#store.replaceDelegations(namespace, role, delegationRows);
  }

  #cachedReachableRoles(namespace: string): Set<string> {
    let reachable = this.#reachableCache.get(namespace);
    if (!reachable) {
      reachable = this.#reachableRoles(namespace);
      this.#reachableCache.set(namespace, reachable);
    }
    return reachable;
  }

  /** Roles reachable from the top-level targets through current delegations (a dropped delegation drops its subtree). */
  #reachableRoles(namespace: string, rows = this.#store.delegations(namespace)): Set<string> {
    const versions = this.#store.latestVersions(namespace);
    const reachable = new Set<string>(['targets']);
    const queue = ['targets'];
    while (queue.length > 0) {
      const delegator = queue.shift()!;
      for (const row of rows) {
        if (row.delegator !== delegator) continue;
        const names = row.kind === 'role' ? [row.role] : [...versions.keys()].filter((name) => name.startsWith(`${row.role}-`));
        for (const name of names) {
          if (reachable.has(name)) continue;
          reachable.add(name);
          queue.push(name);
        }
      }
    }
    return reachable;
  }

  #signSnapshotAndTimestamp(namespace: string, root: Metadata<Root>, now: Date): { snapshot: number; timestamp: number } {
    const versions = this.#store.latestVersions(namespace);
    const meta: Record<string, MetaFile> = {};
    for (const role of this.#reachableRoles(namespace)) {
      const version = versions.get(role);
      if (version === undefined) continue;
      const stored = this.#store.get(namespace, role, version)!;
      // Length and hash bound what a client downloads (endless data) and pin the exact bytes.
      meta[`${role}.json`] = new MetaFile({ version, length: stored.body.byteLength, hashes: { sha256: sha256Hex(stored.body) } });
    }
    const version = (versions.get('snapshot') ?? 0) + 1;
    const snapshot = new Metadata(new Snapshot({ specVersion: SPEC_VERSION, version, expires: expiry(now, this.#settings.snapshotExpirySeconds), meta }));
    this.#signOnline(namespace, root, 'snapshot', snapshot);
    const body = serialize(snapshot);
    const stored = { role: 'snapshot', version, body, expires: new Date(snapshot.signed.expires) };
    this.#store.putMetadata(namespace, stored);
    return { snapshot: version, timestamp: this.#signTimestamp(namespace, root, stored, now) };
  }

  #signTimestamp(namespace: string, root: Metadata<Root>, snapshot: { version: number; body: Buffer }, now: Date): number {
    const previous = this.#store.latest(namespace, 'timestamp');
    const version = (previous?.version ?? 0) + 1;
    const timestamp = new Metadata(new Timestamp({ specVersion: SPEC_VERSION,
      version, expires: expiry(now, this.#settings.timestampExpirySeconds),
      snapshotMeta: new MetaFile({ version: snapshot.version, length: snapshot.body.byteLength, hashes: { sha256: sha256Hex(snapshot.body) } }),
    }));
    this.#signOnline(namespace, root, 'timestamp', timestamp);
    this.#store.putMetadata(namespace, { role: 'timestamp', version, body: serialize(timestamp), expires: new Date(timestamp.signed.expires) });
    this.#store.pruneTimestamps(namespace, version - 1);
    return version;
  }

  #signOnline(namespace: string, root: Metadata<Root>, role: 'snapshot' | 'timestamp', metadata: Metadata<Snapshot | Timestamp>): void {
    const keyIds = new Set(root.signed.roles[role]!.keyIDs);
    for (const row of this.#store.onlineKeys(namespace)) {
      if (row.role !== role || !keyIds.has(row.keyid)) continue;
      const privatePem = this.#sealer.open(row.sealed, `${namespace}/${role}/${row.keyid}`);
      metadata.sign(signerOf({ keytype: 'ed25519', scheme: 'ed25519', keyid: row.keyid, keyval: { public: row.publicHex }, private: privatePem }), true);
    }
  }
}

function expiry(now: Date, seconds: number): string {
  return new Date(Math.floor(now.getTime() / 1000) * 1000 + seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

function targetRow(role: string, path: string, target: TargetFile): TargetRow {
  const sha256 = target.hashes.sha256;
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) throw new TufRejection(`target "${path}" has no sha256 hash`);
  return { role, path, sha256, length: target.length };
}

/** Paths added, removed or changed between two versions of a role's targets. */
function changedPaths(before: Readonly<Record<string, TargetFile>>, after: Readonly<Record<string, TargetFile>>): string[] {
  const changed: string[] = [];
  for (const [path, target] of Object.entries(after)) if (!before[path]?.equals(target)) changed.push(path);
  for (const path of Object.keys(before)) if (!(path in after)) changed.push(path);
  return changed;
}
