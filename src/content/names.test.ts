import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_NAME_LENGTH, parseReference, repositoryNameProblem } from './names.ts';

const component = fc.stringMatching(/^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/, { size: 'small' });

describe('repository names', () => {
  it('accepts every name built from the grammar', () => {
    fc.assert(fc.property(fc.array(component, { minLength: 1, maxLength: 5 }), (parts) => {
      const name = parts.join('/');
      fc.pre(name.length <= MAX_NAME_LENGTH);
      assert.equal(repositoryNameProblem(name), undefined);
    }));
  });

  it('rejects traversal, empty components, upper case and over-long names', () => {
    for (const bad of ['', '..', 'a/../b', 'a//b', '/a', 'a/', 'Upper', 'a b', 'a:b', '-a', 'a-', 'a..b', 'a___b', 'a'.repeat(256)]) {
      assert.notEqual(repositoryNameProblem(bad), undefined, bad);
    }
  });

  it('never accepts a name containing a character outside the alphabet', () => {
    fc.assert(fc.property(fc.string(), fc.string({ minLength: 1 }).filter((s) => /[^a-z0-9._\-/]/.test(s)), (prefix, bad) => {
      assert.notEqual(repositoryNameProblem(prefix + bad), undefined);
    }));
  });
});

describe('references', () => {
  it('parses valid tags as tags', () => {
    fc.assert(fc.property(fc.stringMatching(/^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/), (tag) => {
      const parsed = parseReference(tag);
      assert.ok(parsed.ok && parsed.reference.kind === 'tag');
    }));
  });

  it('parses sha256 and sha512 digests and tells unsupported algorithms apart from garbage', () => {
    const sha256 = `sha256:${'a'.repeat(64)}`;
    const sha512 = `sha512:${'b'.repeat(128)}`;
    for (const digest of [sha256, sha512]) {
      const parsed = parseReference(digest);
      assert.ok(parsed.ok && parsed.reference.kind === 'digest' && parsed.reference.digest.text === digest);
    }
    assert.deepEqual(parseReference(`md5:${'a'.repeat(32)}`), { ok: false, reason: 'unsupported-digest' });
    assert.deepEqual(parseReference(`sha256:${'A'.repeat(64)}`), { ok: false, reason: 'digest' });
    assert.deepEqual(parseReference('sha256:short'), { ok: false, reason: 'digest' });
    assert.deepEqual(parseReference('.hidden'), { ok: false, reason: 'tag' });
    assert.deepEqual(parseReference('x'.repeat(129)), { ok: false, reason: 'tag' });
  });

  it('never throws, whatever the input', () => {
    fc.assert(fc.property(fc.string(), (text) => {
      const parsed = parseReference(text);
      assert.equal(typeof parsed.ok, 'boolean');
    }));
  });
});
