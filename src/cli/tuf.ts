/**
 * `wharf tuf keygen|init|add-key|rotate|delegate|sign|publish|verify`: a namespace's TUF
 * repository. The team's keys (root, top-level targets) and publishers' keys stay in files on
 * their machines; the registry holds only the online snapshot and timestamp keys. Flags come from
 * the command table (command-table.ts); the work is in src/tuf/client/.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { COMMAND_TABLE, parseOptions } from './command-table.ts';
import { resolveTarget, type AdminTarget } from './admin-target.ts';
import { ServerClient } from './server-client.ts';
import { generateTufKey, parseTufKeyFile, publicPart, type TufKeyFile } from '../tuf/keys.ts';
import { addTargets, changeRoot, delegateRole, initRepository, signBatch, upload, type NewTarget, type PublishBatch, type ServerApi } from '../tuf/client/publisher.ts';
import { defaultMetadataDir, openUpdater, verifyTarget, type TufEndpoint, type VerifyOutcome } from '../tuf/client/tuf-client.ts';
import { parseReference } from '../client/reference.ts';
import { RegistryClient } from '../client/registry-client.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Values = Record<string, string | boolean | string[] | undefined>;

function parse(subcommand: string, argv: string[]): { values: Values; positionals: string[] } {
  const spec = COMMAND_TABLE.tuf!.subcommands![subcommand]!;
  return parseArgs({ args: argv, allowPositionals: true, options: parseOptions(spec.flags) }) as { values: Values; positionals: string[] };
}

function usage(message: string): Error {
  return Object.assign(new Error(message), { code: 'ERR_PARSE_ARGS_USAGE' });
}

function strings(value: Values[string]): string[] {
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}

function positiveInteger(value: Values[string], flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw usage(`--${flag} must be a whole number of at least 1`);
  return number;
}

export async function readKeyFile(path: string): Promise<TufKeyFile> {
  return parseTufKeyFile(await readFile(path, 'utf8'), path);
}

/** Writes a new key pair: FILE (private, 0600) and FILE.pub (public, to hand to whoever delegates to it). */
export async function writeKeyFile(path: string): Promise<TufKeyFile> {
  const key = generateTufKey();
  await writeFile(path, `${JSON.stringify(key, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  await writeFile(`${path}.pub`, `${JSON.stringify(publicPart(key), null, 2)}\n`);
  return key;
}

/** Key files of a flag; with `create`, missing ones are made (the team's first keys, at init). */
async function keyFiles(paths: readonly string[], create = false): Promise<TufKeyFile[]> {
  const keys: TufKeyFile[] = [];
  for (const path of paths) {
    if (create && !existsSync(path)) {
      keys.push(await writeKeyFile(path));
      console.error(`wrote a new key to ${path} (keep it safe) and its public part to ${path}.pub`);
    } else {
      keys.push(await readKeyFile(path));
    }
  }
  return keys;
}

function serverOf(values: Values): { target: Extract<AdminTarget, { kind: 'server' }>; client: ServerClient } {
  const target = resolveTarget(values as never);
  if (target.kind !== 'server') throw usage(`wharf tuf talks to a running Wharf (it holds the online keys): give --server URL, set WHARF_SERVER, or \`wharf login URL\` (not ${target.path})`);
  return { target, client: new ServerClient(target.url, target.credentials) };
}

function endpointOf(target: Extract<AdminTarget, { kind: 'server' }>, namespace: string): TufEndpoint {
  return { server: target.url, namespace, ...(target.credentials ? { credentials: target.credentials } : {}) };
}

function metadataDirOf(values: Values, endpoint: TufEndpoint): string {
  return typeof values['metadata-dir'] === 'string' ? values['metadata-dir'] : defaultMetadataDir(endpoint);
}

/** Uploads a batch, or with --out writes it for more signatures. */
async function deliver(values: Values, server: ServerApi, namespace: string, batch: PublishBatch, what: string): Promise<void> {
  if (typeof values.out === 'string') {
    await writeFile(values.out, `${JSON.stringify(batch, null, 2)}\n`);
    console.log(`${what}: written to ${values.out}; add signatures with \`wharf tuf sign ${values.out} --key FILE\`, then \`wharf tuf publish ${namespace} --metadata ${values.out}\``);
    return;
  }
  const result = await upload(server, namespace, batch);
  console.log(`${what}: published (snapshot ${result.snapshot}, timestamp ${result.timestamp})`);
}

function namespaceArgument(positionals: readonly string[], command: string): string {
  const namespace = positionals[0];
  if (namespace === undefined || namespace.includes('/')) throw usage(`wharf tuf ${command}: give the NAMESPACE (its first path segment, e.g. team-a)`);
  return namespace;
}

async function keygen(argv: string[]): Promise<number> {
  const { values, positionals } = parse('keygen', argv);
  if (positionals.length !== 1) throw usage('usage: wharf tuf keygen FILE');
  const path = positionals[0]!;
  if (existsSync(path) && !values.force) throw new Error(`${path} exists (use --force to overwrite)`);
  if (values.force) await Promise.all([rm(path, { force: true }), rm(`${path}.pub`, { force: true })]);
  const key = await writeKeyFile(path);
  console.log(`${key.keyid}  written to ${path} (private, 0600) and ${path}.pub`);
  return 0;
}

async function init(argv: string[]): Promise<number> {
  const { values, positionals } = parse('init', argv);
  const namespace = namespaceArgument(positionals, 'init');
  const rootPaths = strings(values['root-key']);
  const targetsPaths = strings(values['targets-key']);
  if (rootPaths.length === 0 || targetsPaths.length === 0) throw usage('wharf tuf init: give --root-key FILE and --targets-key FILE (missing files are made)');
  const { target, client } = serverOf(values);
  const rootKeys = await keyFiles(rootPaths, true);
  const targetsKeys = await keyFiles(targetsPaths, true);
  const batch = await initRepository(client, namespace, {
    rootKeys, rootThreshold: positiveInteger(values['root-threshold'], 'root-threshold', 1),
    targetsKeys, targetsThreshold: positiveInteger(values['targets-threshold'], 'targets-threshold', 1),
    rootExpiresDays: positiveInteger(values['root-expires'], 'root-expires', 365),
    targetsExpiresDays: positiveInteger(values.expires, 'expires', 365),
  });
  const rootJson = `${JSON.stringify(batch.root)}\n`;
  await deliver(values, client, namespace, batch, `TUF repository of ${namespace}`);
  const endpoint = endpointOf(target, namespace);
  // The root just made is this machine's trust anchor; clients elsewhere get it with --root FILE.
  const rootOut = typeof values['root-out'] === 'string' ? values['root-out'] : `${namespace}.root.json`;
  await writeFile(rootOut, rootJson);
  if (typeof values.out !== 'string') {
    const dir = metadataDirOf(values, endpoint);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'root.json'), rootJson);
  }
  console.log(`root written to ${rootOut}: hand it to clients (\`wharf tuf verify REF --root ${rootOut}\`)`);
  return 0;
}

async function rootChange(command: 'add-key' | 'rotate', argv: string[]): Promise<number> {
  const { values, positionals } = parse(command, argv);
  const namespace = namespaceArgument(positionals, command);
  const role = values.role;
  if (role !== 'root' && role !== 'targets' && role !== 'snapshot' && role !== 'timestamp') throw usage(`wharf tuf ${command}: --role root|targets|snapshot|timestamp`);
  if (command === 'add-key' && (role === 'snapshot' || role === 'timestamp')) throw usage('the snapshot and timestamp keys are the registry\'s: use `wharf tuf rotate --role ' + role + '`');
  const add = await keyFiles(strings(values.key), command === 'add-key');
  if (command === 'add-key' && add.length === 0) throw usage('wharf tuf add-key: give the new key with --key FILE (made when missing)');
  const remove: string[] = [];
  for (const item of strings(values['remove-key'])) remove.push(/^[0-9a-f]{64}$/.test(item) ? item : (await readKeyFile(item)).keyid);
  const { target, client } = serverOf(values);
  const endpoint = endpointOf(target, namespace);
  const dir = metadataDirOf(values, endpoint);
  const updater = openUpdater(endpoint, dir, typeof values.root === 'string' ? values.root : undefined);
  const batch = await changeRoot(client, namespace, updater, dir, {
    role, add, remove, ...(values.threshold !== undefined ? { threshold: positiveInteger(values.threshold, 'threshold', 1) } : {}),
    rootKeys: await keyFiles(strings(values['root-key'])), targetsKeys: await keyFiles(strings(values['targets-key'])),
    rootExpiresDays: positiveInteger(values['root-expires'], 'root-expires', 365), targetsExpiresDays: positiveInteger(values.expires, 'expires', 365),
  });
  await deliver(values, client, namespace, batch, `root version ${(batch.root as { signed: { version: number } }).signed.version} of ${namespace}`);
  return 0;
}

async function delegate(argv: string[]): Promise<number> {
  const { values, positionals } = parse('delegate', argv);
  const namespace = namespaceArgument(positionals, 'delegate');
  const role = positionals[1];
  if (role === undefined || positionals.length !== 2) throw usage('usage: wharf tuf delegate NAMESPACE ROLE --path GLOB --key FILE --targets-key FILE');
  const keys = await keyFiles(strings(values.key));
  if (keys.length === 0) throw usage('wharf tuf delegate: give the role\'s key(s) with --key FILE (a .pub file is enough unless the role\'s first metadata is to be signed here)');
  const { target, client } = serverOf(values);
  const endpoint = endpointOf(target, namespace);
  const dir = metadataDirOf(values, endpoint);
  const updater = openUpdater(endpoint, dir, typeof values.root === 'string' ? values.root : undefined);
  const batch = await delegateRole(updater, dir, {
    role, paths: strings(values.path), keys, threshold: positiveInteger(values.threshold, 'threshold', 1), terminating: values.terminating === true,
    ...(values.bins !== undefined ? { bins: positiveInteger(values.bins, 'bins', 1) } : {}),
    targetsKeys: await keyFiles(strings(values['targets-key'])), expiresDays: positiveInteger(values.expires, 'expires', 365),
  });
  await deliver(values, client, namespace, batch, `delegation of ${strings(values.path).join(', ')} to ${role}`);
  return 0;
}

async function sign(argv: string[]): Promise<number> {
  const { values, positionals } = parse('sign', argv);
  if (positionals.length !== 1) throw usage('usage: wharf tuf sign FILE --key KEY [--role ROLE]');
  const keys = await keyFiles(strings(values.key));
  if (keys.length === 0) throw usage('wharf tuf sign: give --key FILE');
  const batch = JSON.parse(await readFile(positionals[0]!, 'utf8')) as PublishBatch;
  const signed = signBatch(batch, keys, strings(values.role));
  await writeFile(positionals[0]!, `${JSON.stringify(batch, null, 2)}\n`);
  console.log(`signed ${signed.join(', ') || 'nothing'} in ${positionals[0]}`);
  return 0;
}

/** The artifact a REPOSITORY:TAG names on the server, with the referrers (attestations) attached to it. */
async function resolveArtifact(target: Extract<AdminTarget, { kind: 'server' }>, path: string): Promise<NewTarget> {
  const host = new URL(target.url).host;
  const reference = parseReference(`${host}/${path}`);
  if (!reference.tag || reference.digest) throw usage(`"${path}" is not REPOSITORY:TAG`);
  const client = RegistryClient.for(reference, target.credentials ? { credentials: target.credentials } : {});
  const manifest = await client.getManifest(reference.repository, reference.tag);
  if (!manifest) throw new Error(`${path}: no such manifest on ${target.url}`);
  const referrers = await client.referrers(reference.repository, manifest.digest).catch(() => []);
  return {
    path: `${reference.repository}:${reference.tag}`, digest: manifest.digest, length: manifest.bytes.byteLength, mediaType: manifest.mediaType,
    attestations: referrers.map((referrer) => ({ digest: referrer.digest, ...(referrer.artifactType ? { artifactType: referrer.artifactType } : {}) })),
  };
}

async function publish(argv: string[]): Promise<number> {
  const { values, positionals } = parse('publish', argv);
  const namespace = namespaceArgument(positionals, 'publish');
  const { target, client } = serverOf(values);
  const files = strings(values.metadata);
  if (files.length > 0) {
    if (positionals.length > 1) throw usage('wharf tuf publish: give REPOSITORY:TAG references or --metadata FILE, not both');
    for (const file of files) {
      const result = await upload(client, namespace, JSON.parse(await readFile(file, 'utf8')) as PublishBatch);
      console.log(`${file}: published (snapshot ${result.snapshot}, timestamp ${result.timestamp})`);
    }
    return 0;
  }
  const paths = positionals.slice(1);
  const role = typeof values.role === 'string' ? values.role : undefined;
  const keys = await keyFiles(strings(values.key));
  if (paths.length === 0 || role === undefined || keys.length === 0) throw usage('usage: wharf tuf publish NAMESPACE REPOSITORY:TAG... --role ROLE --key FILE (or --metadata FILE)');
  const endpoint = endpointOf(target, namespace);
  const dir = metadataDirOf(values, endpoint);
  const updater = openUpdater(endpoint, dir, typeof values.root === 'string' ? values.root : undefined);
  const additions: NewTarget[] = [];
  for (const path of paths) {
    const artifact = await resolveArtifact(target, path);
    if (artifact.path.split('/')[0] !== namespace) throw usage(`${path} is not in namespace ${namespace}`);
    additions.push(artifact);
  }
  const batch = await addTargets(updater, dir, role, keys, additions, positiveInteger(values.expires, 'expires', 365));
  await deliver(values, client, namespace, batch, additions.map((a) => `${a.path} → ${a.digest}`).join(', '));
  return 0;
}

async function verify(argv: string[]): Promise<number> {
  const { values, positionals } = parse('verify', argv);
  if (positionals.length !== 1) throw usage('usage: wharf tuf verify REGISTRY/REPOSITORY:TAG [--root FILE]');
  const reference = parseReference(positionals[0]!);
  if (!reference.tag || reference.digest) throw usage(`${positionals[0]}: give a tag (TUF names tags; a digest needs no TUF)`);
  const namespace = reference.repository.split('/')[0]!;
  const server = `${/^(localhost|127\.|\[::1\])/.test(reference.registry) ? 'http' : 'https'}://${reference.registry}`;
  const target = resolveTarget({ server });
  const credentials = target.kind === 'server' ? target.credentials : undefined;
  const endpoint: TufEndpoint = { server, namespace, ...(credentials ? { credentials } : {}) };
  const path = `${reference.repository}:${reference.tag}`;
  let outcome: VerifyOutcome;
  try {
    const updater = openUpdater(endpoint, metadataDirOf(values, endpoint), typeof values.root === 'string' ? values.root : undefined);
    const client = RegistryClient.for(reference, credentials ? { credentials } : {});
    outcome = await verifyTarget(updater, path, async () => client.getManifest(reference.repository, reference.tag!));
  } catch (error) {
    outcome = { ok: false, path, reason: `TUF refused ${namespace}'s metadata: ${(error as Error).message}` };
  }
  if (values.json) console.log(JSON.stringify(outcome, null, 2));
  else if (outcome.ok) console.log(`verified ${positionals[0]} → ${outcome.served!.digest} (TUF target ${path})`);
  else console.error(`wharf tuf verify: ${positionals[0]}: ${outcome.reason}`);
  return outcome.ok ? 0 : 1;
}

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  keygen, init, 'add-key': (argv) => rootChange('add-key', argv), rotate: (argv) => rootChange('rotate', argv), delegate, sign, publish, verify,
};

export async function tufCommand(argv: string[]): Promise<number> {
  const [subcommand, ...rest] = argv;
  const run = subcommand === undefined ? undefined : SUBCOMMANDS[subcommand];
  if (!run) throw usage(`wharf tuf: unknown subcommand "${subcommand ?? ''}"`);
  return run(rest);
}
