/**
 * in-toto Statements (v0.1 `https://in-toto.io/Statement/v0.1` and v1 `…/v1`) and a summary of
 * the predicates a registry cares about: SLSA provenance v0.2 and v1 (builder, build type,
 * source repository), SBOM predicates, vulnerability scans, cosign's own sign predicate.
 */
import { arrayField, isObject, objectField, parseJson, stringField } from '../shared/json.ts';

export const STATEMENT_TYPES = ['https://in-toto.io/Statement/v0.1', 'https://in-toto.io/Statement/v1'];
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

export interface StatementSubject {
  readonly name?: string;
  readonly digests: Readonly<Record<string, string>>;
}

export interface StatementSummary {
  readonly statementType: string;
  readonly predicateType: string;
  readonly subjects: readonly StatementSubject[];
  readonly predicate: unknown;
  /** For SLSA provenance: who built it, how, and from which source. */
  readonly provenance?: ProvenanceSummary;
}

export interface ProvenanceSummary {
  readonly slsaVersion: '0.2' | '1';
  readonly builderId?: string;
  readonly buildType?: string;
  readonly sourceRepository?: string;
  readonly sourceRevision?: string;
}

export type StatementParse = { ok: true; statement: StatementSummary } | { ok: false; reason: string };

export function parseStatement(value: unknown): StatementParse {
  if (!isObject(value)) return { ok: false, reason: 'in-toto statement is not a JSON object' };
  const statementType = stringField(value, '_type');
  if (!statementType || !STATEMENT_TYPES.includes(statementType)) return { ok: false, reason: `unknown in-toto statement _type "${statementType}"` };
  const predicateType = stringField(value, 'predicateType');
  if (!predicateType) return { ok: false, reason: 'in-toto statement has no predicateType' };
  const subjects: StatementSubject[] = [];
  for (const entry of arrayField(value, 'subject')) {
    const digest = objectField(entry, 'digest') ?? {};
    const digests: Record<string, string> = {};
    for (const [algorithm, hex] of Object.entries(digest)) if (typeof hex === 'string') digests[algorithm] = hex.toLowerCase();
    subjects.push({ name: stringField(entry, 'name'), digests });
  }
  if (subjects.length === 0) return { ok: false, reason: 'in-toto statement has no subject' };
  const predicate = value['predicate'];
  return { ok: true, statement: { statementType, predicateType, subjects, predicate, provenance: summariseProvenance(predicateType, predicate) } };
}

export function parseStatementBytes(bytes: Uint8Array, maxBytes = 16 * 1024 * 1024): StatementParse {
  const parsed = parseJson(bytes, maxBytes);
  return parsed.ok ? parseStatement(parsed.value) : { ok: false, reason: `in-toto statement is ${parsed.reason}` };
}

/** Every "algorithm:hex" digest the statement's subjects name (used to tie it to a subject). */
export function statementSubjectDigests(value: unknown): string[] {
  const parsed = parseStatement(value);
  if (!parsed.ok) return [];
  return parsed.statement.subjects.flatMap((subject) => Object.entries(subject.digests).map(([algorithm, hex]) => `${algorithm}:${hex}`));
}

export function isSlsaProvenance(predicateType: string): boolean {
  return /^https:\/\/slsa\.dev\/provenance\/v(0\.[12]|1(\.0)?)$/.test(predicateType);
}

function summariseProvenance(predicateType: string, predicate: unknown): ProvenanceSummary | undefined {
  if (!isSlsaProvenance(predicateType) || !isObject(predicate)) return undefined;
  if (predicateType.includes('/v0.')) {
    const material = arrayField(predicate, 'materials')[0];
    const configSource = objectField(objectField(predicate, 'invocation'), 'configSource');
    return {
      slsaVersion: '0.2',
      builderId: stringField(objectField(predicate, 'builder'), 'id'),
      buildType: stringField(predicate, 'buildType'),
      sourceRepository: stringField(configSource, 'uri') ?? stringField(material, 'uri'),
      sourceRevision: stringField(objectField(configSource, 'digest'), 'sha1') ?? stringField(objectField(material, 'digest'), 'sha1'),
    };
  }
  const definition = objectField(predicate, 'buildDefinition');
  const dependency = arrayField(definition, 'resolvedDependencies')[0];
  const workflow = objectField(objectField(definition, 'externalParameters'), 'workflow');
  return {
    slsaVersion: '1',
    builderId: stringField(objectField(objectField(predicate, 'runDetails'), 'builder'), 'id'),
    buildType: stringField(definition, 'buildType'),
    sourceRepository: stringField(workflow, 'repository') ?? stringField(dependency, 'uri'),
    sourceRevision: stringField(objectField(dependency, 'digest'), 'gitCommit') ?? stringField(objectField(dependency, 'digest'), 'sha1'),
  };
}
