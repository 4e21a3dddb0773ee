/**
 * The attacks the TUF specification names (§1.5.2), each through a registry in the middle that
 * serves what a compromised registry or mirror would, and each refused by `wharf tuf verify`.
 */
import { after, before, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata, MetaFile, Snapshot, Timestamp } from '@tufjs/models';
import { startTufRegistry, type TufRegistry } from './testing/tuf-registry.ts';
import { metadataPath, parseSnapshot, parseTargets, parseTimestamp, startMitm, stolenOnlineKeys, type Mitm } from './testing/mitm.ts';
import { pushTestImage } from '../supplychain/testing/supplychain-registry.ts';
import { tuf } from './testing/run-tuf.ts';
import { generateTufKey, signerOf } from './keys.ts';
import { SPEC_VERSION } from './tuf-service.ts';
import { createHash } from 'node:crypto';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('TUF attacks, each refused by wharf tuf verify', () => {
  let registry: TufRegistry;
  let mitm: Mitm;
  let folder: string;
  let image: { digest: string; bytes: Buffer };
  let other: { digest: string; bytes: Buffer };
  /** Metadata as the registry served it after the first publication (older versions). */
  const old: Record<string, Buffer> = {};
  const saved = { ...process.env };
  let clients = 0;

  const file = async (name: string) => Buffer.from(await (await fetch(`${registry.url}${metadataPath('team-a', name)}`)).arrayBuffer());
  const key = (name: string) => join(folder, `${name}.json`);

  /** A client that trusts the namespace's current metadata (it verified once through the real registry). */
  async function currentClient(): Promise<string> {
    const dir = join(folder, `client-${++clients}`);
    const first = await tuf(['verify', `${registry.host}/team-a/app:v1`, '--root', join(folder, 'team-a.root.json'), '--metadata-dir', dir]);
    assert.equal(first.code, 0, first.err);
    return dir;
  }

  /** A client that has only the root of version 1. */
  function newClient(): string[] {
    return ['--root', join(folder, 'team-a.root.json'), '--metadata-dir', join(folder, `client-${++clients}`)];
  }

  async function verifyThroughMitm(clientArgs: string[], tag = 'v1'): Promise<{ code: number; outcome: any }> {
    const result = await tuf(['verify', `${mitm.host}/team-a/app:${tag}`, ...clientArgs, '--json']);
    return { code: result.code, outcome: JSON.parse(result.out) };
  }

  async function assertRefused(clientArgs: string[], reason: RegExp, tag = 'v1'): Promise<void> {
    const { code, outcome } = await verifyThroughMitm(clientArgs, tag);
    assert.equal(outcome.ok, false, 'verify accepted an attack');
    assert.equal(code, 1);
    assert.match(outcome.reason, reason);
  }

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'wharf-tuf-attacks-'));
    process.env.XDG_CACHE_HOME = join(folder, 'cache');
    process.env.XDG_CONFIG_HOME = join(folder, 'config');
    delete process.env.WHARF_SERVER; delete process.env.WHARF_DATA; delete process.env.WHARF_USERNAME; delete process.env.WHARF_PASSWORD;
    registry = await startTufRegistry();
    mitm = await startMitm(registry.url);
    image = await pushTestImage(registry.url, 'team-a/app', 'v1');
    other = await pushTestImage(registry.url, 'team-a/app', 'v2');
    const server = ['--server', registry.url];
    assert.equal((await tuf(['init', 'team-a', ...server, '--root-key', key('root1'), '--targets-key', key('targets1'), '--root-out', join(folder, 'team-a.root.json')])).code, 0);
    // ci's key is made with keygen (delegate does not make missing keys: a delegation names someone else's key).
    assert.equal((await tuf(['keygen', key('ci')])).code, 0);
    assert.equal((await tuf(['delegate', 'team-a', 'ci', ...server, '--path', 'team-a/*', '--key', key('ci'), '--targets-key', key('targets1')])).code, 0);
    assert.equal((await tuf(['publish', 'team-a', 'team-a/app:v1', ...server, '--role', 'ci', '--key', key('ci')])).code, 0);
    for (const name of ['timestamp.json', 'snapshot.json', 'ci.json']) old[name] = await file(name);
    assert.equal((await tuf(['publish', 'team-a', 'team-a/app:v2', ...server, '--role', 'ci', '--key', key('ci')])).code, 0);
  });
  after(async () => {
    process.env = saved;
    await mitm?.close();
    await registry?.dispose();
    await rm(folder, { recursive: true, force: true });
  });

  it('the registry in the middle passes honest metadata through (so refusals below are the attacks)', async () => {
    mitm.overrides.clear();
    const { code, outcome } = await verifyThroughMitm(newClient());
    assert.equal(code, 0, outcome.reason);
    assert.equal(outcome.served.digest, image.digest);
  });

  it('rollback: an older timestamp is refused by a client that saw a newer one', async () => {
    const client = await currentClient();
    mitm.overrides.clear();
    mitm.overrides.set(metadataPath('team-a', 'timestamp.json'), old['timestamp.json']!);
    await assertRefused(['--metadata-dir', client], /New timestamp version \d+ is less than current version/);
  });

  it('rollback: an older snapshot is refused even under a timestamp signed with the stolen timestamp key', async () => {
    const client = await currentClient();
    const current = parseTimestamp(await file('timestamp.json'));
    const oldSnapshot = parseSnapshot(old['snapshot.json']!);
    const forged = new Metadata(new Timestamp({
      specVersion: SPEC_VERSION, version: current.signed.version + 1, expires: current.signed.expires,
      snapshotMeta: new MetaFile({ version: oldSnapshot.signed.version, length: old['snapshot.json']!.byteLength, hashes: { sha256: sha256(old['snapshot.json']!) } }),
    }));
    mitm.overrides.clear();
    mitm.overrides.set(metadataPath('team-a', 'timestamp.json'), stolenOnlineKeys(registry.dataDir, 'team-a').sign(forged, 'timestamp'));
    await assertRefused(['--metadata-dir', client], /New snapshot version \d+ is less than current version/);
  });

  it('rollback: older targets are refused even under a snapshot and timestamp signed with the stolen online keys', async () => {
    const client = await currentClient();
    const stolen = stolenOnlineKeys(registry.dataDir, 'team-a');
    const currentSnapshot = parseSnapshot(await file('snapshot.json'));
    const oldCi = parseTargets(old['ci.json']!);
    const meta = { ...currentSnapshot.signed.meta, 'ci.json': new MetaFile({ version: oldCi.signed.version, length: old['ci.json']!.byteLength, hashes: { sha256: sha256(old['ci.json']!) } }) };
    const snapshotVersion = currentSnapshot.signed.version + 1;
    const snapshot = stolen.sign(new Metadata(new Snapshot({ specVersion: SPEC_VERSION, version: snapshotVersion, expires: currentSnapshot.signed.expires, meta })), 'snapshot');
    const current = parseTimestamp(await file('timestamp.json'));
    const timestamp = stolen.sign(new Metadata(new Timestamp({
      specVersion: SPEC_VERSION, version: current.signed.version + 1, expires: current.signed.expires,
      snapshotMeta: new MetaFile({ version: snapshotVersion, length: snapshot.byteLength, hashes: { sha256: sha256(snapshot) } }),
    })), 'timestamp');
    mitm.overrides.clear();
    mitm.overrides.set(metadataPath('team-a', 'timestamp.json'), timestamp);
    mitm.overrides.set(metadataPath('team-a', `${snapshotVersion}.snapshot.json`), snapshot);
    await assertRefused(['--metadata-dir', client], /New version \d+ of ci\.json is less than current version/);
  });

  it('freeze: a timestamp the registry stopped refreshing is refused once it expired; a refresh lifts it', async () => {
    const client = await currentClient();
    mitm.overrides.clear();
    mock.timers.enable({ apis: ['Date'], now: Date.now() + 2 * 86_400_000 });
    try {
      await assertRefused(['--metadata-dir', client], /timestamp\.json is expired/);
      // The schedule (or an administrator) signs a new timestamp: the same client proceeds.
      const refreshed = await fetch(`${registry.url}/api/v1/tuf/team-a/timestamp`, { method: 'POST' });
      assert.equal(refreshed.status, 200);
      const { code, outcome } = await verifyThroughMitm(['--metadata-dir', client]);
      assert.equal(code, 0, outcome.reason);
    } finally {
      mock.timers.reset();
    }
  });

  it('mix-and-match: an older targets file served under the current version name is refused', async () => {
    const snapshot = parseSnapshot(await file('snapshot.json'));
    mitm.overrides.clear();
    mitm.overrides.set(metadataPath('team-a', `${snapshot.signed.meta['ci.json']!.version}.ci.json`), old['ci.json']!);
    await assertRefused(newClient(), /Expected length \d+ but got \d+/);
  });

  it('arbitrary artifact: another (real) manifest served under the tag is refused', async () => {
    mitm.overrides.clear();
    mitm.overrides.set('/v2/team-a/app/manifests/v1', other.bytes);
    await assertRefused(newClient(), new RegExp(`serves ${other.digest}.*TUF names ${image.digest}`));
  });

  it('arbitrary artifact: targets forged with the stolen online keys (no ci key) are refused', async () => {
    const stolen = stolenOnlineKeys(registry.dataDir, 'team-a');
    const snapshotNow = parseSnapshot(await file('snapshot.json'));
    const ci = JSON.parse((await file('ci.json')).toString('utf8'));
    ci.signed.version += 1;
    ci.signed.targets['team-a/app:v1'].hashes.sha256 = other.digest.slice('sha256:'.length);
    ci.signed.targets['team-a/app:v1'].length = other.bytes.byteLength;
    const forgedCi = Buffer.from(JSON.stringify(ci));
    const snapshotVersion = snapshotNow.signed.version + 1;
    const snapshot = stolen.sign(new Metadata(new Snapshot({
      specVersion: SPEC_VERSION, version: snapshotVersion, expires: snapshotNow.signed.expires,
      meta: { ...snapshotNow.signed.meta, 'ci.json': new MetaFile({ version: ci.signed.version, length: forgedCi.byteLength, hashes: { sha256: sha256(forgedCi) } }) },
    })), 'snapshot');
    const current = parseTimestamp(await file('timestamp.json'));
    const timestamp = stolen.sign(new Metadata(new Timestamp({
      specVersion: SPEC_VERSION, version: current.signed.version + 1, expires: current.signed.expires,
      snapshotMeta: new MetaFile({ version: snapshotVersion, length: snapshot.byteLength, hashes: { sha256: sha256(snapshot) } }),
    })), 'timestamp');
    mitm.overrides.clear();
    mitm.overrides.set(metadataPath('team-a', 'timestamp.json'), timestamp);
    mitm.overrides.set(metadataPath('team-a', `${snapshotVersion}.snapshot.json`), snapshot);
    mitm.overrides.set(metadataPath('team-a', `${ci.signed.version}.ci.json`), forgedCi);
    mitm.overrides.set('/v2/team-a/app/manifests/v1', other.bytes);
    await assertRefused(newClient(), /ci was signed by 0\/1 keys/);
  });

  it('endless data: an endless timestamp stream is cut off and refused', async () => {
    mitm.overrides.clear();
    mitm.overrides.set(metadataPath('team-a', 'timestamp.json'), (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      // Bounded so a client that never stops reading cannot hang the test: 256 MiB at most.
      const pump = () => {
        while (sent < 4096 && res.write(chunk)) sent++;
        if (sent >= 4096) res.end(); else res.once('drain', pump);
      };
      res.on('close', () => { sent = 4096; });
      pump();
    });
    await assertRefused(newClient(), /Max length reached/);
  });

  it('endless data: a snapshot longer than the timestamp says is refused', async () => {
    const timestamp = parseTimestamp(await file('timestamp.json'));
    const snapshot = await file('snapshot.json');
    mitm.overrides.clear();
    mitm.overrides.set(metadataPath('team-a', `${timestamp.signed.snapshotMeta.version}.snapshot.json`), Buffer.concat([snapshot, Buffer.alloc(100_000, 0x20)]));
    await assertRefused(newClient(), /snapshot metadata error Error: Max length reached/);
  });

  it('compromised online key: a timestamp signed by a key root does not name is refused', async () => {
    const current = parseTimestamp(await file('timestamp.json'));
    const attacker = generateTufKey();
    const forged = new Metadata(new Timestamp({ specVersion: SPEC_VERSION, version: current.signed.version + 1, expires: current.signed.expires, snapshotMeta: current.signed.snapshotMeta }));
    // The attacker's signature, filed under the registry's timestamp key id.
    forged.sign(signerOf({ ...attacker, keyid: Object.keys(current.signatures)[0]! }));
    mitm.overrides.clear();
    mitm.overrides.set(metadataPath('team-a', 'timestamp.json'), Buffer.from(JSON.stringify(forged.toJSON())));
    await assertRefused(newClient(), /timestamp was signed by 0\/1 keys/);
  });

  it('compromised online key: a new root signed with the online keys instead of a root threshold is refused by the client and by the registry', async () => {
    const root = JSON.parse(await readFile(join(folder, 'team-a.root.json'), 'utf8'));
    const attacker = generateTufKey();
    root.signed.version = 2;
    root.signed.keys[attacker.keyid] = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: attacker.keyval.public } };
    root.signed.roles.timestamp.keyids = [attacker.keyid];
    const { Metadata: M, MetadataKind } = await import('@tufjs/models');
    const forged = M.fromJSON(MetadataKind.Root, root);
    forged.signatures = {};
    const stolen = stolenOnlineKeys(registry.dataDir, 'team-a');
    stolen.sign(forged as never, 'timestamp');
    mitm.overrides.clear();
    mitm.overrides.set(metadataPath('team-a', '2.root.json'), Buffer.from(JSON.stringify(forged.toJSON())));
    await assertRefused(newClient(), /root was signed by 0\/1 keys/);
    const upload = await fetch(`${registry.url}/api/v1/tuf/team-a/publish`, { method: 'POST', body: JSON.stringify({ root: forged.toJSON() }), headers: { 'content-type': 'application/json' } });
    assert.equal(upload.status, 400);
    assert.match(((await upload.json()) as any).errors[0].message, /threshold/);
  });

  it('key rotation carries a client with only the first root forward, and the retired online key is refused after', async () => {
    const server = ['--server', registry.url];
    const retiredTimestamp = stolenOnlineKeys(registry.dataDir, 'team-a');
    const before = parseTimestamp(await file('timestamp.json'));
    const rotations = [
      ['rotate', 'team-a', ...server, '--role', 'timestamp', '--root-key', key('root1')],
      ['rotate', 'team-a', ...server, '--role', 'snapshot', '--root-key', key('root1')],
      ['add-key', 'team-a', ...server, '--role', 'targets', '--key', key('targets2'), '--root-key', key('root1')],
      ['rotate', 'team-a', ...server, '--role', 'targets', '--remove-key', key('targets1'), '--root-key', key('root1'), '--targets-key', key('targets2')],
      ['add-key', 'team-a', ...server, '--role', 'root', '--key', key('root2'), '--threshold', '2', '--root-key', key('root1')],
      ['rotate', 'team-a', ...server, '--role', 'root', '--remove-key', key('root1'), '--threshold', '1', '--root-key', key('root1'), '--root-key', key('root2')],
    ];
    for (const argv of rotations) {
      const result = await tuf(argv);
      assert.equal(result.code, 0, `${argv.join(' ')}: ${result.err}`);
    }
    mitm.overrides.clear();
    const client = newClient();
    const { code, outcome } = await verifyThroughMitm(client);
    assert.equal(code, 0, outcome.reason);
    const trusted = JSON.parse(await readFile(join(client[3]!, 'root.json'), 'utf8'));
    assert.equal(trusted.signed.version, 7);
    assert.equal(trusted.signed.roles.root.keyids.length, 1);

    // A timestamp signed with the retired key, newer than anything published, is refused.
    const current = parseTimestamp(await file('timestamp.json'));
    assert.notDeepEqual(Object.keys(current.signatures), Object.keys(before.signatures));
    const forged = new Metadata(new Timestamp({ specVersion: SPEC_VERSION, version: current.signed.version + 5, expires: current.signed.expires, snapshotMeta: current.signed.snapshotMeta }));
    mitm.overrides.set(metadataPath('team-a', 'timestamp.json'), retiredTimestamp.sign(forged, 'timestamp'));
    await assertRefused(['--metadata-dir', client[3]!], /timestamp was signed by 0\/1 keys/);
  });
});
