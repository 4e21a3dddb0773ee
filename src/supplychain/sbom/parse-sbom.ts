/** Recognises an SBOM document (CycloneDX or SPDX JSON) and normalises it, within limits. */
import { isObject, parseJson } from '../shared/json.ts';
import { parseCycloneDx } from './cyclonedx.ts';
import { parseSpdx } from './spdx.ts';
import { DEFAULT_SBOM_LIMITS, type SbomLimits, type SbomParse } from './sbom-model.ts';

/** From an already-parsed value (e.g. an attestation predicate). */
export function normaliseSbom(document: unknown, limits: SbomLimits = DEFAULT_SBOM_LIMITS): SbomParse {
  if (!isObject(document)) return { ok: false, reason: 'SBOM is not a JSON object' };
  if (document['bomFormat'] === 'CycloneDX') return parseCycloneDx(document, limits);
  if (typeof document['spdxVersion'] === 'string') return parseSpdx(document, limits);
  return { ok: false, reason: 'document is neither CycloneDX (bomFormat) nor SPDX (spdxVersion) JSON' };
}

export function parseSbomBytes(bytes: Uint8Array, limits: SbomLimits = DEFAULT_SBOM_LIMITS): SbomParse {
  const parsed = parseJson(bytes, limits.maxBytes);
  if (!parsed.ok) return { ok: false, reason: `SBOM ${parsed.reason.startsWith('document is') ? parsed.reason.replace('document ', '') : `is ${parsed.reason}`}` };
  return normaliseSbom(parsed.value, limits);
}
