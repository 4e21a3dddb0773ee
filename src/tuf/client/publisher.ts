/**
 * What the team and the publishers do on their own machines: make and change a namespace's root,
 * delegate, and sign targets — with keys that never leave them — then hand the signed metadata to
 * the registry, which adds snapshot and timestamp. Each change starts from metadata the TUF
 * client workflow verified (tuf-client.ts), never from what the server says unchecked.
 *
 * A change that needs more signatures than the keys at hand can give is written to a batch file
 * instead (`--out`); `wharf tuf sign FILE` adds signatures and `wharf tuf publish --metadata FILE`
 * uploads it.
 */
import { Metadata, MetadataKind, Root, TargetFile, Targets } from '@tufjs/models';
// The package's index leaves out the role and delegation classes that making metadata needs.
import { DelegatedRole, Role, SuccinctRoles } from '@tufjs/models/dist/role.js';
import { Delegations } from '@tufjs/models/dist/delegations.js';
import type { Updater } from 'tuf-js';
import { signerOf, tufKey, type TufKeyFile } from '../keys.ts';
import { isRoleName, parseTargetPath, SPEC_VERSION, type OnlineKeysAnswer } from '../tuf-service.ts';
import { snapshotLists, snapshotVersion, trustedRoot, trustedTargets } from './tuf-client.ts';

export interface ServerApi {
  call(method: string, path: string, body?: unknown): Promise<unknown>;
}

/** The body of POST /api/v1/tuf/NAMESPACE/publish, and the content of a batch file. */
export interface PublishBatch {
  root?: Record<string, unknown>;
  targets?: Record<string, Record<string, unknown>>;
}

const DAY = 86_400_000;

export function expiresIn(days: number, now = new Date()): string {
  return new Date(Math.floor(now.getTime() / 1000) * 1000 + days * DAY).toISOString().replace(/\.000Z$/, 'Z');
}

function apiPath(namespace: string, rest: string): string {
  return `/api/v1/tuf/${encodeURIComponent(namespace)}/${rest}`;
}

function signAll<T extends Root | Targets>(metadata: Metadata<T>, keys: readonly TufKeyFile[]): void {
  for (const key of keys) if (key.private !== undefined) metadata.sign(signerOf(key), true);
}

export async function upload(server: ServerApi, namespace: string, batch: PublishBatch): Promise<{ snapshot: number; timestamp: number }> {
  return await server.call('POST', apiPath(namespace, 'publish'), batch) as { snapshot: number; timestamp: number };
}

export interface InitOptions {
  readonly rootKeys: readonly TufKeyFile[];
  readonly rootThreshold: number;
  readonly targetsKeys: readonly TufKeyFile[];
  readonly targetsThreshold: number;
  readonly rootExpiresDays: number;
  readonly targetsExpiresDays: number;
}

/** Version 1 of root and top-level targets, naming the registry's online keys for snapshot and timestamp. */
export async function initRepository(server: ServerApi, namespace: string, options: InitOptions): Promise<PublishBatch> {
  checkThreshold('root', options.rootKeys.length, options.rootThreshold);
  checkThreshold('targets', options.targetsKeys.length, options.targetsThreshold);
  const online = await server.call('POST', apiPath(namespace, 'online-keys')) as OnlineKeysAnswer;
  const root = new Root({ specVersion: SPEC_VERSION, version: 1, expires: expiresIn(options.rootExpiresDays), consistentSnapshot: true });
  addRole(root, 'root', options.rootKeys, options.rootThreshold);
  addRole(root, 'targets', options.targetsKeys, options.targetsThreshold);
  addRole(root, 'snapshot', online.snapshot.active, 1);
  addRole(root, 'timestamp', online.timestamp.active, 1);
  const rootMetadata = new Metadata(root);
  signAll(rootMetadata, options.rootKeys);
  const targets = new Metadata(new Targets({ specVersion: SPEC_VERSION, version: 1, expires: expiresIn(options.targetsExpiresDays) }));
  signAll(targets, options.targetsKeys);
  return { root: rootMetadata.toJSON(), targets: { targets: targets.toJSON() } };
}

function checkThreshold(role: string, keys: number, threshold: number): void {
  if (!Number.isInteger(threshold) || threshold < 1) throw new Error(`the ${role} threshold must be a whole number of at least 1`);
  if (keys < threshold) throw new Error(`the ${role} role has ${keys} key(s), fewer than its threshold ${threshold}`);
}

function addRole(root: Root, role: string, keys: readonly TufKeyFile[], threshold: number): void {
  root.roles[role] = new Role({ keyIDs: [], threshold });
  for (const key of keys) root.addKey(tufKey(key), role);
}

export interface RootChange {
  readonly role: 'root' | 'targets' | 'snapshot' | 'timestamp';
  readonly add: readonly TufKeyFile[];
  /** Key ids to remove from the role. */
  readonly remove: readonly string[];
  readonly threshold?: number;
  readonly rootKeys: readonly TufKeyFile[];
  /** To re-sign top-level targets when its keys or threshold change. */
  readonly targetsKeys: readonly TufKeyFile[];
  readonly rootExpiresDays: number;
  readonly targetsExpiresDays: number;
}

/**
 * The next root (add-key, rotate): keys added to or removed from a role, signed by the root keys
 * at hand (old and new: clients need a threshold of both). For snapshot and timestamp the new key
 * is the registry's (asked for here); a targets change re-signs top-level targets with the new keys.
 */
export async function changeRoot(server: ServerApi, namespace: string, updater: Updater, metadataDir: string, change: RootChange): Promise<PublishBatch> {
  await updater.refresh();
  const current = trustedRoot(metadataDir).signed;
  let add = [...change.add];
  let remove = [...change.remove];
  if (change.role === 'snapshot' || change.role === 'timestamp') {
    if (add.length > 0) throw new Error(`the ${change.role} key is the registry's: rotate asks it for a new one (no --key)`);
    const online = await server.call('POST', `${apiPath(namespace, 'online-keys')}?rotate=${change.role}`) as OnlineKeysAnswer;
    add = online[change.role].pending;
    if (add.length === 0) throw new Error(`the registry made no new ${change.role} key`);
    remove = current.roles[change.role]!.keyIDs.filter((id: string) => !add.some((key) => key.keyid === id));
  }
  const keys = { ...current.keys };
  const roles: Record<string, Role> = {};
  for (const [name, role] of Object.entries(current.roles)) roles[name] = new Role({ keyIDs: [...role.keyIDs], threshold: role.threshold });
  const target = roles[change.role]!;
  const keyIDs = target.keyIDs.filter((id) => !remove.includes(id));
  for (const id of remove) if (!target.keyIDs.includes(id)) throw new Error(`key ${id.slice(0, 12)}… is not a ${change.role} key`);
  for (const key of add) {
    if (!keyIDs.includes(key.keyid)) keyIDs.push(key.keyid);
    keys[key.keyid] = tufKey(key);
  }
  const threshold = change.threshold ?? target.threshold;
  checkThreshold(change.role, keyIDs.length, threshold);
  roles[change.role] = new Role({ keyIDs, threshold });
  // Keys no role names any more leave the key list.
  const named = new Set(Object.values(roles).flatMap((role) => role.keyIDs));
  for (const id of Object.keys(keys)) if (!named.has(id)) delete keys[id];
  const root = new Metadata(new Root({ specVersion: SPEC_VERSION, version: current.version + 1, expires: expiresIn(change.rootExpiresDays), consistentSnapshot: true, keys, roles }));
  const signers = change.rootKeys.filter((key) => current.roles.root!.keyIDs.includes(key.keyid) || roles.root!.keyIDs.includes(key.keyid));
  signAll(root, [...signers, ...(change.role === 'root' ? add.filter((key) => !signers.some((s) => s.keyid === key.keyid)) : [])]);
  const batch: PublishBatch = { root: root.toJSON() };
  // Top-level targets stays valid while a threshold of its signatures is still by named keys;
  // when keys leave or the threshold rises it must be re-signed by the new keys.
  const targetsStillValid = change.role === 'targets' && remove.length === 0 && threshold <= target.threshold;
  if (change.role === 'targets' && !(targetsStillValid && change.targetsKeys.length === 0)) {
    if (change.targetsKeys.filter((key) => keyIDs.includes(key.keyid) && key.private !== undefined).length < threshold) {
      throw new Error(`top-level targets must be re-signed by ${threshold} of the new targets keys: give them with --targets-key FILE`);
    }
    const targets = trustedTargets(metadataDir, 'targets');
    if (!targets) throw new Error('no trusted top-level targets metadata to re-sign');
    const resigned = nextTargets(targets.signed, change.targetsExpiresDays);
    signAll(resigned, change.targetsKeys.filter((key) => keyIDs.includes(key.keyid)));
    batch.targets = { targets: resigned.toJSON() };
  }
  return batch;
}

function nextTargets(current: Targets | undefined, expiresDays: number, changes: { targets?: Record<string, TargetFile>; delegations?: Delegations } = {}): Metadata<Targets> {
  return new Metadata(new Targets({
    specVersion: SPEC_VERSION, version: (current?.version ?? 0) + 1, expires: expiresIn(expiresDays),
    targets: changes.targets ?? { ...(current?.targets ?? {}) },
    ...(changes.delegations ?? current?.delegations ? { delegations: (changes.delegations ?? current?.delegations)! } : {}),
  }));
}

export interface DelegateOptions {
  readonly role: string;
  readonly paths: readonly string[];
  readonly keys: readonly TufKeyFile[];
  readonly threshold: number;
  readonly terminating: boolean;
  /** Hash bins under the role (a power of two): the role delegates every path to one of them. */
  readonly bins?: number;
  readonly targetsKeys: readonly TufKeyFile[];
  readonly expiresDays: number;
}

/**
 * Top-level targets delegating REPOSITORY:TAG paths to a role held by a team's or a CI identity's
 * keys; with `bins`, the role hands its paths on to 2^n hash bins (TAP 15 succinct delegations),
 * so that no one metadata file grows with the namespace. The role's first metadata (and its empty
 * bins) are signed here when the role's private keys are at hand.
 */
export async function delegateRole(updater: Updater, metadataDir: string, options: DelegateOptions): Promise<PublishBatch> {
  if (!isRoleName(options.role)) throw new Error(`"${options.role}" is not a role name (lower case letters, digits, - and _)`);
  if (options.paths.length === 0) throw new Error('give the paths delegated to the role (--path GLOB, e.g. \'team-a/app:*\')');
  checkThreshold(options.role, options.keys.length, options.threshold);
  await updater.refresh();
  const current = trustedTargets(metadataDir, 'targets');
  if (!current) throw new Error('no trusted top-level targets metadata');
  const keys = { ...(current.signed.delegations?.keys ?? {}) };
  for (const key of options.keys) keys[key.keyid] = tufKey(key);
  const roles: Record<string, DelegatedRole> = { ...(current.signed.delegations?.roles ?? {}) };
  roles[options.role] = new DelegatedRole({ name: options.role, keyIDs: options.keys.map((key) => key.keyid), threshold: options.threshold, terminating: options.terminating, paths: [...options.paths] });
  const named = new Set(Object.values(roles).flatMap((role) => role.keyIDs));
  for (const id of Object.keys(keys)) if (!named.has(id)) delete keys[id];
  const targets = nextTargets(current.signed, options.expiresDays, { delegations: new Delegations({ keys, roles }) });
  signAll(targets, options.targetsKeys);
  const batch: PublishBatch = { targets: { targets: targets.toJSON() } };
  const canSign = options.keys.filter((key) => key.private !== undefined).length >= options.threshold;
  if (canSign && !snapshotLists(metadataDir, options.role)) {
    let delegations: Delegations | undefined;
    if (options.bins !== undefined) {
      const bitLength = Math.log2(options.bins);
      if (!Number.isInteger(bitLength) || bitLength < 1 || bitLength > 14) throw new Error('--bins must be a power of two from 2 to 16384');
      const succinctRoles = new SuccinctRoles({ keyIDs: options.keys.map((key) => key.keyid), threshold: options.threshold, bitLength, namePrefix: `${options.role}-bin` });
      delegations = new Delegations({ keys: Object.fromEntries(options.keys.map((key) => [key.keyid, tufKey(key)])), succinctRoles });
      for (const bin of succinctRoles.getRoles()) {
        const binMetadata = nextTargets(undefined, options.expiresDays);
        signAll(binMetadata, options.keys);
        batch.targets![bin] = binMetadata.toJSON();
      }
    }
    const roleMetadata = nextTargets(undefined, options.expiresDays, delegations ? { delegations } : {});
    signAll(roleMetadata, options.keys);
    batch.targets![options.role] = roleMetadata.toJSON();
  }
  return batch;
}

export interface NewTarget {
  readonly path: string;
  readonly digest: string;
  readonly length: number;
  readonly mediaType: string;
  /** In-toto attestations and other referrers of the artifact, for clients that verify them too. */
  readonly attestations: readonly { readonly digest: string; readonly artifactType?: string }[];
}

/** The target a REPOSITORY:TAG reference becomes: TUF's length and sha256 are the manifest's size and digest. */
export function targetFile(target: NewTarget): TargetFile {
  if (!target.digest.startsWith('sha256:')) throw new Error(`${target.path}: only sha256 manifests can be TUF targets (got ${target.digest})`);
  const [repository, tag] = [target.path.slice(0, target.path.lastIndexOf(':')), target.path.slice(target.path.lastIndexOf(':') + 1)];
  return new TargetFile({
    path: target.path, length: target.length, hashes: { sha256: target.digest.slice('sha256:'.length) },
    unrecognizedFields: { custom: { wharf: { repository, tag, digest: target.digest, mediaType: target.mediaType, attestations: target.attestations.map((a) => ({ ...a })) } } },
  });
}

/**
 * Adds targets to the role that signs them (its hash bin, when it has bins): new versions of those
 * roles' metadata, signed with the role's keys, starting from the trusted versions.
 */
export async function addTargets(updater: Updater, metadataDir: string, role: string, keys: readonly TufKeyFile[], additions: readonly NewTarget[], expiresDays: number): Promise<PublishBatch> {
  await updater.refresh();
  const byRole = new Map<string, NewTarget[]>();
  for (const target of additions) {
    if (!parseTargetPath(target.path)) throw new Error(`"${target.path}" is not REPOSITORY:TAG`);
    // Loads (and verifies) every role on the path down to the one that signs it.
    await updater.getTargetInfo(target.path);
    checkDelegated(metadataDir, role, target.path);
    const signer = signingRole(metadataDir, role, target.path);
    byRole.set(signer, [...(byRole.get(signer) ?? []), target]);
  }
  const batch: PublishBatch = { targets: {} };
  for (const [name, targets] of byRole) {
    const listed = snapshotVersion(metadataDir, name);
    const current = listed === undefined ? undefined : trustedTargets(metadataDir, name);
    if (listed !== undefined && current?.signed.version !== listed) throw new Error(`the trusted metadata of ${name} was not loaded (version ${current?.signed.version ?? 'none'}, snapshot names ${listed})`);
    const files = { ...(current?.signed.targets ?? {}) };
    for (const target of targets) files[target.path] = targetFile(target);
    const next = nextTargets(current?.signed, expiresDays, { targets: files });
    signAll(next, keys);
    batch.targets![name] = next.toJSON();
  }
  return batch;
}

/** Refuses a path the trusted top-level targets does not delegate to `role` (clients would never look for it there). */
function checkDelegated(metadataDir: string, role: string, path: string): void {
  if (role === 'targets') return;
  const delegation = trustedTargets(metadataDir, 'targets')?.signed.delegations?.roles?.[role];
  if (!delegation) throw new Error(`the namespace's targets delegate nothing to ${role} (run \`wharf tuf delegate\` first)`);
  if (!delegation.isDelegatedPath(path)) throw new Error(`${path} is not among the paths delegated to ${role} (${(delegation.paths ?? []).join(', ')})`);
}

/** The role whose metadata lists `path`: `role` itself, or its hash bin for the path. */
function signingRole(metadataDir: string, role: string, path: string): string {
  const metadata = trustedTargets(metadataDir, role);
  const succinct = metadata?.signed.delegations?.succinctRoles;
  return succinct ? succinct.getRoleForTarget(path) : role;
}

/** Adds signatures to metadata of a batch file (all roles, or those named). */
export function signBatch(batch: PublishBatch, keys: readonly TufKeyFile[], roles?: readonly string[]): string[] {
  const signed: string[] = [];
  const wants = (role: string) => roles === undefined || roles.length === 0 || roles.includes(role);
  if (batch.root && wants('root')) {
    const root = Metadata.fromJSON(MetadataKind.Root, batch.root as never);
    signAll(root, keys);
    batch.root = root.toJSON();
    signed.push('root');
  }
  for (const [role, value] of Object.entries(batch.targets ?? {})) {
    if (!wants(role)) continue;
    const targets = Metadata.fromJSON(MetadataKind.Targets, value as never);
    signAll(targets, keys);
    batch.targets![role] = targets.toJSON();
    signed.push(role);
  }
  return signed;
}
