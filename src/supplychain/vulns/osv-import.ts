/**
 * Loading OSV records from what advisory databases publish: a folder of .json (or OSV-in-YAML)
 * files, a .zip of them, or JSON Lines. Each record is parsed leniently (a record the matcher can
 * use is kept even if it fails a strict schema check); unusable ones are reported with a reason.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseJson } from '../shared/json.ts';
import { parseOsvRecord, type OsvRecord } from './osv-record.ts';
import { readZipEntries } from './zip-reader.ts';

export interface ImportProblem {
  readonly source: string;
  readonly reason: string;
}

export interface LoadedRecords {
  readonly records: OsvRecord[];
  readonly problems: ImportProblem[];
}

const MAX_RECORD_BYTES = 16 * 1024 * 1024;

function parseDocument(text: Buffer, source: string, yaml: boolean, into: LoadedRecords): void {
  let value: unknown;
  if (yaml) {
    try { value = parseYaml(text.toString('utf8'), { maxAliasCount: 100 }); } catch (error) { into.problems.push({ source, reason: `not valid YAML: ${(error as Error).message}` }); return; }
  } else {
    const parsed = parseJson(text, MAX_RECORD_BYTES);
    if (!parsed.ok) { into.problems.push({ source, reason: parsed.reason }); return; }
    value = parsed.value;
  }
  // Some exports wrap records in an array; accept both shapes.
  for (const item of Array.isArray(value) ? value : [value]) {
    const record = parseOsvRecord(item);
    if (record.ok) into.records.push(record.record); else into.problems.push({ source, reason: record.reason });
  }
}

export function parseJsonLines(text: string, source: string, into: LoadedRecords = { records: [], problems: [] }): LoadedRecords {
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    parseDocument(Buffer.from(line), `${source}:${index + 1}`, false, into);
  }
  return into;
}

async function walk(folder: string, into: LoadedRecords): Promise<void> {
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) await walk(path, into);
    else if (entry.isFile()) await loadFile(path, into, true);
  }
}

async function loadFile(path: string, into: LoadedRecords, inFolder: boolean): Promise<void> {
  const lower = path.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) parseJsonLines(await readFile(path, 'utf8'), path, into);
  else if (lower.endsWith('.zip')) await loadZip(await readFile(path), path, into);
  else if (lower.endsWith('.json')) parseDocument(await readFile(path), path, false, into);
  else if (lower.endsWith('.yaml') || lower.endsWith('.yml')) parseDocument(await readFile(path), path, true, into);
  else if (!inFolder) into.problems.push({ source: path, reason: 'not a .json, .jsonl, .yaml or .zip file' });
}

async function loadZip(zip: Buffer, source: string, into: LoadedRecords): Promise<void> {
  const wanted = (name: string) => /\.(json|jsonl|yaml)$/i.test(name);
  try {
    for await (const entry of readZipEntries(zip, wanted)) {
      const entrySource = `${source}!${entry.name}`;
      if ('problem' in entry) into.problems.push({ source: entrySource, reason: entry.problem });
      else if (entry.name.toLowerCase().endsWith('.jsonl')) parseJsonLines(entry.data.toString('utf8'), entrySource, into);
      else parseDocument(entry.data, entrySource, entry.name.toLowerCase().endsWith('.yaml'), into);
    }
  } catch (error) {
    into.problems.push({ source, reason: (error as Error).message });
  }
}

/** Records from a folder, a .zip, a .jsonl or a single .json/.yaml file. */
export async function loadOsvRecords(path: string): Promise<LoadedRecords> {
  const into: LoadedRecords = { records: [], problems: [] };
  const info = await stat(path);
  if (info.isDirectory()) await walk(path, into); else await loadFile(path, into, false);
  return into;
}
