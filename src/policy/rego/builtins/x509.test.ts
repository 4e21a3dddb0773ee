import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { RObject, type Value } from '../value.ts';
import type { BuiltinContext } from './types.ts';
import { builtins } from './x509.ts';
import { SHARED_DIR, sharedSkip } from '../../../../test/support/shared.ts';

const table = new Map(builtins.map((b) => [b.name, b]));
const ctx: BuiltinContext = { nowNs: 1_700_000_000_000_000_000n, cache: new Map(), strict: true };
const call = (name: string, ...args: Value[]): Value => table.get(name)!.fn(args, ctx)!;

// Certificates come from OPA's compliance data, read in place from ../shared.
const shared = join(SHARED_DIR, 'opa-compliance', 'v1') + '/';
const skip = sharedSkip(shared);

/** The module source of the first case of a compliance file. */
function caseText(file: string): string {
  const doc = parse(readFileSync(shared + file, 'utf8'), { version: '1.1' }) as { cases: { modules: string[] }[] };
  return doc.cases[0]!.modules.join('\n');
}

test('parse_certificates reads a PEM chain into Go x509.Certificate fields', { skip }, () => {
  const text = caseText('cryptox509parseandverifycertificates/test-cryptox509parseandverifycertificates.yaml');
  const pem = /certs := `([^`]*)`/.exec(text)![1]!;
  const certs = call('crypto.x509.parse_certificates', pem) as RObject[];
  const names = certs.map((c) => (c.get('Subject') as RObject).get('CommonName'));
  assert.deepEqual(names, ['OPA Test Root CA', 'OPA Test Intermediate CA', 'notarealsite.opa.localhost']);
  assert.deepEqual(certs[2]!.get('DNSNames'), ['notarealsite.opa.localhost']);
  assert.equal(certs[0]!.get('IsCA'), true);
  assert.equal(certs[2]!.get('URIStrings'), null);
  const [valid, chain] = call('crypto.x509.parse_and_verify_certificates', pem) as [boolean, RObject[]];
  assert.equal(valid, true);
  assert.equal((chain[0]!.get('Subject') as RObject).get('CommonName'), 'notarealsite.opa.localhost');
  // Without the intermediate the leaf does not chain to the root.
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----/g)!;
  assert.deepEqual(call('crypto.x509.parse_and_verify_certificates', `${blocks[0]}\n${blocks[2]}`), [false, []]);
});

test('malformed input fails with Go messages', () => {
  assert.throws(() => call('crypto.x509.parse_certificates', 'YmFkc3RyaW5n'), /x509: malformed certificate/);
  assert.throws(() => call('crypto.x509.parse_certificates', 'foobar'), /illegal base64 data at input byte 4/);
  assert.throws(() => call('crypto.x509.parse_certificate_request', 'YmFkc3RyaW5n'), /asn1: structure error/);
  assert.throws(() => call('crypto.x509.parse_rsa_private_key', 'invalid'), /illegal base64/);
});
