// Caps on upload sessions and staged bytes, per account and per namespace, over HTTP: with
// authentication on (accounts are the callers) and off (anonymous: per namespace only).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { basic, startAuthRegistry, type AuthRegistry } from '../../test/support/auth-fixture.ts';
import { json, sha256, startTestRegistry, type TestRegistry } from '../../test/support/registry-fixture.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { FilesystemBlobStore } from '../storage/blobs/filesystem-blob-store.ts';
import { SqliteMetadataStore } from '../storage/metadata/sqlite-metadata-store.ts';
import { UploadService } from './upload-service.ts';

const PASSWORD = 'pass-word-123';

interface Answer { status: number; location?: string; range?: string; error?: { code: string; message: string; detail: Record<string, unknown> } }

async function answer(response: Response): Promise<Answer> {
  const error = response.status >= 400 ? (await json(response)).errors[0] : (await response.arrayBuffer(), undefined);
  return { status: response.status, location: response.headers.get('location') ?? undefined, range: response.headers.get('range') ?? undefined, error };
}

function openSession(url: string, repository: string, authorization?: string): Promise<Answer> {
  return fetch(`${url}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers: authorization ? { authorization } : {} }).then(answer);
}

function patch(url: string, location: string, body: Uint8Array | ReadableStream<Uint8Array>, headers: Record<string, string> = {}): Promise<Answer> {
  return fetch(new URL(location, url), { method: 'PATCH', body, headers: { 'content-type': 'application/octet-stream', ...headers }, duplex: 'half' } as RequestInit).then(answer);
}

/** A body without Content-Length (chunked), as clients stream layers of unknown size. */
function streamOf(...chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({ pull(controller) { const next = chunks.shift(); if (next) controller.enqueue(next); else controller.close(); } });
}

function assertLimit(result: Answer, key: string): void {
  assert.equal(result.status, 429, JSON.stringify(result));
  assert.equal(result.error?.code, 'TOOMANYREQUESTS');
  assert.match(result.error!.message, new RegExp(key.replace('.', '\\.')));
  assert.equal(result.error!.detail.limit, key);
}

describe('upload limits with authentication', () => {
  let registry: AuthRegistry;
  const alice = basic('alice', PASSWORD);
  const bob = basic('bob', PASSWORD);
  const carol = basic('carol', PASSWORD);
  before(async () => {
    registry = await startAuthRegistry({
      WHARF_UPLOADS_MAX_SESSIONS_PER_ACCOUNT: '3',
      WHARF_UPLOADS_MAX_SESSIONS_PER_NAMESPACE: '5',
      WHARF_UPLOADS_MAX_STAGED_BYTES_PER_ACCOUNT: '1500',
      WHARF_UPLOADS_MAX_STAGED_BYTES_PER_NAMESPACE: '1000',
    });
    for (const [user, namespace] of [['alice', 'team-a'], ['bob', 'team-a'], ['carol', 'team-b'], ['carol', 'team-c']]) {
      if (!(await registry.store.getUser(user!))) await registry.admin.addUser(user!, PASSWORD);
      await registry.admin.setMembership(namespace!, { kind: 'user', name: user! }, 'writer');
    }
  });
  after(() => registry.close());

  it('caps the open sessions of one account, and frees a place when one is cancelled', async () => {
    const opened = [];
    for (let i = 0; i < 3; i++) opened.push(await openSession(registry.url, 'team-a/app', alice));
    assert.deepEqual(opened.map((result) => result.status), [202, 202, 202]);
    assertLimit(await openSession(registry.url, 'team-a/other', alice), 'uploads.maxSessionsPerAccount');
    assert.equal((await fetch(new URL(opened[0]!.location!, registry.url), { method: 'DELETE', headers: { authorization: alice } })).status, 204);
    assert.equal((await openSession(registry.url, 'team-a/app', alice)).status, 202);
  });

  it('caps the open sessions of one namespace across accounts, leaving other namespaces alone', async () => {
    assert.equal((await openSession(registry.url, 'team-a/app', bob)).status, 202);
    assert.equal((await openSession(registry.url, 'team-a/app', bob)).status, 202);
    assertLimit(await openSession(registry.url, 'team-a/app', bob), 'uploads.maxSessionsPerNamespace');
    assert.equal((await openSession(registry.url, 'team-b/app', carol)).status, 202);
  });

  it('caps the bytes staged in a namespace, whether the body declares its length or not, and keeps what was staged', async () => {
    const first = await openSession(registry.url, 'team-b/app', carol);
    assert.equal((await patch(registry.url, first.location!, new Uint8Array(600), { authorization: carol })).status, 202);
    const second = await openSession(registry.url, 'team-b/app', carol);
    assertLimit(await patch(registry.url, second.location!, new Uint8Array(600), { authorization: carol }), 'uploads.maxStagedBytesPerNamespace');
    assertLimit(await patch(registry.url, second.location!, streamOf(new Uint8Array(300), new Uint8Array(300)), { authorization: carol }), 'uploads.maxStagedBytesPerNamespace');
    const status = await fetch(new URL(second.location!, registry.url), { headers: { authorization: carol } }).then(answer);
    assert.deepEqual([status.status, status.range], [204, '0-0'], 'nothing of the refused bodies is staged');
    assert.equal((await patch(registry.url, second.location!, new Uint8Array(400), { authorization: carol })).status, 202, 'up to the limit is fine');
    // Completing an upload makes it a blob: its bytes no longer count as staged.
    const done = await fetch(new URL(`${first.location!}?digest=${sha256(new Uint8Array(600))}`, registry.url), { method: 'PUT', headers: { authorization: carol } });
    assert.equal(done.status, 201);
    assert.equal((await patch(registry.url, second.location!, new Uint8Array(500), { authorization: carol })).status, 202);
  });

  it('caps the bytes one account stages over all its namespaces', async () => {
    // carol staged 900 bytes in team-b; 600 more in team-c passes its namespace limit but not her own.
    const session = await openSession(registry.url, 'team-c/app', carol);
    assertLimit(await patch(registry.url, session.location!, new Uint8Array(601), { authorization: carol }), 'uploads.maxStagedBytesPerAccount');
    assert.equal((await patch(registry.url, session.location!, new Uint8Array(600), { authorization: carol })).status, 202);
  });

  it('counts one-request uploads against staged bytes while they run', async () => {
    const body = new Uint8Array(1200);
    const response = await fetch(`${registry.url}/v2/team-c/app/blobs/uploads/?digest=${sha256(body)}`, { method: 'POST', body, headers: { authorization: carol } }).then(answer);
    assertLimit(response, 'uploads.maxStagedBytesPerNamespace');
  });
});

describe('upload limits without authentication', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry({ WHARF_UPLOADS_MAX_SESSIONS_PER_ACCOUNT: '1', WHARF_UPLOADS_MAX_SESSIONS_PER_NAMESPACE: '2' });
  });
  after(() => registry.close());

  it('counts anonymous sessions per namespace', async () => {
    assert.equal((await openSession(registry.url, 'open/one')).status, 202);
    assert.equal((await openSession(registry.url, 'open/two')).status, 202, 'no per-account limit for anonymous callers');
    assertLimit(await openSession(registry.url, 'open/three'), 'uploads.maxSessionsPerNamespace');
    assert.equal((await openSession(registry.url, 'elsewhere/app')).status, 202);
  });
});

describe('upload limits across a restart', () => {
  it('counts the sessions and staged bytes a previous run left open', async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'wharf-upload-limits-'));
    const blobs = new FilesystemBlobStore(join(root, 'blobs'));
    await blobs.init();
    const metadata = new SqliteMetadataStore(join(root, 'metadata.db'));
    await metadata.migrate();
    t.after(async () => { await metadata.close(); await rm(root, { recursive: true, force: true }); });
    const limits = { maxSessionsPerAccount: 0, maxSessionsPerNamespace: 2, maxStagedBytesPerAccount: 0, maxStagedBytesPerNamespace: 100 };
    const before = new UploadService(blobs, metadata, { limits });
    const staged = await before.start('kept/app', 'user:alice');
    await before.append(staged, Readable.from([new Uint8Array(80)]), 0, 80);
    await before.start('kept/app', 'user:alice');

    const after = new UploadService(blobs, metadata, { limits });
    await after.load();
    await assert.rejects(after.start('kept/app'), { code: 'TOOMANYREQUESTS', detail: { limit: 'uploads.maxSessionsPerNamespace', value: 2 } });
    await assert.rejects(after.append(staged, Readable.from([new Uint8Array(21)]), 80, 21), { code: 'TOOMANYREQUESTS', detail: { limit: 'uploads.maxStagedBytesPerNamespace', value: 100 } });
    await after.cancel(staged);
    assert.match(await after.start('kept/app'), /^[0-9a-f-]{36}$/);
  });
});
