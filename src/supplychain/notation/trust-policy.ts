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
const STORE_PATTERN = /^(ca|signingAuthority|tsa):([A-Za-z0-9_.-]+)$/;
const REQUIRED_DN_ATTRIBUTES = ['C', 'ST', 'O'];

/** "CN=e2e,O=Notary,C=US" → {CN:"e2e",O:"Notary",C:"US"}; undefined when malformed or repeated. */
export function parseDistinguishedName(text: string): Record<string, string> | undefined {
  const result: Record<string, string> = {};
  for (const part of text.split(/(?<!\\),/)) {
    const match = /^\s*([A-Za-z][A-Za-z0-9.]*)\s*=\s*(.*?)\s*$/.exec(part);
    if (!match || match[2] === '' || result[match[1]!.toUpperCase()] !== undefined) return undefined;
    result[match[1]!.toUpperCase()] = match[2]!.replace(/\\,/g, ',');
  }
  return Object.keys(result).length > 0 ? result : undefined;
}

function parseStatement(value: unknown, index: number): TrustPolicyStatement | string {
  const name = stringField(value, 'name');
  if (!name) return `trust policy statement ${index} has no name`;
  const scopes = arrayField(value, 'registryScopes');
  if (scopes.length === 0 || !scopes.every((scope) => typeof scope === 'string' && scope !== '')) return `trust policy "${name}": registryScopes must be a non-empty list of scopes`;
  if (scopes.includes('*') && scopes.length > 1) return `trust policy "${name}": the wildcard scope "*" cannot be combined with other scopes`;
  const verification = objectField(value, 'signatureVerification');
  const level = stringField(verification, 'level') as VerificationLevel | undefined;
  if (!level || !(level in LEVELS)) return `trust policy "${name}": unknown signatureVerification level "${level}"`;
  const actions = { ...LEVELS[level] };
  const override = objectField(verification, 'override') ?? {};
  for (const [check, action] of Object.entries(override)) {
    if (!OVERRIDABLE.includes(check as VerificationCheck)) return `trust policy "${name}": "${check}" cannot be overridden`;
    if (action !== 'enforce' && action !== 'log' && action !== 'skip') return `trust policy "${name}": override action "${String(action)}" is not enforce, log or skip`;
    if (check === 'authenticity' && action === 'skip') return `trust policy "${name}": authenticity cannot be skipped`;
    if (level === 'skip') return `trust policy "${name}": a skip level cannot have overrides`;
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
    if (typeof store !== 'string' || !STORE_PATTERN.test(store)) return `trust policy "${name}": trust store "${String(store)}" is not <ca|signingAuthority|tsa>:<name>`;
  }
  if (identities.length === 0) return `trust policy "${name}": trustedIdentities is required`;
  if (identities.includes('*') && identities.length > 1) return `trust policy "${name}": the wildcard identity "*" cannot be combined with other identities`;
  const parsedIdentities: ('*' | Record<string, string>)[] = [];
  for (const identity of identities) {
    if (identity === '*') { parsedIdentities.push('*'); continue; }
    const match = typeof identity === 'string' ? /^x509\.subject:\s*(.+)$/.exec(identity) : null;
    const dn = match ? parseDistinguishedName(match[1]!) : undefined;
    if (!dn) return `trust policy "${name}": trusted identity "${String(identity)}" is not "x509.subject: <DN>"`;
    const missing = REQUIRED_DN_ATTRIBUTES.filter((attribute) => dn[attribute] === undefined);
    if (missing.length > 0) return `trust policy "${name}": trusted identity "${identity}" lacks ${missing.join(', ')}`;
    parsedIdentities.push(dn);
  }
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
      if (scopes.has(scope)) return { ok: false, reason: `registry scope "${scope}" appears in more than one trust policy` };
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
