/**
 * `wharf policy eval|test|check`: OPA-shaped commands over the in-process Rego engine.
 *
 *   wharf policy eval [-d FILE_OR_DIR]… [-i INPUT] [--v0-compatible] [--format json|pretty] QUERY
 *   wharf policy test [--v0-compatible] [-v] PATH…
 *   wharf policy check [--v0-compatible] PATH…
 *
 * `.rego` files become modules; `.json`/`.yaml`/`.yml` files are data, loaded at the path of
 * their directory relative to the `-d` root, as `opa eval` does. Problems with the user's
 * files are reported with file and line and a non-zero exit code, never a stack trace.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, dirname, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { compile, RegoError, type Compiled, type SourceModule } from '../policy/rego/index.ts';
import { fromJS, JSONNumber, RObject, toJS, type Value } from '../policy/rego/value.ts';
import { formatDetail } from '../policy/rego/errors.ts';
import { COMMAND_TABLE, parseOptions } from './command-table.ts';

export interface PolicyIO {
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultIO: PolicyIO = {
  out: (t) => process.stdout.write(t + '\n'),
  err: (t) => process.stderr.write(t + '\n'),
};

const USAGE = `Usage:
  wharf policy eval [-d FILE_OR_DIR]... [-i INPUT] [--v0-compatible] [--format json|pretty] QUERY
  wharf policy test [--v0-compatible] [-v] PATH...
  wharf policy check [--v0-compatible] PATH...`;

/** The parse options of eval, test or check: the command table's, which --help shows. */
function flagsOf(command: 'eval' | 'test' | 'check') {
  return parseOptions(COMMAND_TABLE.policy!.subcommands![command]!.flags);
}

/** A user-facing failure: printed as is, exit code 1. */
class UsageError extends Error {}

export async function runPolicyCommand(argv: string[], io: PolicyIO = defaultIO): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case 'eval':
        return evalCommand(rest, io);
      case 'test':
        return testCommand(rest, io);
      case 'check':
        return checkCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return sub === undefined ? 2 : 0;
      default:
        io.err(`wharf policy: unknown subcommand "${sub}"\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof RegoError) {
      for (const d of e.errors) io.err(formatDetail(d));
      return 1;
    }
    if (e instanceof UsageError) {
      io.err(`wharf policy: ${e.message}`);
      return 1;
    }
    const code = (e as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      io.err(`wharf policy: ${(e as Error).message}\n${USAGE}`);
      return 2;
    }
    // Anything else (a document nested too deeply to convert, …): a message, not a stack trace.
    io.err(`wharf policy: ${e instanceof RangeError ? 'input is too large or too deeply nested' : (e as Error).message ?? String(e)}`);
    return 1;
  }
}

// ---- eval --------------------------------------------------------------------------------

function evalCommand(argv: string[], io: PolicyIO): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: flagsOf('eval'),
  }) as { values: { data?: string[]; input?: string; 'v0-compatible'?: boolean; format?: string }; positionals: string[] };
  if (positionals.length !== 1) throw new UsageError(`eval needs exactly one query\n${USAGE}`);
  const format = values.format ?? 'json';
  if (format !== 'json' && format !== 'pretty') throw new UsageError(`unknown format "${format}" (json or pretty)`);
  const loaded = loadPaths(values.data ?? []);
  const compiled = compile(loaded.modules, { regoVersion: values['v0-compatible'] ? 'v0' : 'v1' });
  const input = values.input !== undefined ? readDocument(values.input) : undefined;
  const results = compiled.prepare(positionals[0]).eval({ input, data: loaded.data, print: (m) => io.err(m) });
  if (format === 'pretty') {
    io.out(prettyResults(results));
    return 0;
  }
  if (results.length === 0) {
    io.out('{}');
    return 0;
  }
  const json = {
    result: results.map((r) => {
      const entry: Record<string, unknown> = {
        expressions: r.expressions.map((e) => ({ value: toJS(e.value), text: e.text, location: e.location })),
      };
      if (Object.keys(r.bindings).length) entry.bindings = Object.fromEntries(Object.entries(r.bindings).map(([k, v]) => [k, toJS(v)]));
      return entry;
    }),
  };
  io.out(stringify(json, ''));
  return 0;
}

function prettyResults(results: ReturnType<ReturnType<Compiled['prepare']>['eval']>): string {
  if (results.length === 0) return 'undefined';
  const lines: string[] = [];
  for (const r of results) {
    const names = Object.keys(r.bindings);
    if (names.length === 0) {
      for (const e of r.expressions) lines.push(stringify(toJS(e.value), ''));
    } else {
      lines.push(names.map((n) => `${n}: ${stringify(toJS(r.bindings[n]), '')}`).join('\n'));
    }
  }
  return lines.join('\n');
}

/** JSON with two-space indentation that keeps big integers and exact decimals intact. */
function stringify(x: unknown, indent: string): string {
  if (x === null || x === undefined) return 'null';
  if (typeof x === 'bigint') return x.toString();
  if (x instanceof JSONNumber) return x.text;
  if (typeof x !== 'object') return JSON.stringify(x);
  const inner = indent + '  ';
  if (Array.isArray(x)) {
    if (x.length === 0) return '[]';
    return '[\n' + x.map((v) => inner + stringify(v, inner)).join(',\n') + '\n' + indent + ']';
  }
  const entries = Object.entries(x as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  return '{\n' + entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${stringify(v, inner)}`).join(',\n') + '\n' + indent + '}';
}

// ---- test and check ----------------------------------------------------------------------

function testCommand(argv: string[], io: PolicyIO): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: flagsOf('test'),
  }) as { values: { 'v0-compatible'?: boolean; verbose?: boolean }; positionals: string[] };
  if (positionals.length === 0) throw new UsageError(`test needs at least one path\n${USAGE}`);
  const loaded = loadPaths(positionals);
  const compiled = compile(loaded.modules, { regoVersion: values['v0-compatible'] ? 'v0' : 'v1' });
  const tests = compiled.tests();
  let passed = 0;
  let failed = 0;
  let errored = 0;
  for (const name of tests) {
    const r = compiled.runTest(name, { data: loaded.data });
    const time = `(${r.durationMs.toFixed(1)}ms)`;
    if (r.outcome === 'pass') {
      passed++;
      if (values.verbose) io.out(`${name}: PASS ${time}`);
    } else if (r.outcome === 'fail') {
      failed++;
      io.out(`${name}: FAIL ${time}`);
    } else {
      errored++;
      io.out(`${name}: ERROR ${time}\n  ${r.error}`);
    }
    if ((values.verbose || r.outcome !== 'pass') && r.output.length) for (const line of r.output) io.out(`  ${line}`);
  }
  io.out('-'.repeat(80));
  if (tests.length === 0) {
    io.out('no tests found');
    return 1;
  }
  if (passed) io.out(`PASS: ${passed}/${tests.length}`);
  if (failed) io.out(`FAIL: ${failed}/${tests.length}`);
  if (errored) io.out(`ERROR: ${errored}/${tests.length}`);
  return failed || errored ? 1 : 0;
}

function checkCommand(argv: string[], io: PolicyIO): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: flagsOf('check'),
  }) as { values: { 'v0-compatible'?: boolean }; positionals: string[] };
  if (positionals.length === 0) throw new UsageError(`check needs at least one path\n${USAGE}`);
  const loaded = loadPaths(positionals, true);
  try {
    compile(loaded.modules, { regoVersion: values['v0-compatible'] ? 'v0' : 'v1' });
  } catch (e) {
    if (!(e instanceof RegoError)) throw e;
    for (const d of e.errors) {
      const where = d.location ? `${d.location.file}:${d.location.row}:${d.location.col}: ` : '';
      io.err(`${where}${d.code}: ${d.message}`);
    }
    io.err(`${e.errors.length} error${e.errors.length === 1 ? '' : 's'} found`);
    return 1;
  }
  return 0;
}

// ---- loading files -------------------------------------------------------------------------

interface Loaded {
  modules: SourceModule[];
  data: RObject;
}

/** Loads `.rego` modules and data files from files and directories (recursively). */
function loadPaths(paths: string[], modulesOnly = false): Loaded {
  const modules: SourceModule[] = [];
  let data = new RObject();
  for (const root of paths) {
    let stat;
    try {
      stat = statSync(root);
    } catch {
      throw new UsageError(`${root}: no such file or directory`);
    }
    const files = stat.isDirectory() ? walk(root) : [root];
    for (const file of files) {
      if (file.endsWith('.rego')) modules.push({ file, source: readText(file) });
      else if (!modulesOnly && /\.(json|ya?ml)$/.test(file)) {
        // Like OPA, a data file's content lands at its directory's path below the root.
        const rel = stat.isDirectory() ? relative(root, dirname(file)) : '';
        const path = rel === '' ? [] : rel.split(sep);
        data = mergeAt(data, path, readDocument(file), file);
      }
    }
  }
  return { modules, data };
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full));
    else out.push(full);
  }
  return out;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${file}: cannot read: ${(e as Error).message}`);
  }
}

/** Reads a JSON or YAML document, keeping big integers and decimals exact. */
export function readDocument(file: string): Value {
  const text = readText(file);
  if (/\.ya?ml$/.test(file)) {
    try {
      return fromJS(parseYaml(text, { intAsBigInt: true }));
    } catch (e) {
      throw new UsageError(`${file}: invalid YAML: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  try {
    return fromJS(JSON.parse(text, exactNumbers));
  } catch (e) {
    throw new UsageError(`${file}: invalid JSON: ${describeJsonError(text, e as Error)}`);
  }
}

function exactNumbers(this: unknown, _key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value === 'number' && context?.source !== undefined && String(value) !== context.source) return new JSONNumber(context.source);
  return value;
}

function describeJsonError(text: string, e: Error): string {
  const m = /position (\d+)/.exec(e.message);
  if (!m) return e.message;
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return `${e.message.replace(/ in JSON at position.*$/, '')} (line ${line}, column ${col})`;
}

function mergeAt(root: RObject, path: string[], value: Value, file: string): RObject {
  if (path.length === 0) {
    if (!(value instanceof RObject)) throw new UsageError(`${file}: data at the root must be an object`);
    return mergeObjects(root, value, file);
  }
  const out = RObject.from(root.entries());
  const child = root.get(path[0]);
  out.set(path[0], mergeAt(child instanceof RObject ? child : new RObject(), path.slice(1), value, file));
  return out;
}

function mergeObjects(a: RObject, b: RObject, file: string): RObject {
  const out = RObject.from(a.entries());
  for (const [k, v] of b.entries()) {
    const prev = out.get(k);
    if (prev instanceof RObject && v instanceof RObject) out.set(k, mergeObjects(prev, v, file));
    else if (prev !== undefined) throw new UsageError(`${file}: data conflicts with another file at key ${JSON.stringify(toJS(k))}`);
    else out.set(k, v);
  }
  return out;
}
