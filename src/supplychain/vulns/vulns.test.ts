import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataPath, readData, readDataJson, sharedDataOptions } from '../testing/shared-data.ts';
import { loadOsvRecords, parseJsonLines } from './osv-import.ts';
import { VulnDatabase } from './vuln-database.ts';
import { parseSbomBytes } from '../sbom/parse-sbom.ts';
import { parseOsvRecord } from './osv-record.ts';
import { severityOf, cvssBaseScore } from './severity.ts';
import { isAffected } from './range-match.ts';
import { compareAlpine } from './versions/alpine.ts';

const options = sharedDataOptions();

describe('OSV matching against the reference results (EXPECTED-MATCHES.json)', options, async () => {
  const loaded = options.skip ? { records: [], problems: [] } : await loadOsvRecords(dataPath('osv'));
  const database = new VulnDatabase();
  for (const record of loaded.records) database.upsert(record);
  const withdrawn = new Set(loaded.records.filter((record) => record.withdrawn).map((record) => record.id));

  it('loads every record of the folder (JSONL, GHSA JSON, examples incl. YAML); only the two non-record files are reported', () => {
    assert.ok(loaded.records.length >= 7850, `${loaded.records.length} records`);
    assert.deepEqual(loaded.problems.map((problem) => problem.source.split('/').pop()).sort(), ['EXPECTED-MATCHES.json', 'osv-schema.json']);
    assert.ok(loaded.records.some((record) => record.id === 'PYSEC-2023-74'));
  });

  const expected = options.skip ? {} : readDataJson('osv', 'EXPECTED-MATCHES.json') as Record<string, Record<string, { id: string }[]>>;
  for (const [file, matches] of Object.entries(expected)) {
    it(`${file}: exactly the expected affected purls and ids (withdrawn records never match)`, () => {
      const sbom = parseSbomBytes(readData(...file.split('/')));
      assert.ok(sbom.ok);
      const got: Record<string, string[]> = {};
      for (const finding of database.match(sbom.sbom.components)) (got[finding.purl] ??= []).push(finding.vulnerabilityId);
      const want: Record<string, string[]> = {};
      for (const [purl, ids] of Object.entries(matches)) {
        // The reference evaluator ignored `withdrawn`; a withdrawn advisory is retracted, so Wharf reports nothing for it.
        const live = ids.map((entry) => entry.id).filter((id) => !withdrawn.has(id));
        if (live.length > 0) want[purl] = live.sort();
      }
      for (const ids of Object.values(got)) ids.sort();
      assert.deepEqual(got, want);
    });
  }
  it('known true positives and negatives of the README', () => {
    const find = (file: string, purl: string) => {
      const sbom = parseSbomBytes(readData('sbom', ...file.split('/')));
      assert.ok(sbom.ok);
      return database.match(sbom.sbom.components).filter((finding) => finding.purl === purl).map((finding) => finding.vulnerabilityId);
    };
    assert.ok(find('spdx/2.3/kubernetes.github-dependency-graph.spdx.json', 'pkg:golang/github.com/opencontainers/runc@1.1.10').includes('GO-2024-2491'));
    assert.ok(find('cyclonedx/1.5/plone-5.2.syft-0.96.0.cdx.json', 'pkg:pypi/requests@2.28.1').includes('PYSEC-2023-74'));
    assert.ok(find('cyclonedx/1.5/vuln-spring.cdxgen.cdx.json', 'pkg:maven/org.springframework/spring-beans@5.2.5.RELEASE?type=jar').includes('GHSA-36p3-wjmg-h94x'));
    assert.ok(find('cyclonedx/1.6/juice-shop-14.1.1.nested.cdx.json', 'pkg:npm/express@4.19.2').includes('GHSA-qw6h-vgh9-j6wx'));
    assert.deepEqual(find('cyclonedx/1.6/juice-shop-14.1.1.nested.cdx.json', 'pkg:npm/lodash@4.17.21'), []);
  });
  it('withdrawn records in the expected file are exactly the two known ones', () => {
    const mentioned = new Set(Object.values(expected).flatMap((matches) => Object.values(matches).flat().map((entry) => entry.id)));
    assert.deepEqual([...mentioned].filter((id) => withdrawn.has(id)).sort(), ['GO-2025-3543', 'GO-2026-4923']);
  });
  it('severity: GHSA CVSS vectors scored, PYSEC without vectors unknown or labelled', () => {
    const spring = database.get('GHSA-36p3-wjmg-h94x')!;
    assert.equal(severityOf(spring).level, 'critical');
    assert.equal(severityOf(spring).source, 'CVSS_V3');
  });
});

describe('OSV import formats', () => {
  const record = (id: string, fixed: string) => ({ id, modified: '2024-01-01T00:00:00Z', affected: [{ package: { ecosystem: 'npm', name: 'left-pad' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed }] }] }] });
  it('reads a zip of JSON files and a JSONL file; re-import replaces a record in place', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'wharf-osv-'));
    try {
      await writeFile(join(folder, 'db.zip'), zipOf({ 'a/X-1.json': JSON.stringify(record('X-1', '1.0.0')), 'X-2.json': JSON.stringify(record('X-2', '2.0.0')) }));
      const fromZip = await loadOsvRecords(join(folder, 'db.zip'));
      assert.deepEqual(fromZip.records.map((entry) => entry.id).sort(), ['X-1', 'X-2']);
      const database = new VulnDatabase();
      fromZip.records.forEach((entry) => database.upsert(entry));
      const component = [{ name: 'left-pad', purl: 'pkg:npm/left-pad@1.5.0', licenses: [] }];
      assert.deepEqual(database.match(component).map((finding) => finding.vulnerabilityId), ['X-2']);
      const updated = parseJsonLines(`${JSON.stringify(record('X-2', '1.2.0'))}\n\nnot json\n`, 'update.jsonl');
      assert.equal(updated.problems.length, 1);
      updated.records.forEach((entry) => database.upsert(entry));
      assert.equal(database.size, 2);
      assert.deepEqual(database.match(component), []);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});

describe('OSV range semantics per ecosystem', () => {
  const affected = (ecosystem: string, events: object[], versions: string[] = [], type = 'ECOSYSTEM') => {
    const parsed = parseOsvRecord({ id: 'T-1', modified: 'x', affected: [{ package: { ecosystem, name: 'p' }, ranges: [{ type, events }], versions }] });
    assert.ok(parsed.ok);
    return parsed.record.affected[0]!;
  };
  it('npm semver with prereleases; last_affected is inclusive', () => {
    const entry = affected('npm', [{ introduced: '1.0.0-beta.1' }, { last_affected: '1.4.2' }]);
    assert.equal(isAffected(entry, '1.0.0-alpha'), false);
    assert.equal(isAffected(entry, '1.0.0-beta.2'), true);
    assert.equal(isAffected(entry, '1.4.2'), true);
    assert.equal(isAffected(entry, '1.4.3'), false);
  });
  it('PyPI PEP 440 ordering (dev < a < rc < final < post)', () => {
    const entry = affected('PyPI', [{ introduced: '2.0a1' }, { fixed: '2.0.post1' }]);
    assert.equal(isAffected(entry, '2.0.dev3'), false);
    assert.equal(isAffected(entry, '2.0rc1'), true);
    assert.equal(isAffected(entry, '2.0'), true);
    assert.equal(isAffected(entry, '2.0.0'), true);
    assert.equal(isAffected(entry, '2.0.post1'), false);
  });
  it('Maven ordering (alpha < rc < snapshot < release < sp; RELEASE/Final qualifiers)', () => {
    const entry = affected('Maven', [{ introduced: '5.2.0.RC1' }, { fixed: '5.2.20.RELEASE' }]);
    assert.equal(isAffected(entry, '5.2.0.M2'), false);
    assert.equal(isAffected(entry, '5.2.5.RELEASE'), true);
    assert.equal(isAffected(entry, '5.2.20'), false);
    assert.equal(isAffected(entry, '5.2.20-SNAPSHOT'), true);
    assert.equal(isAffected(entry, '5.2.20.sp1'), false);
  });
  it('Debian dpkg ordering with epochs and tildes', () => {
    const entry = affected('Debian:12', [{ introduced: '0' }, { fixed: '1:2.36-9+deb12u4' }]);
    assert.equal(isAffected(entry, '1:2.36-9+deb12u3'), true);
    assert.equal(isAffected(entry, '1:2.36-9+deb12u4'), false);
    assert.equal(isAffected(entry, '2.40-1'), true); // no epoch = epoch 0
    assert.equal(isAffected(entry, '1:2.36~rc1-1'), true);
  });
  it('Go: purl "v" prefix and pseudo-versions; crates.io several intervals', () => {
    assert.equal(isAffected(affected('Go', [{ introduced: '0' }, { fixed: '0.17.0' }], [], 'SEMVER'), 'v0.0.0-20220622213112-05595931fe9d'), true);
    const crates = affected('crates.io', [{ introduced: '0.1.0' }, { fixed: '1.8.4' }, { introduced: '1.9.0' }, { fixed: '1.13.1' }], [], 'SEMVER');
    assert.equal(isAffected(crates, '1.8.5'), false);
    assert.equal(isAffected(crates, '1.10.0'), true);
  });
  it('explicit version lists; GIT ranges never match by version; garbage versions never match', () => {
    assert.equal(isAffected(affected('PyPI', [], ['1.2.3']), '1.2.3'), true);
    assert.equal(isAffected(affected('PyPI', [{ introduced: '0' }, { fixed: 'abc123' }], [], 'GIT'), '1.0'), false);
    assert.equal(isAffected(affected('npm', [{ introduced: '0' }]), 'not a version!'), false);
  });
  it('Debian records apply per release: a Debian:11 fix does not judge a bookworm package', () => {
    const database = new VulnDatabase();
    for (const [id, ecosystem, fixed] of [['DSA-1', 'Debian:11', '1.2-1+deb11u1'], ['DSA-2', 'Debian:12', '1.2-3']] as const) {
      const parsed = parseOsvRecord({ id, modified: 'x', affected: [{ package: { ecosystem, name: 'libfoo' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] }] });
      assert.ok(parsed.ok);
      database.upsert(parsed.record);
    }
    const ids = (purl: string) => database.match([{ name: 'libfoo', purl, licenses: [] }]).map((finding) => finding.vulnerabilityId).sort();
    assert.deepEqual(ids('pkg:deb/debian/libfoo@1.2-2?distro=debian-12'), ['DSA-2']);
    assert.deepEqual(ids('pkg:deb/debian/libfoo@1.2-2?distro=bullseye'), []);
    assert.deepEqual(ids('pkg:deb/debian/libfoo@1.2-1?distro=debian-11.6'), ['DSA-1']);
  });
  it('Alpine records apply per branch (Alpine:v3.18 vs distro=alpine-3.18.4)', () => {
    const database = new VulnDatabase();
    const parsed = parseOsvRecord({ id: 'ALPINE-1', modified: 'x', affected: [{ package: { ecosystem: 'Alpine:v3.18', name: 'busybox' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.36.1-r5' }] }] }] });
    assert.ok(parsed.ok);
    database.upsert(parsed.record);
    const ids = (purl: string) => database.match([{ name: 'busybox', purl, licenses: [] }]).map((finding) => finding.vulnerabilityId);
    assert.deepEqual(ids('pkg:apk/alpine/busybox@1.36.1-r2?arch=x86_64&distro=alpine-3.18.4'), ['ALPINE-1']);
    assert.deepEqual(ids('pkg:apk/alpine/busybox@1.36.1-r15?distro=alpine-3.18.4'), []);
    assert.deepEqual(ids('pkg:apk/alpine/busybox@1.36.1-r2?distro=alpine-3.19.1'), []);
    assert.ok((compareAlpine('1.2_rc1', '1.2') ?? 0) < 0 && (compareAlpine('1.2_p1', '1.2') ?? 0) > 0 && (compareAlpine('1.2a', '1.2') ?? 0) > 0);
  });
  it('CVSS v3 and v4 base scores', () => {
    assert.equal(cvssBaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'), 9.8);
    assert.equal(cvssBaseScore('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N'), 9.3);
    assert.equal(cvssBaseScore('garbage'), undefined);
  });
});

/** A minimal deflate ZIP writer for the import test (independent of the reader under test). */
function zipOf(files: Record<string, string>): Buffer {
  const locals: Buffer[] = [], centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text), compressed = deflateRawSync(data), nameBytes = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(8, 8);
    local.writeUInt32LE(compressed.length, 18); local.writeUInt32LE(data.length, 22); local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6); central.writeUInt16LE(8, 10);
    central.writeUInt32LE(compressed.length, 20); central.writeUInt32LE(data.length, 24); central.writeUInt16LE(nameBytes.length, 28); central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, compressed);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(Object.keys(files).length, 8); end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(directory.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
