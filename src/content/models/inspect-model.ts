/**
 * What a model artifact is, read cheaply and safely from its manifest, its config and the first
 * bytes of its files: family (ModelPack, KitOps, Docker), name, version, architecture, format,
 * parameters, precision, quantisation, licences, the file list, and the imports of every pickle a
 * loader would run. Blobs are read through ranged reads of bounded length, never whole.
 */
import { arrayField, isObject, objectField, parseJson, stringField } from '../../supplychain/shared/json.ts';
import {
  CODE_EXECUTING_FORMATS, DOCKER_LICENSE, fileFormat, isRawLayer, KITOPS_PREFIX, MODELPACK_FILEPATH_ANNOTATION, modelFamily,
  OCI_TITLE_ANNOTATION, WEIGHT_FORMATS, type FileFormat, type ModelFamily,
} from './model-media-types.ts';
import { DEFAULT_SAFETENSORS_LIMITS, parseSafetensorsHeader, safetensorsHeaderSpan } from './safetensors-header.ts';
import { DEFAULT_GGUF_LIMITS, ggufMetadataJson, parseGgufHeader } from './gguf-header.ts';
import { DEFAULT_PICKLE_LIMITS, looksLikePickle, scanPickle, type PickleScan } from './pickle-scanner.ts';
import { DEFAULT_ZIP_LIMITS, listZip, looksLikeZip, readZipEntry, type RangeRead } from './zip-entries.ts';

/** Reads `length` bytes at `start` of a blob (fewer at its end), or gives the reason it cannot. */
export type BlobRangeRead = (digest: string, start: number, length: number) => Promise<Buffer | string>;

export interface ModelInspectLimits {
  readonly maxConfigBytes: number;
  /** Files whose headers are read; the rest are listed only. */
  readonly maxInspectedFiles: number;
  readonly maxGgufHeaderBytes: number;
  /** Bytes of a raw pickle scanned; a longer stream is reported as scanned in part. */
  readonly maxPickleBytes: number;
  /** Pickles read from one PyTorch zip. */
  readonly maxPicklesPerZip: number;
}

export const DEFAULT_MODEL_LIMITS: ModelInspectLimits = {
  maxConfigBytes: 1024 * 1024, maxInspectedFiles: 256, maxGgufHeaderBytes: 32 * 1024 * 1024, maxPickleBytes: 32 * 1024 * 1024, maxPicklesPerZip: 16,
};

export interface ModelFile {
  readonly path: string | null;
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  readonly format: FileFormat;
  /** What the header said (safetensors, GGUF), when it was read. */
  readonly header?: Record<string, unknown>;
  /** The imports a pickle would call, for pickle-based files. */
  readonly pickle?: { readonly imports: readonly string[]; readonly dangerous: readonly string[]; readonly complete: boolean };
  readonly problem?: string;
}

/** A file that runs code when loaded: dangerous imports found, or a pickle that could not be fully scanned. */
export interface CodeFinding {
  readonly path: string | null;
  readonly digest: string;
  readonly format: FileFormat;
  readonly severity: 'dangerous' | 'unscanned';
  readonly imports: readonly string[];
  readonly reason: string;
}

export interface ModelFacts {
  readonly family: ModelFamily;
  readonly name: string | null;
  readonly version: string | null;
  /** The model's own lineage as its config names it ("llama3", "qwen2"). */
  readonly lineage: string | null;
  readonly architecture: string | null;
  /** The weight format holding most bytes ("safetensors", "gguf", "pickle" …). */
  readonly format: string | null;
  readonly formats: readonly string[];
  readonly parameters: number | null;
  readonly precision: string | null;
  readonly quantization: string | null;
  readonly licenses: readonly string[];
  readonly files: readonly ModelFile[];
  /** Some file is in a format whose loading executes code (pickle). */
  readonly codeExecutingFormat: boolean;
  readonly findings: readonly CodeFinding[];
  readonly problems: readonly string[];
}

interface Layer { readonly mediaType: string; readonly digest: string; readonly size: number; readonly annotations: Record<string, string> }

function layersOf(manifest: Record<string, unknown>): Layer[] {
  return arrayField(manifest, 'layers').flatMap((layer) => {
    const mediaType = stringField(layer, 'mediaType'), digest = stringField(layer, 'digest');
    const size = isObject(layer) ? layer['size'] : undefined;
    if (!mediaType || !digest || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return [];
    const annotations: Record<string, string> = {};
    for (const [key, value] of Object.entries(objectField(layer, 'annotations') ?? {})) if (typeof value === 'string') annotations[key] = value;
    return [{ mediaType, digest, size, annotations }];
  });
}

/** The model family of a parsed manifest, or undefined when it is not a model artifact. */
export function modelFamilyOf(manifest: unknown): ModelFamily | undefined {
  if (!isObject(manifest)) return undefined;
  return modelFamily(stringField(manifest, 'artifactType'), stringField(objectField(manifest, 'config'), 'mediaType'), layersOf(manifest).map((layer) => layer.mediaType));
}

/** Reads a model artifact's facts; undefined when the manifest is not a model artifact. */
export async function inspectModel(manifest: unknown, read: BlobRangeRead, limits: ModelInspectLimits = DEFAULT_MODEL_LIMITS): Promise<ModelFacts | undefined> {
  const family = modelFamilyOf(manifest);
  if (!family || !isObject(manifest)) return undefined;
  const problems: string[] = [];
  const configDescriptor = objectField(manifest, 'config');
  const config = await readConfig(configDescriptor, read, limits, problems);
  const declared = family === 'modelpack' ? modelPackConfig(config) : family === 'kitops' ? kitfileConfig(config) : dockerConfig(config);
  const layers = layersOf(manifest);
  const kitPaths = family === 'kitops' ? kitfileLayerPaths(config, layers) : [];
  const files: ModelFile[] = [];
  const findings: CodeFinding[] = [];
  const licenses = new Set(declared.licenses);
  let inspected = 0;
  for (const [index, layer] of layers.entries()) {
    const path = layer.annotations[MODELPACK_FILEPATH_ANNOTATION] ?? layer.annotations[OCI_TITLE_ANNOTATION] ?? kitPaths[index] ?? null;
    const base = { path, digest: layer.digest, size: layer.size, mediaType: layer.mediaType };
    let format = fileFormat(layer.mediaType, path ?? undefined);
    if (!isRawLayer(layer.mediaType) || format === 'doc' || format === 'config' || format === 'chat-template' || format === 'other' && layer.size === 0) {
      files.push({ ...base, format });
      continue;
    }
    if (++inspected > limits.maxInspectedFiles) {
      files.push({ ...base, format, problem: `not read: more than ${limits.maxInspectedFiles} files` });
      continue;
    }
    const blob: RangeRead = (start, length) => read(layer.digest, start, Math.max(0, Math.min(length, layer.size - start)));
    const file = await inspectFile(base, format, blob, limits);
    format = file.format;
    files.push(file);
    if (file.header && typeof file.header['license'] === 'string') licenses.add(file.header['license']);
    if (format === 'license' || layer.mediaType === DOCKER_LICENSE) {
      const text = await blob(0, 4096);
      if (typeof text !== 'string') licenses.add(licenseFromText(text.toString('utf8')));
    }
    if (file.pickle && (file.pickle.dangerous.length > 0 || !file.pickle.complete)) {
      findings.push({
        path, digest: layer.digest, format, severity: file.pickle.dangerous.length > 0 ? 'dangerous' : 'unscanned', imports: file.pickle.dangerous,
        reason: file.pickle.dangerous.length > 0 ? `loading runs ${file.pickle.dangerous.slice(0, 5).join(', ')}` : file.problem ?? 'the pickle was not scanned to its end',
      });
    } else if (CODE_EXECUTING_FORMATS.has(format) && file.problem) {
      findings.push({ path, digest: layer.digest, format, severity: 'unscanned', imports: [], reason: file.problem });
    }
  }
  const weightBytes = new Map<string, number>();
  for (const file of files) if (WEIGHT_FORMATS.has(file.format)) weightBytes.set(file.format, (weightBytes.get(file.format) ?? 0) + file.size);
  const formats = [...weightBytes.keys()];
  const dominant = [...weightBytes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? declared.format ?? null;
  return {
    family,
    name: declared.name ?? null,
    version: declared.version ?? null,
    lineage: declared.lineage ?? null,
    architecture: declared.architecture ?? firstHeader(files, 'architecture') ?? null,
    format: declared.format ?? dominant,
    formats,
    // The headers count exactly; a config's figure ("8.03B") is rounded and may be stale.
    parameters: headerParameters(files) ?? declared.parameters ?? null,
    precision: declared.precision ?? precisionFromHeaders(files) ?? null,
    quantization: declared.quantization ?? firstHeader(files, 'quantization') ?? null,
    licenses: [...licenses].filter((license) => license.length > 0),
    files,
    codeExecutingFormat: files.some((file) => CODE_EXECUTING_FORMATS.has(file.format)),
    findings,
    problems: [...problems, ...files.filter((file) => file.problem).map((file) => `${file.path ?? file.digest}: ${file.problem}`)],
  };
}

async function readConfig(descriptor: Record<string, unknown> | undefined, read: BlobRangeRead, limits: ModelInspectLimits, problems: string[]): Promise<Record<string, unknown>> {
  const digest = stringField(descriptor, 'digest');
  const size = descriptor?.['size'];
  if (!digest || typeof size !== 'number') return {};
  if (size > limits.maxConfigBytes) { problems.push(`config: ${size} bytes, over the limit of ${limits.maxConfigBytes}`); return {}; }
  if (size <= 2) return {};
  const bytes = await read(digest, 0, size);
  if (typeof bytes === 'string') { problems.push(`config: ${bytes}`); return {}; }
  const parsed = parseJson(bytes);
  if (!parsed.ok || !isObject(parsed.value)) { problems.push(`config: ${parsed.ok ? 'not a JSON object' : parsed.reason}`); return {}; }
  return parsed.value;
}

interface DeclaredFacts {
  name?: string; version?: string; lineage?: string; architecture?: string; format?: string;
  parameters?: number; precision?: string; quantization?: string; licenses: string[];
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return value.length > 0 ? [value] : [];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string' && item.length > 0) : [];
}

function defined(facts: Record<string, unknown>): DeclaredFacts {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(facts)) if (value !== undefined && value !== '') out[key] = value;
  return out as unknown as DeclaredFacts;
}

/** ModelPack: descriptor {name, version, family, licenses}, config {architecture, format, paramSize, precision, quantization}. */
function modelPackConfig(config: Record<string, unknown>): DeclaredFacts {
  const descriptor = objectField(config, 'descriptor'), inner = objectField(config, 'config');
  return defined({
    name: stringField(descriptor, 'name'), version: stringField(descriptor, 'version'), lineage: stringField(descriptor, 'family'),
    architecture: stringField(inner, 'architecture'), format: stringField(inner, 'format'),
    parameters: parseParameterCount(inner?.['paramSize']), precision: stringField(inner, 'precision'), quantization: stringField(inner, 'quantization'),
    licenses: strings(descriptor?.['licenses']),
  });
}

/** KitOps: the Kitfile as JSON: package {name, version, license}, model {name, version, license, framework, parameters}. */
function kitfileConfig(config: Record<string, unknown>): DeclaredFacts {
  const pack = objectField(config, 'package'), model = objectField(config, 'model');
  const parameters = objectField(model, 'parameters');
  return defined({
    name: stringField(model, 'name') ?? stringField(pack, 'name'), version: stringField(model, 'version') ?? stringField(pack, 'version'),
    format: stringField(model, 'format') ?? stringField(model, 'framework')?.toLowerCase(),
    architecture: stringField(parameters, 'architecture'), parameters: parseParameterCount(parameters?.['parameterCount'] ?? parameters?.['parameters']),
    precision: stringField(parameters, 'precision'), quantization: stringField(parameters, 'quantization'),
    licenses: [...strings(model?.['license']), ...strings(pack?.['license'])],
  });
}

/** Docker: config {format, quantization, parameters ("8.03 B"), architecture}, maybe under format-named objects. */
function dockerConfig(config: Record<string, unknown>): DeclaredFacts {
  const inner = objectField(config, 'config');
  const byFormat = objectField(inner, 'safetensors') ?? objectField(inner, 'gguf');
  return defined({
    format: stringField(inner, 'format'), quantization: stringField(inner, 'quantization'),
    architecture: stringField(inner, 'architecture') ?? stringField(byFormat, 'architecture') ?? stringField(byFormat, 'general.architecture'),
    parameters: parseParameterCount(inner?.['parameters'] ?? byFormat?.['parameter_count'] ?? byFormat?.['general.parameter_count']),
    name: stringField(byFormat, 'general.name'), licenses: strings(byFormat?.['general.license']),
  });
}

/** ModelKit layers are tars named by the Kitfile: model, then its parts, datasets, code, docs, in order. */
function kitfileLayerPaths(config: Record<string, unknown>, layers: readonly Layer[]): (string | null)[] {
  const model = objectField(config, 'model');
  const queues: Record<string, string[]> = {
    model: strings(model?.['path']),
    modelpart: arrayField(model, 'parts').flatMap((part) => strings(isObject(part) ? part['path'] : undefined)),
    dataset: arrayField(config, 'datasets').flatMap((entry) => strings(isObject(entry) ? entry['path'] : undefined)),
    code: arrayField(config, 'code').flatMap((entry) => strings(isObject(entry) ? entry['path'] : undefined)),
    docs: arrayField(config, 'docs').flatMap((entry) => strings(isObject(entry) ? entry['path'] : undefined)),
  };
  return layers.map((layer) => {
    if (!layer.mediaType.startsWith(KITOPS_PREFIX)) return null;
    const kind = layer.mediaType.slice(KITOPS_PREFIX.length).split('.')[0] ?? '';
    return queues[kind]?.shift() ?? null;
  });
}

/** "8.03 B", "7b", "475M", "1.5T", 7000000 → a count; anything else → undefined. */
export function parseParameterCount(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmMbBtT]?)\s*$/.exec(value.replaceAll(',', '').replaceAll('_', ''));
  if (!match) return undefined;
  const scale = { '': 1, k: 1e3, m: 1e6, b: 1e9, t: 1e12 }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'b' | 't'];
  return Math.round(Number(match[1]) * scale);
}

async function inspectFile(base: Omit<ModelFile, 'format'>, declared: FileFormat, read: RangeRead, limits: ModelInspectLimits): Promise<ModelFile> {
  const first = await read(0, Math.min(base.size, 64 * 1024));
  if (typeof first === 'string') return { ...base, format: declared, problem: first };
  // The bytes decide over the name: a ".bin" may be a pickle, a PyTorch zip or raw tensors.
  let format = declared;
  if (looksLikeZip(first) && (declared === 'pickle' || declared === 'other')) format = 'pytorch-zip';
  else if (declared === 'other' && looksLikePickle(first)) format = 'pickle';
  else if (declared === 'other' && first.subarray(0, 4).toString('latin1') === 'GGUF') format = 'gguf';
  switch (format) {
    case 'safetensors': return { ...base, format, ...await safetensorsFacts(first, base.size, read) };
    case 'gguf': return { ...base, format, ...await ggufFacts(first, base.size, read, limits) };
    case 'pickle': {
      if (!looksLikePickle(first)) return base.path?.endsWith('.bin') ? { ...base, format: 'other' } : { ...base, format, problem: 'not a pickle stream (and not a zip)' };
      const bytes = base.size <= first.length ? first : await read(0, Math.min(base.size, limits.maxPickleBytes));
      if (typeof bytes === 'string') return { ...base, format, problem: bytes };
      const scan = scanPickle(bytes, DEFAULT_PICKLE_LIMITS);
      // A prefix of a longer file that ended mid-stream was cut by the limit, not by the file.
      const cut = !scan.complete && !scan.problem && bytes.length < base.size;
      return { ...base, format, pickle: pickleSummary(scan), ...(scan.problem ? { problem: scan.problem } : cut ? { problem: `pickle longer than the ${limits.maxPickleBytes} bytes scanned` } : {}) };
    }
    case 'pytorch-zip': return { ...base, format, ...await zipPickleFacts(read, base.size, limits) };
    default: return { ...base, format };
  }
}

async function safetensorsFacts(first: Buffer, size: number, read: RangeRead): Promise<Partial<ModelFile>> {
  const span = safetensorsHeaderSpan(first);
  if (!span.ok) return { problem: span.reason };
  const bytes = span.bytes <= first.length ? first : await read(0, span.bytes);
  if (typeof bytes === 'string') return { problem: bytes };
  const parsed = parseSafetensorsHeader(bytes, size, DEFAULT_SAFETENSORS_LIMITS);
  if (!parsed.ok) return { problem: parsed.reason };
  const header = parsed.header;
  return { header: { tensors: header.tensorCount, parameters: header.parameters, dtypes: header.dtypes, ...(header.dominantDtype ? { precision: header.dominantDtype.toLowerCase() } : {}), metadata: header.metadata } };
}

async function ggufFacts(first: Buffer, size: number, read: RangeRead, limits: ModelInspectLimits): Promise<Partial<ModelFile>> {
  let parsed = parseGgufHeader(first, DEFAULT_GGUF_LIMITS);
  // Vocabularies make headers of several MB: read more only when the first bytes did not hold it.
  for (let length = 1024 * 1024; !parsed.ok && parsed.reason.includes('runs past') && size > first.length && length <= limits.maxGgufHeaderBytes; length *= 4) {
    const bytes = await read(0, Math.min(size, length));
    if (typeof bytes === 'string') return { problem: bytes };
    parsed = parseGgufHeader(bytes, DEFAULT_GGUF_LIMITS);
    if (bytes.length >= size) break;
  }
  if (!parsed.ok) return { problem: parsed.reason };
  const header = parsed.header;
  const general = Object.fromEntries(Object.entries(ggufMetadataJson(header.metadata)).filter(([key]) => key.startsWith('general.')));
  return {
    header: {
      version: header.version, tensors: header.tensorCount, ...(header.architecture ? { architecture: header.architecture } : {}),
      ...(header.parameters !== undefined ? { parameters: header.parameters } : {}), ...(header.quantization ? { quantization: header.quantization } : {}),
      ...(header.license ? { license: header.license } : {}), ...(header.tensorTypes ? { tensorTypes: header.tensorTypes } : {}), metadata: general,
    },
  };
}

async function zipPickleFacts(read: RangeRead, size: number, limits: ModelInspectLimits): Promise<Partial<ModelFile>> {
  const listing = await listZip(read, size, DEFAULT_ZIP_LIMITS);
  if (!listing.ok) return { problem: listing.reason, pickle: { imports: [], dangerous: [], complete: false } };
  const pickles = listing.entries.filter((entry) => /(^|\/)[^/]*\.pkl$/.test(entry.name));
  if (pickles.length === 0) return { problem: 'zip without a .pkl entry (not a PyTorch checkpoint)' };
  const imports = new Set<string>(), dangerous = new Set<string>();
  let complete = pickles.length <= limits.maxPicklesPerZip;
  let problem: string | undefined = complete ? undefined : `more than ${limits.maxPicklesPerZip} pickles in the zip`;
  for (const entry of pickles.slice(0, limits.maxPicklesPerZip)) {
    const bytes = await readZipEntry(read, size, entry, { ...DEFAULT_ZIP_LIMITS, maxEntryBytes: limits.maxPickleBytes });
    if (!bytes.ok) { complete = false; problem ??= bytes.reason; continue; }
    const scan = scanPickle(bytes.bytes, DEFAULT_PICKLE_LIMITS);
    for (const item of scan.imports) imports.add(`${item.module}.${item.name}`);
    for (const item of scan.dangerous) dangerous.add(item);
    if (!scan.complete) { complete = false; problem ??= scan.problem ? `${entry.name}: ${scan.problem}` : `${entry.name}: pickle ends before STOP`; }
  }
  return { pickle: { imports: [...imports], dangerous: [...dangerous], complete }, ...(problem ? { problem } : {}) };
}

function pickleSummary(scan: PickleScan): ModelFile['pickle'] {
  return { imports: scan.imports.map((item) => `${item.module}.${item.name}`), dangerous: scan.dangerous, complete: scan.complete };
}

function firstHeader(files: readonly ModelFile[], key: string): string | undefined {
  for (const file of files) if (typeof file.header?.[key] === 'string') return file.header[key] as string;
  return undefined;
}

/** Shards of one format add up; when several formats carry the same model, the largest sum wins. */
function headerParameters(files: readonly ModelFile[]): number | undefined {
  const sums = new Map<string, number>();
  for (const file of files) if (typeof file.header?.['parameters'] === 'number') sums.set(file.format, (sums.get(file.format) ?? 0) + (file.header['parameters'] as number));
  return sums.size ? Math.max(...sums.values()) : undefined;
}

function precisionFromHeaders(files: readonly ModelFile[]): string | undefined {
  const precision = firstHeader(files, 'precision');
  if (precision) return precision;
  const quantization = firstHeader(files, 'quantization');
  return quantization && /^(F16|BF16|F32)$/.test(quantization) ? quantization.toLowerCase() : undefined;
}

/** The SPDX identifier (or well-known model licence name) a licence text opens with. */
export function licenseFromText(text: string): string {
  const head = text.slice(0, 4096).replace(/\s+/g, ' ').toLowerCase();
  const known: [RegExp, string][] = [
    [/apache license,? version 2\.0/, 'Apache-2.0'], [/mit license|permission is hereby granted, free of charge/, 'MIT'],
    [/gnu affero general public license/, 'AGPL-3.0'], [/gnu lesser general public license/, 'LGPL-3.0'], [/gnu general public license/, 'GPL-3.0'],
    [/llama 3\.[0-9]? ?community license|meta llama 3 community license/, 'llama3'], [/llama 2 community license/, 'llama2'],
    [/gemma terms of use/, 'gemma'], [/attribution-noncommercial 4\.0/, 'CC-BY-NC-4.0'], [/attribution 4\.0 international/, 'CC-BY-4.0'],
    [/redistribution and use in source and binary forms/, 'BSD-3-Clause'], [/openrail/, 'OpenRAIL'],
  ];
  for (const [pattern, id] of known) if (pattern.test(head)) return id;
  const spdx = /spdx-license-identifier:\s*([a-z0-9.+-]+)/i.exec(text.slice(0, 4096));
  return spdx ? spdx[1]! : 'LicenseRef-unrecognised';
}
