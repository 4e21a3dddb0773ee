import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lexer } from './lexer.ts';
import { RegoError } from './errors.ts';

const kinds = (src: string) => new Lexer(src, 'x.rego').tokens.map((t) => `${t.type}:${t.value}`);

test('tokenizes identifiers, numbers, strings and punctuation with locations', () => {
  const lx = new Lexer('p := 1.5e3\nq := "a\\tb" # note\n', 'x.rego');
  assert.deepEqual(lx.tokens.map((t) => `${t.type}:${t.value}`), ['ident:p', 'punct::=', 'number:1.5e3', 'ident:q', 'punct::=', 'string:a\tb', 'eof:']);
  const q = lx.tokens[3];
  assert.deepEqual(q.loc, { file: 'x.rego', row: 2, col: 1 });
  assert.equal(q.newlineBefore, true);
  assert.equal(lx.tokens[1].newlineBefore, false);
  assert.deepEqual(lx.comments.map((c) => c.text), [' note']);
});

test('raw strings keep backslashes and may span lines', () => {
  const lx = new Lexer('x := `a\\n\nb`\ny', 'x.rego');
  assert.equal(lx.tokens[2].type, 'rawstring');
  assert.equal(lx.tokens[2].value, 'a\\n\nb');
  assert.equal(lx.tokens[3].loc.row, 3);
});

test('longest punctuation wins', () => {
  assert.deepEqual(kinds('a==b!=c<=d>=e:=f'), ['ident:a', 'punct:==', 'ident:b', 'punct:!=', 'ident:c', 'punct:<=', 'ident:d', 'punct:>=', 'ident:e', 'punct::=', 'ident:f', 'eof:']);
});

test('template strings split into text and expression sources', () => {
  const t = new Lexer('$"a {x + 1} \\{lit} {"}"}"', 'x.rego').tokens[0];
  assert.equal(t.type, 'template');
  assert.deepEqual(t.parts?.map((p) => ('text' in p ? p.text : `<${p.source}>`)), ['a ', '<x + 1>', ' {lit} ', '<"}">']);
});

test('unterminated strings are parse errors with the start location', () => {
  assert.throws(() => new Lexer('p := "abc\n', 'x.rego'), (e: unknown) => e instanceof RegoError && e.code === 'rego_parse_error' && e.errors[0].location?.col === 6);
  assert.throws(() => new Lexer('p := ~', 'x.rego'), /illegal token/);
});
