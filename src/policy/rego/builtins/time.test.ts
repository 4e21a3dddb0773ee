import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RNumber, toJSONText, type Value } from '../value.ts';
import { BuiltinError, type BuiltinContext } from './types.ts';
import { builtins } from './time.ts';
import { parseDuration } from './time-duration.ts';

const table = new Map(builtins.map((b) => [b.name, b]));
const ctx: BuiltinContext = { nowNs: 1_700_000_000_000_000_000n, cache: new Map(), strict: true };
const call = (name: string, ...args: Value[]): string => toJSONText(table.get(name)!.fn(args, ctx)!);
const n = (x: number | bigint): RNumber => RNumber.of(x);

test('parse_ns reads Go reference layouts, named layouts and zone offsets', () => {
  assert.equal(call('time.parse_ns', '2006-01-02T15:04:05Z07:00', '2017-06-02T19:00:00-07:00'), '1496455200000000000');
  assert.equal(call('time.parse_ns', "01/02 03:04:05PM '06 -0700", "06/02 07:00:00PM '17 -0700"), '1496455200000000000');
  assert.equal(call('time.parse_ns', 'RFC822Z', '02 Jun 17 19:00 -0700'), '1496455200000000000');
  // Fractional seconds are accepted after the seconds even when the layout has none.
  assert.equal(call('time.parse_ns', '2006-01-02 15:04:05', '2017-06-02 19:00:00.123456789'), '1496430000123456789');
  assert.equal(call('time.parse_ns', 'Jan _2 2006 002', 'Feb  1 2020 032'), '1580515200000000000');
  // An unknown zone abbreviation gets offset 0, GMT+h gets h hours.
  assert.equal(call('time.parse_ns', 'Mon Jan _2 15:04:05 MST 2006', 'Fri Jun  2 19:00:00 PST 2017'), '1496430000000000000');
  assert.equal(call('time.parse_ns', '15:04 MST 2006-01-02', '10:00 GMT+2 2020-01-01'), '1577865600000000000');
});

test('parse_ns reports range and syntax errors with Go messages', () => {
  assert.throws(() => call('time.parse_ns', '2006-01-02', '2020-02-30'), /parsing time "2020-02-30": day out of range/);
  assert.throws(
    () => call('time.parse_ns', '2006-01-02', 'x2020-01-01'),
    /parsing time "x2020-01-01" as "2006-01-02": cannot parse "x2020-01-01" as "2006"/,
  );
  assert.throws(() => call('time.parse_ns', '2006-01-02', '2020-01-01 extra'), /extra text: " extra"/);
  assert.throws(
    () => call('time.parse_rfc3339_ns', '2262-04-11T23:47:16.854775808-00:00'),
    (e: unknown) => e instanceof BuiltinError && e.message === 'time outside of valid range',
  );
  assert.equal(call('time.parse_rfc3339_ns', '1677-09-21T00:12:43.145224192-00:00'), '-9223372036854775808');
});

test('format renders layouts in IANA zones', () => {
  const t = n(1670006453141828752n);
  assert.equal(call('time.format', t), '"2022-12-02T18:40:53.141828752Z"');
  assert.equal(call('time.format', [t, 'Asia/Kolkata']), '"2022-12-03T00:10:53.141828752+05:30"');
  assert.equal(call('time.format', [t, 'America/New_York', 'RFC1123']), '"Fri, 02 Dec 2022 13:40:53 EST"');
  assert.equal(call('time.format', [t, 'Asia/Kolkata', 'UnixDate']), '"Sat Dec  3 00:10:53 IST 2022"');
  assert.equal(call('time.format', [t, 'America/Sao_Paulo', 'MST']), '"-03"');
  assert.equal(call('time.format', [t, 'UTC', '3:04PM 002 __2 .000 ,999 Z07:00']), '"6:40PM 336 336 .141 ,141 Z"');
  assert.throws(() => call('time.format', n(15829776000000000000000n)), /timestamp too big/);
  assert.throws(() => call('time.date', [t, 'Nowhere/Special']), /unknown time zone Nowhere\/Special/);
});

test('date, clock, weekday, add_date and diff follow Go calendar arithmetic', () => {
  const t = n(1517814000n * 1_000_000_000n);
  assert.equal(call('time.date', [t, 'America/Los_Angeles']), '[2018,2,4]');
  assert.equal(call('time.clock', [n(1517832000n * 1_000_000_000n), 'America/New_York']), '[7,0,0]');
  assert.equal(call('time.weekday', n(1518350400000000000n)), '"Sunday"');
  assert.equal(call('time.add_date', n(1585852421593912000n), n(3), n(9), n(12)), '1705257221593912000');
  assert.equal(call('time.add_date', n(1585852421593912000n), n(-1), n(-1), n(-1)), '1551465221593912000');
  assert.throws(() => call('time.add_date', n(0), n(2262), n(1), n(1)), /time outside of valid range/);
  const day = (s: string): RNumber => RNumber.parse(call('time.parse_ns', '2006-01-02', s));
  assert.equal(call('time.diff', day('2020-02-02'), day('2020-03-01')), '[0,0,28,0,0,0]');
  assert.equal(call('time.diff', day('2004-02-29'), day('2005-03-01')), '[1,0,1,0,0,0]');
  assert.equal(call('time.now_ns'), '1700000000000000000');
});

test('parse_duration_ns follows Go syntax plus OPA day/week/year units', () => {
  assert.equal(parseDuration('1h2m3.5s'), 3_723_500_000_000n);
  assert.equal(parseDuration('-1.5us'), -1500n);
  assert.equal(parseDuration('1d2h'), 93_600_000_000_000n);
  assert.equal(parseDuration('0'), 0n);
  assert.throws(() => parseDuration('1'), /missing unit in duration "1"/);
  assert.throws(() => parseDuration('1x'), /unknown unit "x" in duration "1x"/);
  assert.throws(() => parseDuration('9999999999999h'), /invalid duration/);
});
