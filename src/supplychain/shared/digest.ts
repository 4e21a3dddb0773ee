import { createHash } from 'node:crypto';

const DIGEST_PATTERN = /^(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$/;

export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST_PATTERN.test(value);
}

/** cosign's tag for things attached to `digest`: sha256:abc… → sha256-abc….sig */
export function cosignTag(digest: string, suffix: 'sig' | 'att' | 'sbom'): string {
  return `${digest.replace(':', '-')}.${suffix}`;
}

/** The subject digest named by a cosign tag, or undefined when the tag is not one. */
export function parseCosignTag(tag: string): { subject: string; kind: 'sig' | 'att' | 'sbom' } | undefined {
  const match = /^(sha256|sha512)-([a-f0-9]{64}|[a-f0-9]{128})\.(sig|att|sbom)$/.exec(tag);
  if (!match) return undefined;
  const subject = `${match[1]}:${match[2]}`;
  return isDigest(subject) ? { subject, kind: match[3] as 'sig' | 'att' | 'sbom' } : undefined;
}
