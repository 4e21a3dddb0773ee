// The registry's side without HTTP: the timestamp schedule on a fake clock, online keys sealed at
// rest, and the facts policies read.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SqliteTufStore } from './tuf-store.ts';
import { KeySealer } from './sealed-keys.ts';
import { TufService } from './tuf-service.ts';
import { initRepository, type ServerApi } from './client/publisher.ts';
import { generateTufKey, signerOf, tufKey } from './keys.ts';
import { Metadata, MetadataKind, Root } from '@tufjs/models';
import { Role } from '@tufjs/models/dist/role.js';
import { SPEC_VERSION } from './tuf-service.ts';

const HOUR = 3_600_000;

describe('TufService', () => {
  let folder: string;
  let store: SqliteTufStore;
  let service: TufService;
  let now = new Date('2030-01-01T00:00:00Z');
  const team = { root: generateTufKey(), targets: generateTufKey() };

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'wharf-tuf-service-'));
    store = new SqliteTufStore(join(folder, 'tuf.db'));
    service = new TufService(store, KeySealer.fromFile(join(folder, 'tuf-secret')), { timestampExpirySeconds: 24 * 3600, snapshotExpirySeconds: 7 * 24 * 3600 }, () => now);
    // The client's calls, answered in-process.
    const server: ServerApi = { call: async (_method, path) => (path.endsWith('online-keys') ? service.onlineKeys('team-a') : undefined) };
    const batch = await initRepository(server, 'team-a', { rootKeys: [team.root], rootThreshold: 1, targetsKeys: [team.targets], targetsThreshold: 1, rootExpiresDays: 365 * 20, targetsExpiresDays: 365 * 20 });
    await service.publish('team-a', batch, { teamMetadata: async () => undefined, repositories: async () => undefined });
  });
  after(async () => {
    store.close();
    await rm(folder, { recursive: true, force: true });
  });

  it('re-signs the timestamp at half-life and the snapshot before it expires, and nothing earlier', () => {
    assert.equal(store.latest('team-a', 'timestamp')!.version, 1);
    now = new Date(now.getTime() + HOUR);
    assert.deepEqual(service.refreshDue(), { refreshed: [] });
    now = new Date(now.getTime() + 12 * HOUR);
    assert.deepEqual(service.refreshDue(), { refreshed: ['team-a'] });
    const timestamp = store.latest('team-a', 'timestamp')!;
    assert.equal(timestamp.version, 2);
    assert.equal(timestamp.expires.getTime(), now.getTime() + 24 * HOUR);
    assert.equal(store.latest('team-a', 'snapshot')!.version, 1, 'the snapshot is still fresh');
    // Six and a half days in: the snapshot has less than a timestamp lifetime left.
    now = new Date(new Date('2030-01-01T00:00:00Z').getTime() + 156 * HOUR);
    service.refreshDue();
    assert.equal(store.latest('team-a', 'snapshot')!.version, 2);
    const body = JSON.parse(store.latest('team-a', 'timestamp')!.body.toString('utf8'));
    assert.equal(body.signed.meta['snapshot.json'].version, 2);
    assert.equal(service.file('team-a', '1.timestamp.json'), undefined, 'timestamps are not served by version');
  });

  it('keeps online private keys sealed: no key in tuf.db, the secret 0600, another secret opens nothing', async () => {
    const database = await readFile(join(folder, 'tuf.db'));
    assert.equal(database.includes('PRIVATE KEY'), false);
    assert.equal((await stat(join(folder, 'tuf-secret'))).mode & 0o777, 0o600);
    const row = store.onlineKeys('team-a')[0]!;
    assert.throws(() => new KeySealer(randomBytes(32)).open(row.sealed, `team-a/${row.role}/${row.keyid}`), /does not open/);
    const sealer = KeySealer.fromFile(join(folder, 'tuf-secret'));
    assert.match(sealer.open(row.sealed, `team-a/${row.role}/${row.keyid}`), /BEGIN PRIVATE KEY/);
    assert.throws(() => sealer.open(row.sealed, `team-b/${row.role}/${row.keyid}`), /does not open/, 'bound to its namespace');
  });

  it('refuses a root that changes the targets keys without re-signed targets (clients would refuse the repository)', async () => {
    const current = Metadata.fromJSON(MetadataKind.Root, JSON.parse(store.latest('team-a', 'root')!.body.toString('utf8')));
    const replacement = generateTufKey();
    const roles = { ...current.signed.roles, targets: new Role({ keyIDs: [replacement.keyid], threshold: 1 }) };
    const root = new Metadata(new Root({ specVersion: SPEC_VERSION, version: current.signed.version + 1, expires: current.signed.expires, consistentSnapshot: true, keys: { ...current.signed.keys, [replacement.keyid]: tufKey(replacement) }, roles }));
    root.sign(signerOf(team.root));
    await assert.rejects(service.publish('team-a', { root: root.toJSON() }, { teamMetadata: async () => undefined, repositories: async () => undefined }),
      /the published top-level targets \(re-sign it with the new targets keys in the same publication\) is not signed by a threshold of targets's keys/);
    assert.equal(store.latest('team-a', 'root')!.version, current.signed.version, 'nothing stored');
  });

  it('tells policies whether a namespace has TUF and which targets name a digest', () => {
    assert.deepEqual(service.factsFor('team-b/app', 'sha256:' + 'a'.repeat(64)), { enabled: false, current: false, targets: [] });
    store.replaceTargets('team-a', 'targets', [{ role: 'targets', path: 'team-a/app:v1', sha256: 'b'.repeat(64), length: 10 }]);
    assert.deepEqual(service.factsFor('team-a/app', 'sha256:' + 'b'.repeat(64)), { enabled: true, current: true, targets: [{ path: 'team-a/app:v1', tag: 'v1', role: 'targets' }] });
    assert.deepEqual(service.factsFor('team-a/app', 'sha256:' + 'c'.repeat(64)).targets, []);
    assert.deepEqual(service.factsFor('team-a/app-other', 'sha256:' + 'b'.repeat(64)).targets, [], 'another repository with the same prefix');
    now = new Date(now.getTime() + 30 * 24 * HOUR);
    assert.equal(service.factsFor('team-a/app', 'sha256:' + 'b'.repeat(64)).current, false, 'a frozen repository is not current');
  });
});
