import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RNumber } from './number.ts';

const n = RNumber.parse;

test('parse keeps big integers and decimals exact', () => {
  assert.equal(n('123456789012345678901234567890').toString(), '123456789012345678901234567890');
  assert.equal(n('0.1').add(n('0.2')).toString(), '0.3');
  assert.equal(n('18446744073709551617').add(n('1')).toString(), '18446744073709551618');
  assert.equal(n('-18446744073709551617').sub(n('1')).toString(), '-18446744073709551618');
  assert.equal(n('18446744073709551617').mul(n('2')).toString(), '36893488147419103234');
});

test('equal numbers share one canonical form whatever their literal', () => {
  assert.ok(n('1').equals(n('1.0')));
  assert.ok(n('1e3').equals(n('1000')));
  assert.equal(n('1.0').canonical(), '1');
  assert.equal(n('1.0').toString(), '1.0', 'literal text is kept for printing');
  assert.equal(n('2.50').canonical(), '2.5');
  assert.ok(n('1e109').div(n('1e100')).equals(n('1000000000')));
});

test('parse rejects what JSON rejects; tryParse lenient accepts Go float syntax', () => {
  for (const bad of ['', '-', '01', '1.', '.5', '+1', '1e', 'abc', '0x10']) {
    assert.throws(() => n(bad), SyntaxError, bad);
  }
  assert.equal(RNumber.tryParse('.5', true)?.toString(), '0.5');
  assert.equal(RNumber.tryParse('+1.', true)?.toString(), '1');
});

test('compare orders mixed representations numerically', () => {
  assert.equal(n('1.5').compare(n('2')), -1);
  assert.equal(n('99999999999999999999').compare(n('1e20')), -1);
  assert.equal(n('-0.001').compare(n('0')), -1);
  assert.equal(n('3').compare(n('3.0')), 0);
});

test('division: exact when terminating, zero divisor refused', () => {
  assert.equal(n('1').div(n('8')).toString(), '0.125');
  assert.equal(n('10').div(n('4')).toString(), '2.5');
  assert.equal(n('-7').div(n('2')).toString(), '-3.5');
  assert.equal(n('1').div(n('3')).toString(), '0.33333333333333333333');
  assert.throws(() => n('1').div(n('0')), /divide by zero/);
});

test('remainder follows Go: sign of the dividend, integers only', () => {
  assert.equal(n('7').rem(n('4')).toString(), '3');
  assert.equal(n('-7').rem(n('3')).toString(), '-1');
  assert.equal(n('100').rem(n('-18446744073709551616')).toString(), '100');
  assert.equal(n('18446744073709551617').rem(n('18446744073709551616')).toString(), '1');
  assert.throws(() => n('7').rem(n('0')), /modulo by zero/);
  assert.throws(() => n('1.1').rem(n('1')), /modulo on floating-point number/);
});

test('rounding: round half away from zero, floor and ceil', () => {
  assert.equal(n('2.5').round().toString(), '3');
  assert.equal(n('-2.5').round().toString(), '-3');
  assert.equal(n('2.4').round().toString(), '2');
  assert.equal(n('-1.001').floor().toString(), '-2');
  assert.equal(n('-1.99999').ceil().toString(), '-1');
  assert.equal(n('2222.2222222222').ceil().toString(), '2223');
  assert.equal(n('-15.5').trunc().toString(), '-15');
});

test('of() converts JS numbers and bigints exactly', () => {
  assert.equal(RNumber.of(0.1).toString(), '0.1');
  assert.equal(RNumber.of(2 ** 60).toString(), '1152921504606846976');
  assert.equal(RNumber.of(12345678901234567890n).toString(), '12345678901234567890');
  assert.equal(RNumber.of(-0).toString(), '0');
  assert.throws(() => RNumber.of(Infinity), RangeError);
});

test('safe-integer accessors', () => {
  assert.equal(n('42').toSafeInteger(), 42);
  assert.equal(n('9007199254740993').toSafeInteger(), undefined);
  assert.equal(n('9007199254740993').toBigInt(), 9007199254740993n);
  assert.equal(n('1.5').toBigInt(), undefined);
  assert.equal(n('1.5').toNumber(), 1.5);
});
