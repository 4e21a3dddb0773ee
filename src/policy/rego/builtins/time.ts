/** time.* built-ins with the semantics of OPA's Go implementation (time package layouts and zones). */
import { RNumber, type Value } from '../value.ts';
import { int, str, typeError } from './operands.ts';
import { BuiltinError, BuiltinTypeError, type BuiltinDecl, type BuiltinFn } from './types.ts';
import {
  INT64_MAX, INT64_MIN, LONG_DAY_NAMES, UTC, civilIn, fitsInt64Nanos, instantFromCivil, instantFromNanos,
  instantToNanos, loadZone, type Instant, type Zone,
} from './time-calendar.ts';
import { NAMED_LAYOUTS, RFC3339, RFC3339_NANO } from './time-layout.ts';
import { parseTime, TimeParseError } from './time-parse.ts';
import { formatTime } from './time-format.ts';
import { DurationError, parseDuration } from './time-duration.ts';

const TIME_OPERAND = 'either number (ns) or [number (ns), string (tz)]';

/** Runs Go-style parsing code, turning its errors into built-in errors. */
function asBuiltinError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof TimeParseError || e instanceof DurationError) throw new BuiltinError(e.message);
    if (e instanceof Error && e.message.startsWith('unknown time zone')) throw new BuiltinError(e.message);
    throw e;
  }
}

/** The result of a computation that must fit int64 nanoseconds, as OPA's toSafeUnixNano. */
function safeNanos(t: Instant): Value {
  if (!fitsInt64Nanos(t)) throw new BuiltinError('time outside of valid range');
  return RNumber.of(instantToNanos(t));
}

/** OPA reads the timestamp as a float and requires it to be an exact int64. */
function timestampNanos(v: RNumber): bigint {
  const ns = v.toBigInt();
  if (ns === undefined || ns < INT64_MIN || ns > INT64_MAX) throw new BuiltinError('timestamp too big');
  return ns;
}

/** OPA's tzTime: a number of ns, or [ns, zone] / [ns, zone, layout]. */
function zonedTime(v: Value): { t: Instant; zone: Zone; layout: string } {
  let zone: Zone = UTC;
  let layout = '';
  let nsValue: RNumber;
  if (Array.isArray(v)) {
    if (v.length === 0) throw typeError(1, TIME_OPERAND, v);
    const first = v[0]!;
    if (!(first instanceof RNumber)) throw typeError(1, 'number', first);
    nsValue = first;
    if (v.length > 1) {
      const name = v[1]!;
      if (typeof name !== 'string') throw typeError(1, 'string', name);
      zone = asBuiltinError(() => loadZone(name));
    }
    if (v.length > 2) {
      const lay = v[2]!;
      if (typeof lay !== 'string') throw typeError(1, 'string', lay);
      layout = lay;
    }
  } else if (v instanceof RNumber) {
    nsValue = v;
  } else {
    throw typeError(1, TIME_OPERAND, v);
  }
  return { t: instantFromNanos(timestampNanos(nsValue)), zone, layout };
}

function intArray(...ns: number[]): Value {
  return ns.map((n) => RNumber.of(n));
}

const parseNs: BuiltinFn = (args) => {
  const layoutArg = str(args, 0);
  const value = str(args, 1);
  const layout = NAMED_LAYOUTS[layoutArg] ?? layoutArg;
  return safeNanos(asBuiltinError(() => parseTime(layout, value)));
};

const parseRfc3339Ns: BuiltinFn = (args) => safeNanos(asBuiltinError(() => parseTime(RFC3339, str(args, 0))));

const parseDurationNs: BuiltinFn = (args) => RNumber.of(asBuiltinError(() => parseDuration(str(args, 0))));

const format: BuiltinFn = (args) => {
  const { t, zone, layout } = zonedTime(args[0]!);
  const effective = layout === '' ? RFC3339_NANO : (NAMED_LAYOUTS[layout] ?? layout);
  return formatTime(t, zone, effective);
};

const date: BuiltinFn = (args) => {
  const { t, zone } = zonedTime(args[0]!);
  const c = civilIn(t, zone);
  return intArray(c.year, c.month, c.day);
};

const clock: BuiltinFn = (args) => {
  const { t, zone } = zonedTime(args[0]!);
  const c = civilIn(t, zone);
  return intArray(c.hour, c.minute, c.second);
};

const weekday: BuiltinFn = (args) => {
  const { t, zone } = zonedTime(args[0]!);
  return LONG_DAY_NAMES[civilIn(t, zone).weekday]!;
};

/** An int operand as Go's IntOperand reads it: an integer that fits a machine int. */
function int64Operand(args: Value[], i: number): number {
  const n = int(args, i).toSafeInteger();
  if (n === undefined) throw new BuiltinTypeError(`operand ${i + 1} must be integer number but got floating-point number`);
  return n;
}

/** Go's AddDate: add to the civil fields in the time's zone, then normalise. */
const addDate: BuiltinFn = (args) => {
  const { t, zone } = zonedTime(args[0]!);
  const years = int64Operand(args, 1);
  const months = int64Operand(args, 2);
  const days = int64Operand(args, 3);
  const c = civilIn(t, zone);
  const result = instantFromCivil(
    c.year + years, c.month + months, c.day + days, c.hour, c.minute, c.second, c.nanos, zone,
  );
  return safeNanos(result);
};

/** Days in the month of (year, month) as OPA computes it: day 32 normalised, subtracted from 32. */
function monthLength(year: number, month: number): number {
  const t = instantFromCivil(year, month, 32, 0, 0, 0, 0, UTC);
  return 32 - civilIn(t, UTC).day;
}

/** Calendar difference [years, months, days, hours, minutes, seconds] between two times. */
const diff: BuiltinFn = (args) => {
  const a = zonedTime(args[0]!);
  const b = zonedTime(args[1]!);
  let [t1, t2] = [a.t, b.t];
  const zone = a.zone; // the second time is viewed in the first one's zone
  if (t1.seconds > t2.seconds || (t1.seconds === t2.seconds && t1.nanos > t2.nanos)) [t1, t2] = [t2, t1];
  const c1 = civilIn(t1, zone);
  const c2 = civilIn(t2, zone);
  let year = c2.year - c1.year;
  let month = c2.month - c1.month;
  let day = c2.day - c1.day;
  let hour = c2.hour - c1.hour;
  let minute = c2.minute - c1.minute;
  let second = c2.second - c1.second;
  if (second < 0) { second += 60; minute--; }
  if (minute < 0) { minute += 60; hour--; }
  if (hour < 0) { hour += 24; day--; }
  if (day < 0) { day += monthLength(c1.year, c1.month); month--; }
  if (month < 0) { month += 12; year--; }
  return intArray(year, month, day, hour, minute, second);
};

/** A time operand: ns since the epoch, or [ns, zone]. */
const TIME_ARG = 'any<number, array<number, string>>';

export const builtins: BuiltinDecl[] = [
  {
    name: 'time.now_ns', args: [], result: 'number', nondeterministic: true,
    fn: (_args, ctx) => RNumber.of(ctx.nowNs),
  },
  { name: 'time.parse_ns', args: ['string', 'string'], result: 'number', fn: parseNs },
  { name: 'time.parse_rfc3339_ns', args: ['string'], result: 'number', fn: parseRfc3339Ns },
  { name: 'time.parse_duration_ns', args: ['string'], result: 'number', fn: parseDurationNs },
  {
    name: 'time.format', args: ['any<number, array<number, string>, array<number, string, string>>'], result: 'string',
    fn: format,
  },
  { name: 'time.date', args: [TIME_ARG], result: 'array<number, number, number>', fn: date },
  { name: 'time.clock', args: [TIME_ARG], result: 'array<number, number, number>', fn: clock },
  { name: 'time.weekday', args: [TIME_ARG], result: 'string', fn: weekday },
  {
    name: 'time.add_date', args: ['number', 'number', 'number', 'number'], result: 'number', fn: addDate,
  },
  {
    name: 'time.diff', args: [TIME_ARG, TIME_ARG], result: 'array<number, number, number, number, number, number>',
    fn: diff,
  },
];
