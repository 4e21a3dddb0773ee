/**
 * `wharf model push|pull|inspect`: models as OCI artifacts (CNCF ModelPack) against any registry;
 * loopback registries over plain HTTP, others HTTPS unless --plain-http.
 */
import { parseArgs } from 'node:util';
import { COMMAND_TABLE, parseOptions } from './command-table.ts';
import { parseReference } from '../client/reference.ts';
import { RegistryClient } from '../client/registry-client.ts';
import { inspectRemoteModel, pullModel, pushModel, type ProgressSink } from '../client/models.ts';
import type { ModelFacts } from '../content/models/inspect-model.ts';

/** The flags of `wharf model SUB`, from the command table (the one source of flags and help). */
const optionsOf = (sub: Sub) => parseOptions(COMMAND_TABLE.model!.subcommands![sub]!.flags);
type Parsed = { values: { [flag: string]: string | boolean | string[] | undefined; 'plain-http'?: boolean; json?: boolean; help?: boolean; include?: string[] } & Record<'concurrency' | 'chunk-size' | 'state' | 'streams', string | undefined>; positionals: string[] };
const parse = (sub: Sub, args: string[]) => parseArgs({ args, allowPositionals: true, options: optionsOf(sub) }) as Parsed;

type Sub = 'push' | 'pull' | 'inspect';

/**
 * A wrong call gets the subcommand's help (from the command table) on stderr and exit code 2.
 * (`wharf model --help`, `wharf model SUB --help` and unknown subcommands are answered by main.ts.)
 */
async function usage(sub: Sub): Promise<number> {
  const { commandHelp } = await import('./help.ts');
  console.error(await commandHelp('model', sub, []));
  return 2;
}

export async function modelCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'push': return push(rest);
    case 'pull': return pull(rest);
    case 'inspect': return inspect(rest);
    default: throw new Error(`wharf model: unknown subcommand "${sub}"`);
  }
}

function clientFor(reference: string, plainHttp: boolean | undefined) {
  const parsed = parseReference(reference);
  return { parsed, client: RegistryClient.for(parsed, plainHttp ? { plainHttp: true } : {}) };
}

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number <= 0) throw new Error(`--${name} must be a positive integer`);
  return number;
}

async function push(argv: string[]): Promise<number> {
  const { values, positionals } = parse('push', argv);
  if (positionals.length !== 2) return usage('push');
  const [dir, reference] = positionals as [string, string];
  const { parsed, client } = clientFor(reference, values['plain-http']);
  const progress = progressFor(process.stderr, values.json === true);
  const concurrency = positiveInt(values.concurrency, 'concurrency'), chunkSize = positiveInt(values['chunk-size'], 'chunk-size');
  const result = await pushModel(client, parsed.repository, parsed.tag ?? 'latest', dir, {
    progress, ...(concurrency ? { concurrency } : {}), ...(chunkSize ? { chunkSize } : {}), ...(values.state ? { statePath: values.state } : {}),
  });
  progress.close();
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(`pushed ${parsed.registry}/${parsed.repository}:${parsed.tag ?? 'latest'}@${result.digest}`);
    console.log(`${result.files} files: ${result.uploadedFiles} uploaded (${formatBytes(result.bytesSent)} sent${result.resumedFiles ? `, ${result.resumedFiles} resumed` : ''}), ${result.skippedFiles} already in the registry`);
    printFindings(result.facts);
  }
  return 0;
}

async function pull(argv: string[]): Promise<number> {
  const { values, positionals } = parse('pull', argv);
  if (positionals.length !== 2) return usage('pull');
  const [reference, dir] = positionals as [string, string];
  const { parsed, client } = clientFor(reference, values['plain-http']);
  const progress = progressFor(process.stderr, values.json === true);
  const streams = positiveInt(values.streams, 'streams'), concurrency = positiveInt(values.concurrency, 'concurrency');
  const result = await pullModel(client, parsed.repository, parsed.digest ?? parsed.tag ?? 'latest', dir, {
    progress, ...(values.include ? { include: values.include } : {}), ...(streams ? { streams } : {}), ...(concurrency ? { concurrency } : {}),
  });
  progress.close();
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else {
    for (const file of result.files) console.log(`${file.status.padEnd(10)} ${file.path} (${formatBytes(file.size)})`);
    console.log(`${result.files.length} files from ${parsed.repository}@${result.digest}, ${formatBytes(result.bytesReceived)} received, ${result.skipped} not included`);
  }
  return 0;
}

async function inspect(argv: string[]): Promise<number> {
  const { values, positionals } = parse('inspect', argv);
  if (positionals.length !== 1) return usage('inspect');
  const { parsed, client } = clientFor(positionals[0]!, values['plain-http']);
  const result = await inspectRemoteModel(client, parsed.repository, parsed.digest ?? parsed.tag ?? 'latest');
  if (values.json) { console.log(JSON.stringify({ digest: result.digest, source: result.source, model: result.facts ?? null }, null, 2)); return result.facts ? 0 : 1; }
  if (!result.facts) { console.error(`${positionals[0]} is not a model artifact (ModelPack, KitOps or Docker)`); return 1; }
  const facts = result.facts;
  console.log(`${parsed.repository}@${result.digest} (${facts.family}; read by the ${result.source})`);
  const line = (label: string, value: unknown) => { if (value !== null && value !== undefined && value !== '') console.log(`  ${label.padEnd(13)} ${String(value)}`); };
  line('name', facts.name); line('version', facts.version); line('lineage', facts.lineage); line('architecture', facts.architecture);
  line('format', `${facts.format ?? '?'}${facts.formats.length > 1 ? ` (${facts.formats.join(', ')})` : ''}`);
  line('parameters', facts.parameters === null ? null : `${facts.parameters.toLocaleString('en-US')}`);
  line('precision', facts.precision); line('quantization', facts.quantization); line('licences', facts.licenses.join(', ') || 'none declared');
  console.log('  files:');
  for (const file of facts.files) {
    const header = file.header ? ` ${[file.header['tensors'] !== undefined ? `${file.header['tensors']} tensors` : '', file.header['parameters'] !== undefined ? `${file.header['parameters']} params` : ''].filter(Boolean).join(', ')}` : '';
    const pickle = file.pickle ? ` imports: ${file.pickle.imports.join(', ') || 'none'}` : '';
    console.log(`    ${(file.path ?? file.digest).padEnd(28)} ${formatBytes(file.size).padStart(10)}  ${file.format}${header}${pickle}${file.problem ? `  (${file.problem})` : ''}`);
  }
  printFindings(facts);
  return 0;
}

function printFindings(facts: ModelFacts): void {
  if (facts.findings.length === 0) { console.log(facts.codeExecutingFormat ? 'pickle files import only tensor reconstruction' : 'no format that runs code when loaded'); return; }
  for (const finding of facts.findings) console.log(`${finding.severity.toUpperCase()}: ${finding.path ?? finding.digest}: ${finding.reason}`);
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

interface Tracked { total: number; done: number; started: number; finished?: string }

/**
 * Progress per file and overall: redrawn in place on a terminal, plain lines otherwise (a line
 * when a file finishes and an overall line at most every few seconds); nothing with --json.
 */
export function progressFor(stream: NodeJS.WriteStream, quiet: boolean, now: () => number = Date.now): ProgressSink & { close(): void } {
  const files = new Map<string, Tracked>();
  const began = now();
  let drawn = 0, lastPlain = 0;
  const tty = stream.isTTY === true;
  const describe = (name: string, item: { total: number; done: number; started: number }) => {
    const seconds = Math.max(0.001, (now() - item.started) / 1000);
    const rate = item.done / seconds;
    const eta = rate > 0 ? (item.total - item.done) / rate : Number.POSITIVE_INFINITY;
    const percent = item.total > 0 ? Math.floor((item.done / item.total) * 100) : 100;
    return `${name}: ${percent}% ${formatBytes(item.done)}/${formatBytes(item.total)} ${formatBytes(rate)}/s ETA ${formatDuration(eta)}`;
  };
  const overall = () => {
    let total = 0, done = 0;
    for (const item of files.values()) { total += item.total; done += item.done; }
    return describe('overall', { total, done, started: began });
  };
  const draw = () => {
    if (quiet || !tty) return;
    const lines = [...files.entries()].filter(([, item]) => !item.finished).slice(0, 8).map(([name, item]) => describe(name, item));
    lines.push(overall());
    stream.write(`${drawn > 0 ? `\x1b[${drawn}A` : ''}${lines.map((text) => `\x1b[2K${text}`).join('\n')}\n`);
    drawn = lines.length;
  };
  let timer: NodeJS.Timeout | undefined;
  if (!quiet && tty) timer = setInterval(draw, 200);
  timer?.unref();
  const plain = (text: string) => {
    if (quiet) return;
    if (tty) { stream.write(`${drawn > 0 ? `\x1b[${drawn}A` : ''}\x1b[J${text}\n`); drawn = 0; draw(); } else stream.write(`${text}\n`);
  };
  return {
    start(name, total) { files.set(name, { total, done: 0, started: now() }); },
    advance(name, bytes) {
      const item = files.get(name);
      if (item) item.done += bytes;
      if (!quiet && !tty && now() - lastPlain >= 5000) { lastPlain = now(); stream.write(`${overall()}\n`); }
    },
    finish(name, note) {
      const item = files.get(name);
      if (item) { item.done = item.total; item.finished = note; plain(`${describe(name, item)} ${note}`); } else plain(`${name}: ${note}`);
    },
    close() { if (timer) clearInterval(timer); if (!quiet && files.size > 0) plain(overall()); },
  };
}
