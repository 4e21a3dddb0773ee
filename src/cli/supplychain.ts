/**
 * Supply-chain commands, usable against any OCI registry (flags follow cosign's where they
 * overlap): keygen, sign, verify, attest, attach sbom, sbom, vulns (and vulns import).
 * Each returns the exit code; `verify` exits 0 only when a signature verified.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { decryptCosignKey, generateCosignKeyPair } from '../supplychain/cosign/encrypted-key.ts';
import { parseTrustBytes, parseTrustDocument, type TrustConfig } from '../supplychain/trust/trust-config.ts';
import { verifyAttachment } from '../supplychain/verify/verify-attachment.ts';
import { parseSbomBytes } from '../supplychain/sbom/parse-sbom.ts';
import { parsePurl } from '../supplychain/sbom/purl.ts';
import type { SbomComponent } from '../supplychain/sbom/sbom-model.ts';
import { loadOsvRecords } from '../supplychain/vulns/osv-import.ts';
import { VulnDatabase } from '../supplychain/vulns/vuln-database.ts';
import { SEVERITY_ORDER } from '../supplychain/vulns/severity.ts';
import { serializeOsvRecord } from '../supplychain/vulns/osv-record.ts';
import { parseReference, repositoryReference, type ImageReference } from '../client/reference.ts';
import { RegistryClient } from '../client/registry-client.ts';
import { gatherAttachments } from '../client/attachments.ts';
import { attachSbom, attestImage, PREDICATE_TYPES, signImage, type Subject } from '../client/signing.ts';
import { readSecret } from './prompt.ts';

const COMMON = { 'plain-http': { type: 'boolean' }, json: { type: 'boolean' } } as const;

export const SUPPLY_CHAIN_USAGE = `Supply-chain commands (any OCI registry; loopback registries over plain HTTP, others HTTPS unless --plain-http):
  wharf keygen [--output-key-prefix cosign] [--force]            key pair in cosign's format (COSIGN_PASSWORD or prompt)
  wharf sign REF --key cosign.key [--referrer] [-a key=value]     cosign signature (tag scheme, or OCI 1.1 referrer)
  wharf verify REF (--key cosign.pub | --trust trust.json | --certificate-identity[-regexp] ID --certificate-oidc-issuer[-regexp] ISSUER --trusted-root FILE) [--attestations]
                                                                  exit 0 only if verified; prints the signer
  wharf attest REF --predicate FILE --type TYPE --key cosign.key [--referrer] in-toto attestation in DSSE
  wharf attach sbom REF FILE [--tag-scheme]                       CycloneDX or SPDX JSON
  wharf sbom REF                                                  component table of attached SBOMs
  wharf vulns REF [--db OSV-PATH]                                 findings by severity (Wharf's, or matched locally)
  wharf vulns import PATH [--registry URL]                        load OSV records (folder, .zip, .jsonl) into Wharf
Every command takes --json for scripts.`;

function wantsHelp(argv: readonly string[]): boolean {
  if (!argv.includes('--help') && !argv.includes('-h')) return false;
  console.log(SUPPLY_CHAIN_USAGE);
  return true;
}

function print(json: boolean, value: unknown, text: string): void {
  console.log(json ? JSON.stringify(value, null, 2) : text);
}

async function password(confirm: boolean): Promise<string> {
  const fromEnv = process.env['COSIGN_PASSWORD'];
  if (fromEnv !== undefined) return fromEnv;
  const first = await readSecret('Enter password for private key: ');
  if (confirm && (await readSecret('Enter password for private key again: ')) !== first) throw new Error('passwords do not match');
  return first;
}

async function loadPrivateKey(path: string) {
  const decrypted = decryptCosignKey(await readFile(path, 'utf8'), await password(false));
  if (!decrypted.ok) throw new Error(`${path}: ${decrypted.reason}`);
  return decrypted.privateKey;
}

/**
 * Reads the manifest REF names. Commands that go on to push (sign, attest, attach) ask for push
 * access from the start, as cosign does: a registry may let a pusher read what its pull gates
 * refuse to consumers (Wharf does), and the token then already carries the push.
 */
async function resolveSubject(text: string, plainHttp: boolean, forPush = false): Promise<{ client: RegistryClient; reference: ImageReference; subject: Subject }> {
  const reference = parseReference(text);
  const client = RegistryClient.for(reference, { plainHttp });
  const scope = `repository:${reference.repository}:${forPush ? 'pull,push' : 'pull'}`;
  const manifest = await client.getManifest(reference.repository, reference.digest ?? reference.tag ?? 'latest', scope);
  if (!manifest) throw new Error(`${text}: no such manifest`);
  return { client, reference, subject: { repository: reference.repository, digest: manifest.digest, size: manifest.bytes.byteLength, mediaType: manifest.mediaType, dockerReference: repositoryReference(reference) } };
}

export async function keygenCommand(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return 0;
  const { values } = parseArgs({ args: argv, options: { 'output-key-prefix': { type: 'string', default: 'cosign' }, force: { type: 'boolean' } } });
  const prefix = values['output-key-prefix']!;
  for (const path of [`${prefix}.key`, `${prefix}.pub`]) if (existsSync(path) && !values.force) throw new Error(`${path} exists (use --force to overwrite)`);
  const pair = generateCosignKeyPair(await password(true));
  await writeFile(`${prefix}.key`, pair.privatePem, { mode: 0o600 });
  await writeFile(`${prefix}.pub`, pair.publicPem);
  console.error(`Private key written to ${prefix}.key\nPublic key written to ${prefix}.pub`);
  return 0;
}

export async function signCommand(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return 0;
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...COMMON, key: { type: 'string' }, referrer: { type: 'boolean' }, annotations: { type: 'string', short: 'a', multiple: true } } });
  if (positionals.length !== 1 || !values.key) throw Object.assign(new Error('usage: wharf sign REF --key FILE [--referrer] [-a key=value]'), { code: 'ERR_PARSE_ARGS_USAGE' });
  const privateKey = await loadPrivateKey(values.key);
  const { client, subject } = await resolveSubject(positionals[0]!, values['plain-http'] ?? false, true);
  const annotations = Object.fromEntries((values.annotations ?? []).map((pair) => { const at = pair.indexOf('='); return [pair.slice(0, at), pair.slice(at + 1)]; }));
  const result = await signImage(client, subject, privateKey, { referrer: values.referrer ?? false, annotations });
  print(values.json ?? false, { subject: subject.digest, signatureManifest: result.manifest, mode: values.referrer ? 'referrer' : 'tag' }, `Signed ${subject.dockerReference}@${subject.digest} (${values.referrer ? 'OCI 1.1 referrer' : 'tag scheme'} ${result.manifest})`);
  return 0;
}

export interface TrustFlags {
  readonly key?: string;
  readonly trust?: string;
  readonly 'trusted-root'?: string;
  readonly 'certificate-identity'?: string;
  readonly 'certificate-identity-regexp'?: string;
  readonly 'certificate-oidc-issuer'?: string;
  readonly 'certificate-oidc-issuer-regexp'?: string;
}

export const TRUST_OPTIONS = {
  key: { type: 'string' }, trust: { type: 'string' }, 'trusted-root': { type: 'string' },
  'certificate-identity': { type: 'string' }, 'certificate-identity-regexp': { type: 'string' },
  'certificate-oidc-issuer': { type: 'string' }, 'certificate-oidc-issuer-regexp': { type: 'string' },
} as const;

/** --trust FILE, or a configuration built from cosign's flags (--key, --certificate-identity…, --trusted-root). */
export async function trustFromFlags(values: TrustFlags): Promise<TrustConfig> {
  if (values.trust) {
    const parsed = parseTrustBytes(await readFile(values.trust));
    if (!parsed.ok) throw new Error(`${values.trust}: ${parsed.reason}`);
    return parsed.trust;
  }
  const subject = values['certificate-identity'] ?? (values['certificate-identity-regexp'] ? `/${values['certificate-identity-regexp']}/` : undefined);
  const issuer = values['certificate-oidc-issuer'] ?? (values['certificate-oidc-issuer-regexp'] ? `/${values['certificate-oidc-issuer-regexp']}/` : undefined);
  if (!values.key && !subject) throw Object.assign(new Error('give --key FILE, --trust FILE, or --certificate-identity with --certificate-oidc-issuer and --trusted-root'), { code: 'ERR_PARSE_ARGS_USAGE' });
  if (subject && (!issuer || !values['trusted-root'])) throw Object.assign(new Error('keyless verification needs --certificate-oidc-issuer and --trusted-root (a trusted_root.json) too'), { code: 'ERR_PARSE_ARGS_USAGE' });
  const document = {
    cosign: { keys: values.key ? [{ name: values.key, publicKey: await readFile(values.key, 'utf8') }] : [] },
    keyless: subject ? { trustedRoot: JSON.parse(await readFile(values['trusted-root']!, 'utf8')), identities: [{ subject, issuer }] } : { identities: [] },
  };
  const parsed = parseTrustDocument(document);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.trust;
}

export async function verifyCommand(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return 0;
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...COMMON, ...TRUST_OPTIONS, attestations: { type: 'boolean' } } });
  if (positionals.length !== 1) throw Object.assign(new Error('usage: wharf verify REF (--key FILE | --trust FILE | --certificate-identity ID --certificate-oidc-issuer ISSUER --trusted-root FILE) [--attestations]'), { code: 'ERR_PARSE_ARGS_USAGE' });
  const trust = await trustFromFlags(values);
  const { client, subject } = await resolveSubject(positionals[0]!, values['plain-http'] ?? false);
  const wanted = values.attestations ? 'attestation' : 'signature';
  const gathered = await gatherAttachments(client, subject.repository, subject.digest);
  const subjectManifest = await client.getManifest(subject.repository, subject.digest);
  const results = gathered.attachments.filter((attachment) => attachment.kind === wanted).map((attachment) => ({
    attachment: attachment.manifestDigest, format: attachment.format, via: attachment.via, predicateType: attachment.detail.predicateType,
    ...verifyAttachment(attachment, trust, { ...(subjectManifest ? { manifest: subjectManifest.bytes } : {}) }),
  }));
  const verified = results.filter((result) => result.verified);
  const lines = results.length === 0 ? [`no ${wanted}s found for ${subject.dockerReference}@${subject.digest}`]
    : results.map((result) => `${result.verified ? 'VERIFIED' : 'FAILED  '} ${result.format} (${result.via}) ${result.signer ? `signer=${result.signer} ` : ''}- ${result.reason}`);
  print(values.json ?? false, { subject: subject.digest, verified: verified.length > 0, results }, lines.join('\n'));
  return verified.length > 0 ? 0 : 1;
}

export async function attestCommand(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return 0;
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...COMMON, key: { type: 'string' }, predicate: { type: 'string' }, type: { type: 'string', default: 'custom' }, referrer: { type: 'boolean' } } });
  if (positionals.length !== 1 || !values.key || !values.predicate) throw Object.assign(new Error('usage: wharf attest REF --predicate FILE --type TYPE --key FILE [--referrer]'), { code: 'ERR_PARSE_ARGS_USAGE' });
  const predicateType = PREDICATE_TYPES[values.type!] ?? values.type!;
  if (!/^[a-z][a-z0-9+.-]*:/i.test(predicateType)) throw new Error(`--type "${values.type}" is neither a known shorthand (${Object.keys(PREDICATE_TYPES).join(', ')}) nor a URI`);
  let predicate: unknown;
  try { predicate = JSON.parse(await readFile(values.predicate, 'utf8')); } catch (error) { throw new Error(`${values.predicate}: not JSON (${(error as Error).message})`); }
  const privateKey = await loadPrivateKey(values.key);
  const { client, subject } = await resolveSubject(positionals[0]!, values['plain-http'] ?? false, true);
  const result = await attestImage(client, subject, privateKey, predicateType, predicate, { referrer: values.referrer ?? false });
  print(values.json ?? false, { subject: subject.digest, predicateType, attestationManifest: result.manifest }, `Attested ${subject.dockerReference}@${subject.digest} with ${predicateType} (${result.manifest})`);
  return 0;
}

export async function attachCommand(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return 0;
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...COMMON, 'tag-scheme': { type: 'boolean' } } });
  if (positionals[0] !== 'sbom' || positionals.length !== 3) throw Object.assign(new Error('usage: wharf attach sbom REF FILE [--tag-scheme]'), { code: 'ERR_PARSE_ARGS_USAGE' });
  const document = await readFile(positionals[2]!);
  const sbom = parseSbomBytes(document);
  if (!sbom.ok) throw new Error(`${positionals[2]}: ${sbom.reason}`);
  const mediaType = sbom.sbom.format === 'spdx' ? 'application/spdx+json' : 'application/vnd.cyclonedx+json';
  const { client, subject } = await resolveSubject(positionals[1]!, values['plain-http'] ?? false, true);
  const manifest = await attachSbom(client, subject, document, mediaType, { tagScheme: values['tag-scheme'] ?? false });
  print(values.json ?? false, { subject: subject.digest, sbomManifest: manifest, format: sbom.sbom.format, components: sbom.sbom.components.length },
    `Attached ${sbom.sbom.format} SBOM (${sbom.sbom.components.length} components) to ${subject.dockerReference}@${subject.digest} as ${manifest}`);
  return 0;
}

async function sbomComponents(ref: string, plainHttp: boolean): Promise<{ subject: Subject; components: SbomComponent[]; documents: number }> {
  const { client, subject } = await resolveSubject(ref, plainHttp);
  const gathered = await gatherAttachments(client, subject.repository, subject.digest);
  const components = [...gathered.components.values()].flat();
  return { subject, components, documents: gathered.components.size };
}

export async function sbomCommand(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return 0;
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...COMMON } });
  if (positionals.length !== 1) throw Object.assign(new Error('usage: wharf sbom REF [--json]'), { code: 'ERR_PARSE_ARGS_USAGE' });
  const { subject, components, documents } = await sbomComponents(positionals[0]!, values['plain-http'] ?? false);
  const rows = components.map((component) => [component.name, component.version ?? '', component.purl ? parsePurl(component.purl)?.type ?? '' : '', component.licenses.join(' ')]);
  const widths = [0, 1, 2].map((column) => Math.min(60, Math.max(...[['NAME', 'VERSION', 'TYPE'][column]!, ...rows.map((row) => row[column]!)].map((cell) => cell.length))));
  const table = [['NAME', 'VERSION', 'TYPE', 'LICENSES'], ...rows].map((row) => row.map((cell, i) => (i < 3 ? cell.slice(0, 60).padEnd(widths[i]!) : cell)).join('  ')).join('\n');
  print(values.json ?? false, { subject: subject.digest, documents, components }, documents === 0 ? `no SBOM attached to ${subject.dockerReference}@${subject.digest}` : table);
  return documents === 0 ? 1 : 0;
}

export async function vulnsCommand(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return 0;
  if (argv[0] === 'import') return vulnsImport(argv.slice(1));
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...COMMON, db: { type: 'string' } } });
  if (positionals.length !== 1) throw Object.assign(new Error('usage: wharf vulns REF [--db OSV-PATH] [--json] | wharf vulns import PATH [--registry URL]'), { code: 'ERR_PARSE_ARGS_USAGE' });
  if (!values.db) return vulnsFromRegistry(positionals[0]!, values['plain-http'] ?? false, values.json ?? false);
  const loaded = await loadOsvRecords(values.db);
  const database = new VulnDatabase();
  for (const record of loaded.records) database.upsert(record);
  const { subject, components } = await sbomComponents(positionals[0]!, values['plain-http'] ?? false);
  const findings = database.match(components).sort((a, b) => SEVERITY_ORDER.indexOf(a.severity.level) - SEVERITY_ORDER.indexOf(b.severity.level));
  const counts = Object.fromEntries(SEVERITY_ORDER.map((level) => [level, findings.filter((finding) => finding.severity.level === level).length]));
  const text = [`${subject.dockerReference}@${subject.digest}: ${findings.length} findings ${JSON.stringify(counts)}`,
    ...findings.map((finding) => `${finding.severity.level.toUpperCase().padEnd(8)} ${finding.vulnerabilityId.padEnd(22)} ${finding.purl}${finding.summary ? `  ${finding.summary}` : ''}`)].join('\n');
  print(values.json ?? false, { subject: subject.digest, counts, findings }, text);
  return 0;
}

/** Without a local database, asks Wharf's trust document for the findings it stored. */
async function vulnsFromRegistry(text: string, plainHttp: boolean, json: boolean): Promise<number> {
  const { client, subject } = await resolveSubject(text, plainHttp);
  const response = await client.request('GET', `/api/v1/repositories/${subject.repository}/manifests/${subject.digest}/trust`);
  if (!response.ok) throw new Error(`${client.registry} has no supply-chain API (${response.status}); use --db OSV-PATH to match locally`);
  const document = await response.json() as { vulnerabilities: { counts: Record<string, number>; total: number; worst: { id: string; severity: string; purl: string; summary?: string }[] } };
  const vulns = document.vulnerabilities;
  print(json, { subject: subject.digest, ...vulns }, [`${subject.dockerReference}@${subject.digest}: ${vulns.total} findings ${JSON.stringify(vulns.counts)}`,
    ...vulns.worst.map((finding) => `${finding.severity.toUpperCase().padEnd(8)} ${finding.id.padEnd(22)} ${finding.purl}${finding.summary ? `  ${finding.summary}` : ''}`)].join('\n'));
  return 0;
}

async function vulnsImport(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...COMMON, registry: { type: 'string', default: 'http://127.0.0.1:5000' } } });
  if (positionals.length !== 1) throw Object.assign(new Error('usage: wharf vulns import PATH [--registry URL]'), { code: 'ERR_PARSE_ARGS_USAGE' });
  const loaded = await loadOsvRecords(positionals[0]!);
  const body = loaded.records.map(serializeOsvForImport).join('\n');
  // Through the registry client, so credentials from the container auth files are used when Wharf asks for them.
  const target = new URL(values.registry!);
  const client = new RegistryClient(target.host, { plainHttp: target.protocol === 'http:' });
  const response = await client.request('POST', '/api/v1/vulnerabilities', { headers: { 'content-type': 'application/x-ndjson' }, body: Buffer.from(body) });
  if (!response.ok) throw new Error(`import failed: ${response.status} ${await response.text()}`);
  const result = await response.json() as Record<string, unknown>;
  print(values.json ?? false, { ...result, unreadable: loaded.problems }, `Imported ${loaded.records.length} records (${String(result['changed'])} new or changed, ${String(result['rematchedSboms'])} SBOMs re-matched); ${loaded.problems.length} unreadable`);
  return 0;
}

/** Records travel as OSV JSON (sets back to `versions` arrays, ranges as OSV events). */
function serializeOsvForImport(record: Parameters<typeof serializeOsvRecord>[0]): string {
  return JSON.stringify({
    id: record.id, modified: record.modified, ...(record.withdrawn ? { withdrawn: record.withdrawn } : {}), ...(record.summary ? { summary: record.summary } : {}),
    aliases: record.aliases, severity: record.severity, ...(record.severityLabel ? { database_specific: { severity: record.severityLabel } } : {}),
    affected: record.affected.map((entry) => ({
      package: { ecosystem: entry.ecosystem, name: entry.name }, versions: [...entry.versions], severity: entry.severity,
      ...(entry.label ? { ecosystem_specific: { severity: entry.label } } : {}),
      ranges: entry.ranges.map((range) => ({ type: range.type, events: range.events.map((event) => ({ [event.kind]: event.version })) })),
    })),
  });
}
