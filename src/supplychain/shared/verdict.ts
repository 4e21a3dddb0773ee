/**
 * The outcome of checking one signature or attestation. `reason` is always set: on success it
 * says what was established, on failure exactly which check failed, so an operator never has to
 * guess why something is "not verified".
 */
export interface Verdict {
  readonly verified: boolean;
  readonly reason: string;
  /** Who signed: a certificate identity (SAN), a subject DN, or a key fingerprint. */
  readonly signer?: string;
  /** The OIDC issuer of a keyless certificate, when there is one. */
  readonly issuer?: string;
  /** Checks that failed but were configured to be logged only (Notary audit/permissive levels). */
  readonly warnings?: readonly string[];
}

export function verified(reason: string, extra: Omit<Verdict, 'verified' | 'reason'> = {}): Verdict {
  return { verified: true, reason, ...extra };
}

export function rejected(reason: string, extra: Omit<Verdict, 'verified' | 'reason'> = {}): Verdict {
  return { verified: false, reason, ...extra };
}

/** The message of anything thrown, for reasons built from library errors. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
