import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { readData, readDataJson, sharedDataOptions } from '../testing/shared-data.ts';
import { parseEnvelopeBytes, preAuthEncoding, verifyEnvelopeWithKeys, verifyWithEmbeddedCertificate } from './dsse.ts';
import { parseStatement, parseStatementBytes, statementSubjectDigests } from './statement.ts';

const options = sharedDataOptions();

describe('DSSE and in-toto statements (slsa-verifier / slsa-github-generator data)', options, () => {
  it('slsa-github-generator v1.2.1 envelope: signature verifies with the embedded certificate; statement v0.1 + SLSA v0.2', () => {
    const parsed = parseEnvelopeBytes(readData('intoto', 'slsa-v0.2', 'dsse-with-cert', 'binary-linux-amd64-workflow_dispatch.intoto.jsonl'));
    assert.ok(parsed.ok);
    const embedded = verifyWithEmbeddedCertificate(parsed.envelope);
    assert.equal(embedded.signatureValid, true, embedded.reason);
    const statement = parseStatementBytes(parsed.envelope.payload);
    assert.ok(statement.ok);
    assert.equal(statement.statement.statementType, 'https://in-toto.io/Statement/v0.1');
    assert.equal(statement.statement.predicateType, 'https://slsa.dev/provenance/v0.2');
    assert.equal(statement.statement.provenance?.slsaVersion, '0.2');
    assert.match(statement.statement.provenance?.builderId ?? '', /slsa-github-generator/);
    assert.ok(statementSubjectDigests(JSON.parse(parsed.envelope.payload.toString())).includes('sha256:ec8ff1bb40da2a36e3e9113dd7a5dd452c5125f7013e849519c0754b3c9fda89'));
  });
  it('a tampered DSSE payload no longer matches its certificate', () => {
    const json = readDataJson('intoto', 'slsa-v0.2', 'dsse-with-cert', 'binary-linux-amd64-workflow_dispatch.intoto.jsonl');
    const payload = Buffer.from(json.payload, 'base64').toString().replace('ec8ff1bb', 'ec8ff1bc');
    const parsed = parseEnvelopeBytes(Buffer.from(JSON.stringify({ ...json, payload: Buffer.from(payload).toString('base64') })));
    assert.ok(parsed.ok);
    assert.equal(verifyWithEmbeddedCertificate(parsed.envelope).signatureValid, false);
  });
  it('docker-builder statement: SLSA v1.0 predicate type with ".0"', () => {
    const statement = parseStatement(readDataJson('intoto', 'statements', 'docker-builder.slsa-v1.0.statement.json'));
    assert.ok(statement.ok);
    assert.equal(statement.statement.predicateType, 'https://slsa.dev/provenance/v1.0');
    assert.equal(statement.statement.provenance?.slsaVersion, '1');
    assert.ok(statement.statement.subjects[0]!.digests['sha256']!.startsWith('975a0582'));
  });
  it('kubectl statement: v0.1, SLSA v0.2, many subjects', () => {
    const statement = parseStatement(readDataJson('intoto', 'statements', 'kubectl-linux-amd64.slsa-v0.2.statement.json'));
    assert.ok(statement.ok);
    assert.equal(statement.statement.predicateType, 'https://slsa.dev/provenance/v0.2');
    assert.ok(statement.statement.subjects.length > 1);
  });
  it('npm sigstore@1.3.0 statement: subject by sha512', () => {
    const statement = parseStatement(readDataJson('intoto', 'statements', 'npm-sigstore-1.3.0.slsa-v0.2.statement.json'));
    assert.ok(statement.ok);
    assert.equal(statement.statement.subjects[0]!.name, 'pkg:npm/sigstore@1.3.0');
    assert.ok(statement.statement.subjects[0]!.digests['sha512']!.startsWith('76176ffa'));
    assert.ok(statement.statement.provenance?.sourceRepository);
  });
  it('bare predicates are not statements', () => {
    assert.equal(parseStatement(readDataJson('intoto', 'predicates', 'slsa_predicate_v1_0.json')).ok, false);
    assert.ok(readDataJson('intoto', 'predicates', 'slsa_predicate_v1_0.json').buildDefinition);
    assert.ok(readDataJson('intoto', 'predicates', 'slsa_predicate_v0_2.json').builder);
  });
});

describe('DSSE with keys', () => {
  it('PAE follows the DSSE v1 specification', () => {
    assert.equal(preAuthEncoding('http://example.com/HelloWorld', Buffer.from('hello world')).toString(), 'DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });
  it('verifies with the right key only', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const other = generateKeyPairSync('ed25519').publicKey;
    const payload = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'x', digest: { sha256: 'ab' } }], predicateType: 'p', predicate: {} }));
    const sig = sign('sha256', preAuthEncoding('application/vnd.in-toto+json', payload), privateKey);
    const parsed = parseEnvelopeBytes(Buffer.from(JSON.stringify({ payloadType: 'application/vnd.in-toto+json', payload: payload.toString('base64'), signatures: [{ sig: sig.toString('base64') }] })));
    assert.ok(parsed.ok);
    assert.equal(verifyEnvelopeWithKeys(parsed.envelope, [{ name: 'k', key: publicKey }]).verified, true);
    assert.equal(verifyEnvelopeWithKeys(parsed.envelope, [{ name: 'o', key: other }]).verified, false);
  });
  it('malformed envelopes give reasons', () => {
    for (const text of ['nope', '{}', '{"payloadType":"x"}', '{"payloadType":"x","payload":"YQ==","signatures":[]}', '{"payloadType":"x","payload":"YQ==","signatures":[{"sig":""}]}']) {
      const parsed = parseEnvelopeBytes(Buffer.from(text));
      assert.equal(parsed.ok, false, text);
    }
  });
});
