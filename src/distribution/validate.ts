/** Request-parameter checks shared by the handlers, each failing with the spec's error code. */
import { digestProblem, parseDigest, type ParsedDigest } from '../content/digest.ts';
import { repositoryNameProblem } from '../content/names.ts';
import { registryError } from './errors.ts';

export function requireRepositoryName(name: string): string {
  const problem = repositoryNameProblem(name);
  if (problem) throw registryError('NAME_INVALID', { message: problem, detail: { name } });
  return name;
}

export function requireDigest(text: string | null): ParsedDigest {
  const digest = text === null ? undefined : parseDigest(text);
  if (digest) return digest;
  throw invalidDigest(text);
}

export function invalidDigest(text: string | null) {
  const unsupported = text !== null && digestProblem(text) === 'unsupported';
  return registryError('DIGEST_INVALID', {
    message: unsupported ? 'unsupported digest algorithm: use sha256 or sha512' : 'invalid digest',
    detail: { digest: text },
  });
}
