import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareSemver } from './semver.ts';
import { comparePep440 } from './pep440.ts';
import { compareMaven } from './maven.ts';
import { compareDebian } from './debian.ts';
import { compareAlpine } from './alpine.ts';
import type { VersionComparator } from './ecosystem.ts';
import { BoundedCache } from './bounded-cache.ts';

const number = fc.integer({ min: 0, max: 30 }).map(String);
const release = fc.array(number, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('.'));
const generators: Record<string, [VersionComparator, fc.Arbitrary<string>]> = {
  semver: [compareSemver, fc.tuple(fc.array(number, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('.')), fc.option(fc.constantFrom('alpha', 'beta.1', 'rc.2', '1'))).map(([r, pre]) => (pre ? `${r}-${pre}` : r))],
  pep440: [comparePep440, fc.tuple(release, fc.option(fc.constantFrom('a1', 'b2', 'rc1', '.post1', '.dev3', 'rc1.post2.dev1', '+local.7'))).map(([r, s]) => `${r}${s ?? ''}`)],
  maven: [compareMaven, fc.tuple(release, fc.option(fc.constantFrom('-SNAPSHOT', '.RELEASE', '-alpha-1', '-rc2', '.Final', '-sp1', '-foo', 'a1', '-1'))).map(([r, s]) => `${r}${s ?? ''}`)],
  debian: [compareDebian, fc.tuple(fc.option(fc.constantFrom('1:', '2:')), release, fc.option(fc.constantFrom('~rc1', '+dfsg', 'a')), fc.option(fc.constantFrom('-1', '-2+deb12u1', '-0ubuntu1'))).map(([e, r, m, v]) => `${e ?? ''}${r}${m ?? ''}${v ?? ''}`)],
  alpine: [compareAlpine, fc.tuple(release, fc.option(fc.constantFrom('a', '_rc1', '_p2', '_alpha', '_git1')), fc.option(fc.constantFrom('-r0', '-r5', '-r15'))).map(([r, s, v]) => `${r}${s ?? ''}${v ?? ''}`)],
};

describe('version orderings are total orders on their own syntax', () => {
  for (const [name, [compare, version]] of Object.entries(generators)) {
    it(`${name}: reflexive, antisymmetric and transitive`, () => {
      fc.assert(fc.property(version, version, version, (a, b, c) => {
        assert.equal(compare(a, a), 0);
        const ab = compare(a, b)!, ba = compare(b, a)!, bc = compare(b, c)!, ac = compare(a, c)!;
        assert.ok(ab !== undefined && bc !== undefined && ac !== undefined, `${a} ${b} ${c} should all parse`);
        assert.equal(Math.sign(ab) + Math.sign(ba), 0, `${a} vs ${b}`);
        if (ab <= 0 && bc <= 0) assert.ok(ac <= 0, `${a} <= ${b} <= ${c} but not ${a} <= ${c}`);
      }), { numRuns: 300 });
    });
  }
  it('known orderings', () => {
    const ordered: [VersionComparator, string[]][] = [
      [compareSemver, ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.10.0']],
      [comparePep440, ['1.0.dev1', '1.0a1', '1.0b2', '1.0rc1', '1.0', '1.0.post1', '1.1']],
      [compareMaven, ['1.0-alpha-1', '1.0-beta', '1.0-rc1', '1.0-SNAPSHOT', '1.0', '1.0-sp1', '1.0.1']],
      [compareDebian, ['1.0~rc1-1', '1.0-1', '1.0-1+deb12u1', '1.0a-1', '1:0.9-1']],
      [compareAlpine, ['1.2_alpha', '1.2_rc1', '1.2', '1.2-r1', '1.2_p1', '1.2a', '1.10']],
    ];
    for (const [compare, versions] of ordered) {
      for (let i = 0; i + 1 < versions.length; i++) assert.equal(compare(versions[i]!, versions[i + 1]!), -1, `${versions[i]} < ${versions[i + 1]}`);
    }
  });
  it('semver (npm semver) with OSV leniency: leading v, missing minor/patch, build metadata ignored, junk refused', () => {
    assert.equal(compareSemver('v1.2.3', '1.2.3'), 0);
    assert.equal(compareSemver('1.2', '1.2.0'), 0);
    assert.equal(compareSemver('1.0.0+build.7', '1.0.0+other'), 0);
    assert.equal(compareSemver('1.0.0-rc.10', '1.0.0-rc.9'), 1);
    assert.equal(compareSemver('01.2.3', '1.2.3'), 0);
    for (const junk of ['', 'latest', '1.2.3.4', '1.0.0-', 'v']) assert.equal(compareSemver(junk, '1.0.0'), undefined, junk);
  });
  it('PEP 440 (@renovatebot/pep440): normalised spellings, epochs, local labels, junk refused', () => {
    assert.equal(comparePep440('1.0-alpha1', '1.0a1'), 0);
    assert.equal(comparePep440('1.0.0', '1'), 0);
    assert.equal(comparePep440('v1.0.post2', '1.0-2'), 0);
    assert.equal(comparePep440('1!0.1', '2.0'), 1);
    assert.equal(comparePep440('1.0+local.1', '1.0'), 1);
    assert.equal(comparePep440('1.0.dev0', '1.0a0'), -1);
    for (const junk of ['', 'latest', '1.0-beta-gamma', '1.0+']) assert.equal(comparePep440(junk, '1.0'), undefined, junk);
  });
});

describe('version parse cache', () => {
  it('computes once per key and never holds more than its bound', () => {
    const cache = new BoundedCache<number>(3);
    let computed = 0;
    const get = (key: string) => cache.get(key, () => ++computed);
    assert.equal(get('a'), 1);
    assert.equal(get('a'), 1, 'a hit does not compute again');
    get('b'); get('c');
    assert.equal(computed, 3);
    get('d'); // the bound is reached: everything is forgotten, then d is kept
    assert.equal(get('a'), 5, 'a was forgotten');
    assert.equal(get('d'), 4);
  });
});
