import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteSupplyChainIndex } from './sqlite-index.ts';
import type { Attachment } from './records.ts';
import { parseOsvRecord } from '../vulns/osv-record.ts';
import { sha256Digest } from '../shared/digest.ts';

const subject = sha256Digest('subject');
const signatureManifest = sha256Digest('signature manifest');
const sbomManifest = sha256Digest('sbom manifest');

function attachment(manifestDigest: string, item: number, kind: Attachment['kind'], extra: Partial<Attachment> = {}): Attachment {
  return { repository: 'team/app', manifestDigest, item, subject, kind, format: kind === 'sbom' ? 'cyclonedx' : 'cosign-simple-signing', via: 'referrer', mediaType: 'x', evidence: { type: 'none' }, detail: {}, ...extra };
}

describe('SQLite supply-chain index', () => {
  let folder: string;
  let index: SqliteSupplyChainIndex;
  before(async () => { folder = await mkdtemp(join(tmpdir(), 'wharf-sc-index-')); index = new SqliteSupplyChainIndex(join(folder, 'supplychain.db')); });
  after(async () => { index.close(); await rm(folder, { recursive: true, force: true }); });

  it('stores attachments, verdicts per trust version, SBOM components and findings', () => {
    index.putAttachments('team/app', signatureManifest, [attachment(signatureManifest, 0, 'signature'), attachment(signatureManifest, 1, 'signature')], new Map());
    index.putAttachments('team/app', sbomManifest, [attachment(sbomManifest, 0, 'sbom', { detail: { sbom: { format: 'cyclonedx', specVersion: '1.6', componentCount: 2 } } })],
      new Map([[0, [{ name: 'express', version: '4.19.2', purl: 'pkg:npm/express@4.19.2', licenses: ['MIT'] }, { name: 'left-pad', purl: 'pkg:npm/left-pad@1.0.0', licenses: [] }]]]));
    const [first] = index.attachmentsOf('team/app', subject);
    index.putVerdict(first!, 'v1', { verified: true, reason: 'ok', signer: 'key:ci' });
    index.putVerdict(first!, 'v2', { verified: false, reason: 'untrusted' });
    assert.equal(index.attachmentsOf('team/app', subject).length, 3);
    assert.equal(index.verdictsOf('team/app', subject, 'v1')[0]?.signer, 'key:ci');
    assert.equal(index.verdictsOf('team/app', subject, 'v2')[0]?.verified, false);
    index.pruneVerdicts('v2');
    assert.deepEqual(index.verdictsOf('team/app', subject, 'v1'), []);
    assert.deepEqual(index.sbomsWithPackages(['npm\u0000express']).map((ref) => ref.manifestDigest), [sbomManifest]);
    assert.deepEqual(index.sbomsWithPackages(['npm\u0000lodash']), []);
    assert.equal(index.sbomComponents(index.allSboms()[0]!).length, 2);
    index.putFindings(index.allSboms()[0]!, [{ purl: 'pkg:npm/express@4.19.2', component: 'express', version: '4.19.2', vulnerabilityId: 'GHSA-x', aliases: [], severity: 'medium' }]);
    assert.equal(index.findingsOf('team/app', subject).length, 1);
  });

  it('deleting an attachment manifest removes only what it carried', () => {
    assert.deepEqual(index.removeManifest('team/app', signatureManifest), [subject]);
    assert.deepEqual(index.attachmentsOf('team/app', subject).map((entry) => entry.kind), ['sbom']);
    assert.equal(index.findingsOf('team/app', subject).length, 1);
  });

  it('deleting the subject removes everything attached to it, components and findings included', () => {
    assert.deepEqual(index.removeManifest('team/app', subject), [subject]);
    assert.deepEqual(index.attachmentsOf('team/app', subject), []);
    assert.deepEqual(index.findingsOf('team/app', subject), []);
    assert.deepEqual(index.allSboms(), []);
    assert.deepEqual(index.sbomsWithPackages(['npm\u0000express']), []);
  });

  it('deleting a cosign tag removes the attachments found through it', () => {
    const tag = `${subject.replace(':', '-')}.sig`;
    index.putAttachments('team/app', signatureManifest, [attachment(signatureManifest, 0, 'signature', { via: 'tag', tag })], new Map());
    assert.deepEqual(index.removeTag('team/app', tag), [subject]);
    assert.deepEqual(index.attachmentsOf('team/app', subject), []);
  });

  it('OSV records round-trip, re-import of an unchanged record is not a change, and the data survives a reopen', () => {
    const parsed = parseOsvRecord({ id: 'GHSA-1', modified: '2024-01-01T00:00:00Z', affected: [{ package: { ecosystem: 'npm', name: 'x' }, versions: ['1.0.0'], ranges: [] }] });
    assert.ok(parsed.ok);
    assert.equal(index.putOsvRecords([parsed.record]), 1);
    assert.equal(index.putOsvRecords([parsed.record]), 0);
    index.putTrust('sha256:abc', '{}', 'api');
    index.close();
    index = new SqliteSupplyChainIndex(join(folder, 'supplychain.db'));
    const [record] = index.osvRecords();
    assert.ok(record?.affected[0]?.versions.has('1.0.0'));
    assert.equal(index.getTrust()?.version, 'sha256:abc');
  });
});
