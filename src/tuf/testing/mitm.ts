/**
 * A registry in the middle, for TUF attack tests: a loopback server that forwards every request to
 * the real Wharf, except the paths a test overrides — as a compromised registry or mirror would
 * serve them. An override may also be a function that writes its own answer (endless data).
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Metadata, MetadataKind, type Snapshot, type Targets, type Timestamp } from '@tufjs/models';
import { SqliteTufStore } from '../tuf-store.ts';
import { KeySealer } from '../sealed-keys.ts';
import { signerOf } from '../keys.ts';

export type Override = Buffer | ((res: ServerResponse) => void);

export interface Mitm {
  readonly url: string;
  readonly host: string;
  readonly overrides: Map<string, Override>;
  /** Sets `upstream` (the registry moved after a restart). */
  retarget(upstream: string): void;
  close(): Promise<void>;
}

export async function startMitm(upstream: string): Promise<Mitm> {
  const overrides = new Map<string, Override>();
  let target = upstream;
  const server = createServer(async (req, res) => {
    const override = overrides.get(req.url ?? '');
    if (override) {
      if (typeof override === 'function') return override(res);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': override.byteLength });
      return res.end(override);
    }
    try {
      const headers: Record<string, string> = {};
      for (const name of ['accept', 'authorization', 'content-type']) if (typeof req.headers[name] === 'string') headers[name] = req.headers[name];
      const answer = await fetch(`${target}${req.url}`, { method: req.method ?? 'GET', headers });
      const body = Buffer.from(await answer.arrayBuffer());
      const out: Record<string, string> = { 'content-length': String(body.byteLength) };
      for (const name of ['content-type', 'docker-content-digest', 'www-authenticate']) { const value = answer.headers.get(name); if (value) out[name] = value; }
      res.writeHead(answer.status, out);
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (error) {
      res.writeHead(502);
      res.end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, overrides,
    retarget(next) { target = next; },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** The metadata path of a namespace's file, as the mitm sees requests. */
export function metadataPath(namespace: string, file: string): string {
  return `/api/v1/tuf/${namespace}/metadata/${file}`;
}

/** What an attacker who stole the registry's online keys (its data folder, secret included) can sign. */
export function stolenOnlineKeys(dataDir: string, namespace: string) {
  const store = new SqliteTufStore(join(dataDir, 'tuf.db'));
  const sealer = KeySealer.fromFile(join(dataDir, 'tuf-secret'));
  const rows = store.onlineKeys(namespace).filter((row) => row.state === 'active');
  store.close();
  const keyOf = (role: 'snapshot' | 'timestamp') => {
    const row = rows.find((r) => r.role === role)!;
    return { keytype: 'ed25519' as const, scheme: 'ed25519' as const, keyid: row.keyid, keyval: { public: row.publicHex }, private: sealer.open(row.sealed, `${namespace}/${role}/${row.keyid}`) };
  };
  return {
    sign(metadata: Metadata<Snapshot | Timestamp | Targets>, role: 'snapshot' | 'timestamp'): Buffer {
      metadata.signatures = {};
      metadata.sign(signerOf(keyOf(role)));
      return Buffer.from(JSON.stringify(metadata.toJSON()));
    },
  };
}

export function parseTimestamp(bytes: Buffer): Metadata<Timestamp> {
  return Metadata.fromJSON(MetadataKind.Timestamp, JSON.parse(bytes.toString('utf8')));
}

export function parseSnapshot(bytes: Buffer): Metadata<Snapshot> {
  return Metadata.fromJSON(MetadataKind.Snapshot, JSON.parse(bytes.toString('utf8')));
}

export function parseTargets(bytes: Buffer): Metadata<Targets> {
  return Metadata.fromJSON(MetadataKind.Targets, JSON.parse(bytes.toString('utf8')));
}
