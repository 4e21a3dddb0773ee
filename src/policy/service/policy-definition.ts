/**
 * Checking a policy before it is stored: its shape, its binding, and that its modules compile
 * and define `deny` or `quarantine` under the named package. Every problem is reported with the
 * module's file, row and column where there is one.
 */
import { compile, RegoError } from '../rego/index.ts';
import { formatDetail } from '../rego/errors.ts';
import { ENFORCEMENT_POINTS, type EnforcementPoint, type PolicyBinding, type PolicyDefinition, type PolicyMode } from './policy-store.ts';

export class PolicyDefinitionError extends Error {}

const NAME = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;
const PACKAGE = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const MAX_MODULE_BYTES = 1024 * 1024;

/** Validates an untrusted definition (from the API or the command line). */
export function validatePolicyDefinition(input: unknown): PolicyDefinition {
  const body = object(input, 'policy');
  const name = text(body.name, 'name');
  if (!NAME.test(name)) throw new PolicyDefinitionError(`invalid policy name "${name}": use 1-64 of a-z, 0-9, '.', '_', '-'`);
  const packageName = text(body.package, 'package');
  if (!PACKAGE.test(packageName)) throw new PolicyDefinitionError(`invalid package "${packageName}": a dotted Rego package name`);
  if (!Array.isArray(body.modules) || body.modules.length === 0) throw new PolicyDefinitionError('modules must be a non-empty array of {file, source}');
  const modules = body.modules.map((entry, i) => {
    const module = object(entry, `modules[${i}]`);
    const source = text(module.source, `modules[${i}].source`);
    if (Buffer.byteLength(source) > MAX_MODULE_BYTES) throw new PolicyDefinitionError(`modules[${i}] is larger than ${MAX_MODULE_BYTES} bytes`);
    return { file: text(module.file, `modules[${i}].file`), source };
  });
  const data = body.data === undefined ? {} : object(body.data, 'data');
  const mode = body.mode === undefined ? 'enforce' : body.mode;
  if (mode !== 'enforce' && mode !== 'audit') throw new PolicyDefinitionError('mode must be "enforce" or "audit"');
  const definition: PolicyDefinition = {
    name, package: packageName, modules, data, mode: mode as PolicyMode, binding: binding(body.binding),
    description: body.description === undefined ? undefined : text(body.description, 'description'),
    origin: body.origin === undefined ? undefined : text(body.origin, 'origin'),
  };
  checkCompiles(definition);
  return definition;
}

/** Throws a PolicyDefinitionError listing `file:row:col: message` for every compile error. */
export function checkCompiles(definition: Pick<PolicyDefinition, 'modules' | 'package'>): void {
  let compiled;
  try {
    compiled = compile([...definition.modules]);
  } catch (error) {
    if (error instanceof RegoError) throw new PolicyDefinitionError(error.errors.map(formatDetail).join('\n'));
    throw error;
  }
  const decisionRules = compiled.modules
    .filter((module) => module.packagePath.join('.') === definition.package)
    .flatMap((module) => module.rules)
    .filter((rule) => {
      const name = rule.head.ref[0];
      return name?.kind === 'var' && (name.name === 'deny' || name.name === 'quarantine');
    });
  if (decisionRules.length === 0) {
    throw new PolicyDefinitionError(`package ${definition.package} defines neither deny nor quarantine`);
  }
}

function binding(value: unknown): PolicyBinding {
  const body = value === undefined ? {} : object(value, 'binding');
  const points = body.points === undefined ? ['push'] : strings(body.points, 'binding.points');
  for (const point of points) {
    if (!(ENFORCEMENT_POINTS as readonly string[]).includes(point)) throw new PolicyDefinitionError(`unknown enforcement point "${point}": use push, pull or admission`);
  }
  if (points.length === 0) throw new PolicyDefinitionError('binding.points must name at least one enforcement point');
  return {
    points: points as EnforcementPoint[],
    namespaces: body.namespaces === undefined ? [] : strings(body.namespaces, 'binding.namespaces'),
    repositories: body.repositories === undefined ? [] : strings(body.repositories, 'binding.repositories'),
    artifactTypes: body.artifactTypes === undefined ? [] : strings(body.artifactTypes, 'binding.artifactTypes'),
  };
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new PolicyDefinitionError(`${what} must be an object`);
  return value as Record<string, unknown>;
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw new PolicyDefinitionError(`${what} must be a non-empty string`);
  return value;
}

function strings(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item !== '')) throw new PolicyDefinitionError(`${what} must be an array of non-empty strings`);
  return value;
}
