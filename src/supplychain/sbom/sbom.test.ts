import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readData, sharedDataOptions } from '../testing/shared-data.ts';
import { parseSbomBytes } from './parse-sbom.ts';
import { parsePurl, osvPackage } from './purl.ts';
import { licenseSummary } from './sbom-model.ts';

const options = sharedDataOptions();

/** Expected results from the test data README: format version, component count, purl types. */
const EXPECTED: Record<string, { spec: string; components: number; purlTypes: Record<string, number>; dependencies?: number; subject?: string }> = {
  'cyclonedx/1.4/alpine-latest.syft.cdx.json': { spec: '1.4', components: 15, purlTypes: { alpine: 14 }, dependencies: 0 },
  'cyclonedx/1.4/laravel-7.12.0.cdx.json': { spec: '1.4', components: 62, purlTypes: { composer: 62 }, dependencies: 63, subject: 'cyclonedx-php-composer-demo@dev-master' },
  'cyclonedx/1.4/mongo.syft.cdx.json': { spec: '1.4', components: 293, purlTypes: { deb: 153, golang: 139 }, dependencies: 0 },
  'cyclonedx/1.5/plone-5.2.syft-0.96.0.cdx.json': { spec: '1.5', components: 611, purlTypes: { pypi: 303, deb: 184, npm: 109, nuget: 12 }, dependencies: 166, subject: 'plone@5.2' },
  'cyclonedx/1.5/vuln-spring.cdxgen.cdx.json': { spec: '1.5', components: 88, purlTypes: { maven: 88 }, dependencies: 89, subject: 'vuln-spring@0.0.1-SNAPSHOT' },
  'cyclonedx/1.6/juice-shop-14.1.1.nested.cdx.json': { spec: '1.6', components: 1101, purlTypes: { npm: 1101 }, dependencies: 1102, subject: 'juice-shop@14.1.1' },
  'spdx/2.2/alpine-latest.syft.spdx.json': { spec: 'SPDX-2.2', components: 14, purlTypes: { alpine: 14 }, dependencies: 75, subject: 'alpine-latest' },
  'spdx/2.2/appbomination.spdx.json': { spec: 'SPDX-2.2', components: 7, purlTypes: { maven: 4 }, dependencies: 14 },
  'spdx/2.2/example7-go-bin.spdx.json': { spec: 'SPDX-2.2', components: 1, purlTypes: {}, dependencies: 5 },
  'spdx/2.3/curl.apko.spdx.json': { spec: 'SPDX-2.3', components: 14, purlTypes: { apk: 12, oci: 2 }, dependencies: 68 },
  'spdx/2.3/examplemaven-0.0.1.spdx.json': { spec: 'SPDX-2.3', components: 6, purlTypes: {}, dependencies: 7, subject: 'examplemaven' },
  'spdx/2.3/kubernetes.github-dependency-graph.spdx.json': { spec: 'SPDX-2.3', components: 425, purlTypes: { golang: 424, github: 1 }, dependencies: 424 },
  'spdx/2.3/nginx.bom.spdx.json': { spec: 'SPDX-2.3', components: 1185, purlTypes: { deb: 1128, oci: 9 }, dependencies: 1192 },
};

describe('SBOM normalisation (real CycloneDX and SPDX documents)', options, () => {
  for (const [file, expected] of Object.entries(EXPECTED)) {
    it(`${file}: ${expected.spec}, ${expected.components} components, purl types as stated`, () => {
      const parsed = parseSbomBytes(readData('sbom', ...file.split('/')));
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
      assert.equal(parsed.sbom.specVersion, expected.spec);
      assert.equal(parsed.sbom.components.length, expected.components);
      const types: Record<string, number> = {};
      for (const component of parsed.sbom.components) {
        const purl = component.purl ? parsePurl(component.purl) : undefined;
        if (purl) types[purl.type] = (types[purl.type] ?? 0) + 1;
      }
      // The README lists the main purl types; a stray type with one component may exist beside them.
      for (const [type, count] of Object.entries(expected.purlTypes)) assert.equal(types[type], count, `purl type ${type}`);
      if (Object.keys(expected.purlTypes).length === 0) assert.deepEqual(types, {});
      if (expected.dependencies !== undefined) assert.equal(parsed.sbom.dependencyCount, expected.dependencies);
      if (expected.subject) assert.equal(parsed.sbom.subject, expected.subject);
    });
  }
  it('collects licences (juice-shop is mostly MIT)', () => {
    const parsed = parseSbomBytes(readData('sbom', 'cyclonedx', '1.6', 'juice-shop-14.1.1.nested.cdx.json'));
    assert.ok(parsed.ok);
    assert.equal(licenseSummary(parsed.sbom.components)[0]?.license, 'MIT');
  });
  it('a truncated SBOM is refused with a reason', () => {
    const bytes = readData('sbom', 'cyclonedx', '1.6', 'juice-shop-14.1.1.nested.cdx.json');
    const parsed = parseSbomBytes(bytes.subarray(0, bytes.length / 3));
    assert.equal(parsed.ok, false);
    assert.match(parsed.ok ? '' : parsed.reason, /not valid JSON/);
  });
  it('an SBOM over the byte or component limit is refused, not half-read', () => {
    const bytes = readData('sbom', 'spdx', '2.3', 'nginx.bom.spdx.json');
    const tooBig = parseSbomBytes(bytes, { maxBytes: 1024, maxComponents: 10_000 });
    assert.match(tooBig.ok ? '' : tooBig.reason, /over the limit of 1024/);
    const tooMany = parseSbomBytes(bytes, { maxBytes: 1 << 30, maxComponents: 1000 });
    assert.match(tooMany.ok ? '' : tooMany.reason, /over the limit of 1000 components/);
    const nested = parseSbomBytes(readData('sbom', 'cyclonedx', '1.6', 'juice-shop-14.1.1.nested.cdx.json'), { maxBytes: 1 << 30, maxComponents: 900 });
    assert.match(nested.ok ? '' : nested.reason, /more than the limit of 900/);
  });
});

describe('SBOM edge cases', () => {
  it('deeply nested CycloneDX components do not overflow the stack', () => {
    const depth = 1_500;
    const text = `{"bomFormat":"CycloneDX","specVersion":"1.5","components":[${'{"name":"c","components":['.repeat(depth)}{"name":"leaf"}${']}'.repeat(depth)}]}`;
    // JSON.parse itself handles this depth; the walk must too.
    const parsed = parseSbomBytes(Buffer.from(text));
    assert.ok(parsed.ok);
    assert.equal(parsed.sbom.components.length, 1_501);
  });
  it('unknown formats and versions are named in the reason', () => {
    assert.match((parseSbomBytes(Buffer.from('{"bomFormat":"CycloneDX","specVersion":"9.9"}')) as any).reason, /9\.9/);
    assert.match((parseSbomBytes(Buffer.from('{"hello":1}')) as any).reason, /neither CycloneDX/);
  });
  it('parses purls into OSV package names', () => {
    assert.deepEqual(osvPackage(parsePurl('pkg:npm/%40angular/core@15.0.0')!), { ecosystem: 'npm', name: '@angular/core' });
    assert.deepEqual(osvPackage(parsePurl('pkg:maven/org.springframework/spring-beans@5.2.5.RELEASE?type=jar')!), { ecosystem: 'Maven', name: 'org.springframework:spring-beans' });
    assert.deepEqual(osvPackage(parsePurl('pkg:golang/golang.org/x/crypto@v0.1.0')!), { ecosystem: 'Go', name: 'golang.org/x/crypto' });
    assert.deepEqual(osvPackage(parsePurl('pkg:pypi/Zope.Interface@5.0')!), { ecosystem: 'PyPI', name: 'zope-interface' });
    assert.equal(parsePurl('pkg:deb/debian/libc6@2.36-9?distro=debian-12')?.version, '2.36-9');
    assert.equal(parsePurl('not-a-purl'), undefined);
    assert.deepEqual(osvPackage(parsePurl('pkg:alpine/busybox@1.35.0-r17?distro=alpine-3.16.2')!), { ecosystem: 'Alpine', name: 'busybox' });
    assert.deepEqual(osvPackage(parsePurl('pkg:apk/wolfi/glibc@2.37-r7')!), { ecosystem: 'Wolfi', name: 'glibc' });
    assert.deepEqual(osvPackage(parsePurl('pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1')!), { ecosystem: 'Ubuntu', name: 'openssl' });
  });
  it('purls follow the specification (packageurl-js): per-type normalisation, qualifiers decoded, invalid ones refused', () => {
    assert.deepEqual(osvPackage(parsePurl('pkg:npm/Select2@3.5.4')!), { ecosystem: 'npm', name: 'select2' }, 'npm names are lower-case in purls');
    const qualified = parsePurl('pkg:maven/org.apache/commons-text@1.9?classifier=sources&repository_url=https%3A%2F%2Frepo.example%2Fm2#sub/path');
    assert.deepEqual(qualified?.qualifiers, { classifier: 'sources', repository_url: 'https://repo.example/m2' });
    assert.equal(qualified?.version, '1.9');
    assert.equal(parsePurl('pkg:npm/left-pad')?.version, undefined);
    for (const invalid of ['pkg:', 'pkg:npm', 'pkg:npm/', 'pkg:/left-pad@1.0', 'pkg:maven/only-a-name@1.0', `pkg:npm/${'a'.repeat(5000)}@1`, 'pkg:npm/a@1?bad%ZZqualifier=1']) {
      assert.equal(parsePurl(invalid), undefined, invalid);
    }
  });
});
