import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RNumber, fromJS, type Value } from '../value.ts';
import { builtins } from './strings-format.ts';

const ctx = { nowNs: 0n, cache: new Map<string, Value>(), strict: true };
const sprintf = (format: string, ...args: Value[]) => builtins.find((b) => b.name === 'sprintf')!.fn([format, args], ctx);
const n = RNumber.parse;

test('integers: %d %v widths, zero padding, signs and bases', () => {
  assert.equal(sprintf('hi %02d', n('5')), 'hi 05');
  assert.equal(sprintf('%02X.%02X', n('127'), n('1')), '7F.01');
  assert.equal(sprintf('%+d|%5d|%-5d|% d', n('4'), n('42'), n('42'), n('7')), '+4|   42|42   | 7');
  assert.equal(sprintf('%b %o %O %x %#x', n('5'), n('8'), n('8'), n('255'), n('255')), '101 10 0o10 ff 0xff');
  assert.equal(sprintf('%x', n('-255')), '-ff');
  assert.equal(sprintf('%c %q %U', n('65'), n('65'), n('65')), "A 'A' U+0041");
  assert.equal(sprintf('%.3d|%08.3d', n('7'), n('7')), '007|     007');
});

test('big integers print exactly with %s, %v and %d', () => {
  assert.equal(sprintf('%s', n('123456789123456789123')), '123456789123456789123');
  assert.equal(sprintf('%v', n('1208925819614629174706175')), '1208925819614629174706175');
  assert.equal(sprintf('%x', n('18446744073709551617')), '10000000000000001');
});

test('floats: %v/%g shortest, %e/%f precision, Go exponent form', () => {
  assert.equal(sprintf('hi %.2f', n('3.1415')), 'hi 3.14');
  assert.equal(sprintf('%v %v %v', n('3.14'), n('0.00001'), n('1234567.5')), '3.14 1e-05 1.2345675e+06');
  assert.equal(sprintf('%e %E', n('3.0'), n('123.456')), '3.000000e+00 1.234560E+02');
  assert.equal(sprintf('%f %.0f %8.3f', n('1.5'), n('2.7'), n('-3.14159')), '1.500000 3   -3.142');
  assert.equal(sprintf('%g %.3g %g', n('100000.0'), n('3.14159'), n('1e21')), '100000 3.14 1e+21');
  assert.equal(sprintf('%d', n('1.5')), '%!d(float64=1.5)');
});

test('number literals that overflow float64 print as written', () => {
  assert.equal(sprintf('hi %v', n('2e308')), 'hi 2e308');
});

test('strings and other values: %s %q %x, Rego text for composites', () => {
  assert.equal(sprintf('hi %s', 'there'), 'hi there');
  assert.equal(sprintf('%q', 'a"b\n'), '"a\\"b\\n"');
  assert.equal(sprintf('%x %X', 'hi', 'hi'), '6869 6869');
  assert.equal(sprintf('%5s|%-5s|%.2s', 'ab', 'ab', 'abc'), '   ab|ab   |ab');
  assert.equal(sprintf('hi %v', fromJS(['there', 5, 3.14])), 'hi ["there", 5, 3.14]');
  assert.equal(sprintf('%v', fromJS({ b: [true, null], a: 'x' })), '{"a": "x", "b": [true, null]}');
  assert.equal(sprintf('%s', true), 'true');
  assert.equal(sprintf('%d', 'x'), '%!d(string=x)');
  assert.equal(sprintf('%T %T %T', n('1'), n('1.5'), 'x'), 'int float64 string');
});

test('missing, extra and bad arguments use Go error forms', () => {
  assert.equal(sprintf('%d %d', n('1')), '1 %!d(MISSING)');
  assert.equal(sprintf('%d', n('1'), 'x'), '1%!(EXTRA string=x)');
  assert.equal(sprintf('100%%'), '100%');
  assert.equal(sprintf('%'), '%!(NOVERB)');
  assert.equal(sprintf('%z', n('1')), '%!z(int=1)');
  assert.equal(sprintf('%*d', n('4'), n('7')), '   7');
});

test('strings.render_template: fields, range, if, missing keys', () => {
  const render = builtins.find((b) => b.name === 'strings.render_template')!.fn;
  const tpl = '{{range $i, $name := .names}}{{if $i}},{{end}}hello {{$name}}{{end}}';
  assert.equal(render([tpl, fromJS({ names: ['rohan', 'john doe'] })], ctx), 'hello rohan,hello john doe');
  assert.equal(render(['{{.test}}', fromJS({ test: 2023 })], ctx), '2023');
  assert.equal(render(['test {{.foo}} {{.baz}}', fromJS({ baz: 1 })], ctx), 'test <undefined> 1');
  assert.equal(render(['{{- " a " -}} {{ if eq .x 1 }}one{{ else }}other{{ end }}', fromJS({ x: 2 })], ctx), ' a other');
  assert.equal(render(['{{ len .l }} {{ index .l 1 }} {{ .m.k | printf "%q" }}', fromJS({ l: [1, 2], m: { k: 'v' } })], ctx), '2 2 "v"');
});
