/**
 * Notary Project trust policies (OCI, version 1.0) as the specification defines them: parsing and
 * validation (a malformed policy is rejected as a whole, like notation does), and choosing the
 * statement that applies to a repository.
 */
import { arrayField, isObject, objectField, parseJson, stringField } from '../shared/json.ts';

export type VerificationCheck = 'integrity' | 'authenticity' | 'authenticTimestamp' | 'expiry' | 'revocation';
export type CheckAction = 'enforce' | 'log' | 'skip';
export type VerificationLevel = 'strict' | 'permissive' | 'audit' | 'skip';

export interface TrustPolicyStatement {
  readonly name: string;
  readonly registryScopes: readonly string[];
  readonly level: VerificationLevel;
  readonly actions: Readonly<Record<VerificationCheck, CheckAction>>;
  readonly trustStores: readonly string[];
  /** ["*"] or parsed x509.subject DNs (attribute → value). */
  readonly trustedIdentities: readonly ('*' | Readonly<Record<string, string>>)[];
}

export interface TrustPolicyDocument {
  readonly version: '1.0';
  readonly statements: readonly TrustPolicyStatement[];
}

export type PolicyParse = { ok: true; policy: TrustPolicyDocument } | { ok: false; reason: string };

const LEVELS: Record<VerificationLevel, Record<VerificationCheck, CheckAction>> = {
  strict: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'enforce', expiry: 'enforce', revocation: 'enforce' },
  permissive: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
  audit: { integrity: 'enforce', authenticity: 'log', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
  skip: { integrity: 'skip', authenticity: 'skip', authenticTimestamp: 'skip', expiry: 'skip', revocation: 'skip' },
};
const OVERRIDABLE: readonly VerificationCheck[] = ['authenticity', 'authenticTimestamp', 'expiry', 'revocation'];
/** Checks an override may set to skip: only revocation (notation-go GetVerificationLevel). */
const SKIPPABLE: readonly VerificationCheck[] = ['revocation'];
const STORE_PATTERN = /^(ca|signingAuthority|tsa):([A-Za-z0-9_.-]+)$/;
const REQUIRED_DN_ATTRIBUTES = ['C', 'ST', 'O'];
// Registry scope = domain/repository, with the expressions notation-go adapts from Distribution's reference grammar.
const SCOPE_DOMAIN = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))+)?(?::[0-9]+)?$/;
const SCOPE_REPOSITORY = /^[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?(?:(?:\/[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?)+)?$/;

/**
 * "CN=e2e,O=Notary,C=US" → {CN:"e2e",O:"Notary",C:"US"} (RFC 4514: `\,` and `\+` escapes);
 * undefined when malformed or an attribute repeats. (Policies refuse multi-valued RDNs before this.)
 */
export function parseDistinguishedName(text: string): Record<string, string> | undefined {
  const result: Record<string, string> = {};
  for (const part of text.split(/(?<!\\),/)) {
    const match = /^\s*([A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+)\s*=\s*(.*?)\s*$/.exec(part);
    if (!match || match[2] === '' || result[match[1]!.toUpperCase()] !== undefined) return undefined;
    result[match[1]!.toUpperCase()] = match[2]!.replace(/\\([,+"\\<>;=# ])/g, '$1');
  }
  return Object.keys(result).length > 0 ? result : undefined;
}

/** Why a registry scope is not `domain/repository` (or "*"), or undefined. */
export function registryScopeProblem(scope: string): string | undefined {
  if (scope === '*') return undefined;
  const hint = 'make it a fully qualified repository without scheme or tag, e.g. registry.example/team/app, or a local scope like local/my-layout';
  if (scope.includes('*')) return `registry scope "${scope}" with wildcard(s) is not valid; ${hint}`;
  const slash = scope.indexOf('/');
  const domain = slash < 0 ? '' : scope.slice(0, slash), repository = slash < 0 ? '' : scope.slice(slash + 1);
  if (!SCOPE_DOMAIN.test(domain) || !SCOPE_REPOSITORY.test(repository)) return `registry scope "${scope}" is not valid; ${hint}`;
  return undefined;
}

/** Does every attribute of `a` appear in `b` with the same value? (notation's IsSubsetDN) */
function isSubsetDn(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  return Object.entries(a).every(([key, value]) => b[key] === value);
}

function parseIdentities(name: string, identities: readonly unknown[]): ('*' | Record<string, string>)[] | string {
  if (identities.length === 0) return `trust policy "${name}": trustedIdentities is required`;
  if (identities.includes('*') && identities.length > 1) return `trust policy "${name}": the wildcard identity "*" cannot be combined with other identities`;
  const parsed: ('*' | Record<string, string>)[] = [];
  const raw: string[] = [];
  for (const identity of identities) {
    if (typeof identity !== 'string') return `trust policy "${name}": trusted identity ${JSON.stringify(identity)} is not a string`;
    if (identity === '') return `trust policy "${name}": empty trusted identity`;
    if (identity === '*') { parsed.push('*'); continue; }
    const colon = identity.indexOf(':');
    if (colon < 0) return `trust policy "${name}": trusted identity "${identity}" is missing the ":" separator (expected "x509.subject: <DN>")`;
    // Other identity types belong to plugins: accepted, as notation does, but never matched here.
    if (identity.slice(0, colon) !== 'x509.subject') continue;
    const value = identity.slice(colon + 1);
    if (value.trim() === '') return `trust policy "${name}": trusted identity "x509.subject:" has no value`;
    if (/(?<!\\)\+/.test(value)) return `trust policy "${name}": trusted identity "${identity}" has a multi-valued RDN, which is not supported`;
    const dn = parseDistinguishedName(value);
    if (!dn) return `trust policy "${name}": trusted identity "${identity}" is not a valid distinguished name (RFC 4514, each attribute once)`;
    const missing = REQUIRED_DN_ATTRIBUTES.filter((attribute) => dn[attribute] === undefined);
    if (missing.length > 0) return `trust policy "${name}": trusted identity "${identity}" lacks ${missing.join(', ')}`;
    const overlap = parsed.findIndex((other) => other !== '*' && (isSubsetDn(other, dn) || isSubsetDn(dn, other)));
    if (overlap >= 0) return `trust policy "${name}": overlapping trusted identities, "${identity}" overlaps with "${raw[overlap]}"`;
    parsed.push(dn);
    raw.push(identity);
  }
  return parsed;
}

function parseStatement(value: unknown, index: number): TrustPolicyStatement | string {
  const name = stringField(value, 'name');
  if (!name) return `trust policy statement ${index} has no name`;
  const scopes = arrayField(value, 'registryScopes');
  if (scopes.length === 0 || !scopes.every((scope) => typeof scope === 'string' && scope !== '')) return `trust policy "${name}": registryScopes must be a non-empty list of scopes`;
  if (scopes.includes('*') && scopes.length > 1) return `trust policy "${name}": the wildcard scope "*" cannot be combined with other scopes`;
  for (const scope of scopes as string[]) {
    const problem = registryScopeProblem(scope);
    if (problem) return `trust policy "${name}": ${problem}`;
  }
  const verification = objectField(value, 'signatureVerification');
  const rawLevel = verification?.['level'];
  if (rawLevel === undefined || rawLevel === '') return `trust policy "${name}": signatureVerification level is missing`;
  const level = rawLevel as VerificationLevel;
  if (typeof rawLevel !== 'string' || !Object.hasOwn(LEVELS, rawLevel)) return `trust policy "${name}": invalid signatureVerification level ${JSON.stringify(rawLevel)} (strict, permissive, audit or skip)`;
  const actions = { ...LEVELS[level] };
  const override = objectField(verification, 'override') ?? {};
  if (level === 'skip' && Object.keys(override).length > 0) return `trust policy "${name}": a skip level cannot have overrides`;
  for (const [check, action] of Object.entries(override)) {
    if (!OVERRIDABLE.includes(check as VerificationCheck)) return `trust policy "${name}": "${check}" cannot be overridden`;
    if (action !== 'enforce' && action !== 'log' && action !== 'skip') return `trust policy "${name}": override action "${String(action)}" is not enforce, log or skip`;
    if (action === 'skip' && !SKIPPABLE.includes(check as VerificationCheck)) return `trust policy "${name}": ${check} cannot be skipped (only revocation can)`;
    actions[check as VerificationCheck] = action;
  }
  const stores = arrayField(value, 'trustStores');
  const identities = arrayField(value, 'trustedIdentities');
  if (level === 'skip') {
    if (stores.length > 0 || identities.length > 0) return `trust policy "${name}": a skip level must not name trust stores or identities`;
    return { name, registryScopes: scopes as string[], level, actions, trustStores: [], trustedIdentities: [] };
  }
  if (stores.length === 0) return `trust policy "${name}": trustStores is required`;
  for (const store of stores) {
    if (typeof store !== 'string' || !STORE_PATTERN.test(store)) return `trust policy "${name}": trust store "${String(store)}" is not <ca|signingAuthority|tsa>:<name> (name of [A-Za-z0-9_.-])`;
  }
  const parsedIdentities = parseIdentities(name, identities);
  if (typeof parsedIdentities === 'string') return parsedIdentities;
  return { name, registryScopes: scopes as string[], level, actions, trustStores: stores as string[], trustedIdentities: parsedIdentities };
}

export function parseTrustPolicy(value: unknown): PolicyParse {
  if (!isObject(value)) return { ok: false, reason: 'trust policy is not a JSON object' };
  if (value['version'] !== '1.0') return { ok: false, reason: `trust policy version "${String(value['version'])}" is not supported (expected "1.0")` };
  const statements: TrustPolicyStatement[] = [];
  const names = new Set<string>();
  const scopes = new Set<string>();
  const rawStatements = arrayField(value, 'trustPolicies');
  if (rawStatements.length === 0) return { ok: false, reason: 'trust policy has no trustPolicies' };
  for (const [index, raw] of rawStatements.entries()) {
    const statement = parseStatement(raw, index);
    if (typeof statement === 'string') return { ok: false, reason: statement };
    if (names.has(statement.name)) return { ok: false, reason: `trust policy name "${statement.name}" is used twice` };
    names.add(statement.name);
    for (const scope of statement.registryScopes) {
      if (scopes.has(scope)) return { ok: false, reason: `registry scope "${scope}" appears in more than one trust policy (or twice in one)` };
      scopes.add(scope);
    }
    statements.push(statement);
  }
  return { ok: true, policy: { version: '1.0', statements } };
}

export function parseTrustPolicyBytes(bytes: Uint8Array | string): PolicyParse {
  const parsed = parseJson(bytes, 1024 * 1024);
  return parsed.ok ? parseTrustPolicy(parsed.value) : { ok: false, reason: `trust policy is ${parsed.reason}` };
}

/**
 * The statement for a repository: an exact scope first ("registry.example/team/app" — the host
 * part is compared only when `registryHost` is known), else the wildcard.
 */
export function selectStatement(policy: TrustPolicyDocument, repository: string, registryHost?: string): TrustPolicyStatement | undefined {
  const exact = policy.statements.find((statement) => statement.registryScopes.some((scope) => {
    const slash = scope.indexOf('/');
    if (slash < 0) return false;
    const host = scope.slice(0, slash);
    return scope.slice(slash + 1) === repository && (registryHost === undefined || host === registryHost);
  }));
  return exact ?? policy.statements.find((statement) => statement.registryScopes.includes('*'));
}
