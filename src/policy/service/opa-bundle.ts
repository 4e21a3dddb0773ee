/**
 * OPA bundles: a gzipped tar of `.rego` modules and `data.json`/`data.yaml` documents (placed at
 * their folder's path under `data`), with an optional `.manifest` (revision, roots). Read from a
 * buffer with limits, so a hostile archive cannot exhaust memory. Pure.
 */
import { gunzipSync } from 'node:zlib';
import { parse as parseYaml } from 'yaml';

export interface Bundle {
  readonly modules: { file: string; source: string }[];
  readonly data: Record<string, unknown>;
  readonly revision?: string;
}

export class BundleError extends Error {}

const MAX_UNPACKED_BYTES = 64 * 1024 * 1024;
const BLOCK = 512;

export function readBundle(gzipped: Uint8Array): Bundle {
  let tar: Buffer;
  try {
    tar = gunzipSync(gzipped, { maxOutputLength: MAX_UNPACKED_BYTES });
  } catch (error) {
    throw new BundleError(`bundle is not a gzip archive within ${MAX_UNPACKED_BYTES} bytes: ${(error as Error).message}`);
  }
  const bundle: Bundle = { modules: [], data: {} };
  let revision: string | undefined;
  for (const entry of tarEntries(tar)) {
    const path = entry.name.replace(/^\.?\//, '');
    if (path.endsWith('.rego')) {
      if (!path.endsWith('_test.rego')) bundle.modules.push({ file: path, source: entry.content.toString('utf8') });
    } else if (/(^|\/)data\.(json|ya?ml)$/.test(path)) {
      mergeAt(bundle.data, path.split('/').slice(0, -1), parseDocument(path, entry.content));
    } else if (path === '.manifest') {
      const manifest = parseDocument(path, entry.content) as { revision?: unknown };
      if (typeof manifest.revision === 'string') revision = manifest.revision;
    }
  }
  if (bundle.modules.length === 0) throw new BundleError('bundle holds no .rego module');
  return { ...bundle, revision };
}

/** Entries of a POSIX tar (ustar, with PAX and GNU long names), regular files only. */
export function* tarEntries(tar: Buffer): Generator<{ name: string; content: Buffer }> {
  let offset = 0;
  let longName: string | undefined;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) return;
    const size = parseOctal(header.subarray(124, 136));
    const type = String.fromCharCode(header[156]!);
    const start = offset + BLOCK;
    if (start + size > tar.length) throw new BundleError('tar archive is truncated');
    const content = tar.subarray(start, start + size);
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(content.toString('utf8'))?.[1] ?? longName;
      continue;
    }
    if (type === 'L') {
      longName = content.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    const prefix = cString(header.subarray(345, 500));
    const name = longName ?? (prefix ? `${prefix}/${cString(header.subarray(0, 100))}` : cString(header.subarray(0, 100)));
    longName = undefined;
    if (type === '0' || type === '\0') yield { name, content };
  }
}

function parseOctal(field: Buffer): number {
  const text = cString(field).trim();
  const value = text === '' ? 0 : Number.parseInt(text, 8);
  if (!Number.isSafeInteger(value) || value < 0) throw new BundleError('tar header has an invalid size');
  return value;
}

function cString(field: Buffer): string {
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
}

function parseDocument(path: string, content: Buffer): unknown {
  try {
    return path.endsWith('.json') || path === '.manifest' ? JSON.parse(content.toString('utf8')) : parseYaml(content.toString('utf8'));
  } catch (error) {
    throw new BundleError(`${path}: ${(error as Error).message}`);
  }
}

function mergeAt(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path) {
    const next = node[key];
    node = (typeof next === 'object' && next !== null && !Array.isArray(next) ? next : (node[key] = {})) as Record<string, unknown>;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BundleError(`data at /${path.join('/')} must be an object`);
  }
  Object.assign(node, value);
}
