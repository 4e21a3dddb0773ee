/**
 * Repository names and manifest references, with the grammar of the OCI Distribution spec.
 * Pure functions: the HTTP layer maps a rejection to NAME_INVALID or MANIFEST_INVALID.
 */
import { digestProblem, parseDigest, type ParsedDigest } from './digest.ts';

/** Longest repository name accepted: the spec's 255-character limit for `<host>/<name>`. */
export const MAX_NAME_LENGTH = 255;

const NAME_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_PATTERN = new RegExp(`^${NAME_COMPONENT}(?:/${NAME_COMPONENT})*$`);
const TAG_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** Returns the reason a repository name is invalid, or undefined when it is valid. */
export function repositoryNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'repository name is empty';
  if (name.length > MAX_NAME_LENGTH) return `repository name is longer than ${MAX_NAME_LENGTH} characters`;
  if (!NAME_PATTERN.test(name)) {
    return 'repository name must be lower-case path components of [a-z0-9] joined by ".", "_", "__" or "-", separated by single "/"';
  }
  return undefined;
}

export function isValidTag(tag: string): boolean {
  return TAG_PATTERN.test(tag);
}

export type Reference =
  | { readonly kind: 'tag'; readonly tag: string }
  | { readonly kind: 'digest'; readonly digest: ParsedDigest };

export type ReferenceParse =
  | { readonly ok: true; readonly reference: Reference }
  | { readonly ok: false; readonly reason: 'tag' | 'digest' | 'unsupported-digest' };

/** A manifest reference is a digest when it contains a colon, otherwise a tag. */
export function parseReference(text: string): ReferenceParse {
  if (text.includes(':')) {
    const digest = parseDigest(text);
    if (digest) return { ok: true, reference: { kind: 'digest', digest } };
    return { ok: false, reason: digestProblem(text) === 'unsupported' ? 'unsupported-digest' : 'digest' };
  }
  if (isValidTag(text)) return { ok: true, reference: { kind: 'tag', tag: text } };
  return { ok: false, reason: 'tag' };
}
