/**
 * Go's time.Parse: reads a value against a reference-time layout. Without a zone in the value
 * the time is UTC; zone abbreviations other than UTC get offset 0 (Go's behaviour when the
 * local zone, UTC in OPA's deployments, does not know the abbreviation), "GMT+h" gets h hours.
 */
import {
  LONG_DAY_NAMES, LONG_MONTH_NAMES, daysInMonth, instantFromCivil, isLeapYear, type Instant, UTC,
} from './time-calendar.ts';
import { goQuote, tokenizeLayout, type StdElement } from './time-layout.ts';

export class TimeParseError extends Error {}

const BAD = Symbol('bad');

interface ParseState {
  value: string;
  year: number;
  month: number;
  day: number;
  yearDay: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  pm: boolean;
  am: boolean;
  utc: boolean;
  offset: number | undefined;
  zoneName: string;
  rangeError: string;
}

function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x30 && c <= 0x39;
}

/** One or two digits (exactly two when fixed); returns [number, rest] or BAD. */
function getNum(s: string, fixed: boolean): [number, string] | typeof BAD {
  if (!isDigit(s, 0)) return BAD;
  if (!isDigit(s, 1)) return fixed ? BAD : [s.charCodeAt(0) - 48, s.slice(1)];
  return [Number(s.slice(0, 2)), s.slice(2)];
}

function getNum3(s: string, fixed: boolean): [number, string] | typeof BAD {
  let n = 0;
  let i = 0;
  for (; i < 3 && isDigit(s, i); i++) n = n * 10 + s.charCodeAt(i) - 48;
  if (i === 0 || (fixed && i !== 3)) return BAD;
  return [n, s.slice(i)];
}

/** Case-insensitive prefix lookup in a name table (Go's lookup). */
function lookupName(table: string[], value: string): [number, string] | typeof BAD {
  for (let i = 0; i < table.length; i++) {
    const name = table[i]!;
    if (value.length >= name.length && value.slice(0, name.length).toLowerCase() === name.toLowerCase()) {
      return [i, value.slice(name.length)];
    }
  }
  return BAD;
}

const SHORT_MONTHS = LONG_MONTH_NAMES.map((m) => m.slice(0, 3));
const SHORT_DAYS = LONG_DAY_NAMES.map((d) => d.slice(0, 3));

/** Literal text must match, except that a run of spaces matches any run of spaces. */
function skipPrefix(value: string, prefix: string): string | typeof BAD {
  while (prefix.length > 0) {
    if (prefix[0] === ' ') {
      if (value.length > 0 && value[0] !== ' ') return BAD;
      prefix = prefix.replace(/^ +/, '');
      value = value.replace(/^ +/, '');
      continue;
    }
    if (value.length === 0 || value[0] !== prefix[0]) return BAD;
    prefix = prefix.slice(1);
    value = value.slice(1);
  }
  return value;
}

/** Fractional seconds from text that starts with the separator; nbytes includes it. */
function parseNanos(value: string, nbytes: number): number | typeof BAD {
  if (value[0] !== '.' && value[0] !== ',') return BAD;
  if (nbytes > 10) nbytes = 10;
  const digits = value.slice(1, nbytes);
  if (!/^[0-9]+$/.test(digits)) return BAD;
  return Number(digits) * 10 ** (10 - nbytes);
}

/** Length of a leading "+h"/"-h" offset (hours ≤ 12), or 0 (Go's parseSignedOffset). */
function signedOffsetLength(value: string): number {
  if (value[0] !== '+' && value[0] !== '-') return 0;
  const m = /^[0-9]+/.exec(value.slice(1));
  if (m === null || Number(m[0]) > 12) return 0;
  return 1 + m[0].length;
}

/** Length of a zone abbreviation at the start of value (Go's parseTimeZone), or 0. */
function timeZoneLength(value: string): number {
  if (value.length < 3) return 0;
  if (value.startsWith('ChST') || value.startsWith('MeST')) return 4;
  if (value.startsWith('GMT')) return 3 + (value.length === 3 ? 0 : signedOffsetLength(value.slice(3)));
  if (value[0] === '+' || value[0] === '-') return signedOffsetLength(value);
  let upper = 0;
  while (upper < 6 && upper < value.length && value[upper]! >= 'A' && value[upper]! <= 'Z') upper++;
  if (upper === 3) return 3;
  if (upper === 4 && (value[3] === 'T' || value.startsWith('WITA'))) return 4;
  if (upper === 5 && value[4] === 'T') return 5;
  return 0;
}

/** Reads a numeric zone offset for the given element kind into the state. */
function parseOffset(st: ParseState, el: StdElement): typeof BAD | undefined {
  const v = st.value;
  let hh: string, mm = '00', ss = '00';
  switch (el.kind) {
    case 'numShortTZ': case 'ISO8601ShortTZ':
      if (v.length < 3) return BAD;
      hh = v.slice(1, 3); st.value = v.slice(3);
      break;
    case 'numColonTZ': case 'ISO8601ColonTZ':
      if (v.length < 6 || v[3] !== ':') return BAD;
      hh = v.slice(1, 3); mm = v.slice(4, 6); st.value = v.slice(6);
      break;
    case 'numColonSecondsTZ': case 'ISO8601ColonSecondsTZ':
      if (v.length < 9 || v[3] !== ':' || v[6] !== ':') return BAD;
      hh = v.slice(1, 3); mm = v.slice(4, 6); ss = v.slice(7, 9); st.value = v.slice(9);
      break;
    case 'numSecondsTz': case 'ISO8601SecondsTZ':
      if (v.length < 7) return BAD;
      hh = v.slice(1, 3); mm = v.slice(3, 5); ss = v.slice(5, 7); st.value = v.slice(7);
      break;
    default:
      if (v.length < 5) return BAD;
      hh = v.slice(1, 3); mm = v.slice(3, 5); st.value = v.slice(5);
  }
  const h = getNum(hh, true), m = getNum(mm, true), s = getNum(ss, true);
  if (h === BAD || m === BAD || s === BAD) return BAD;
  // Go tests with > rather than >= because offsets such as 24:00 are tolerated.
  if (h[0] > 24) st.rangeError = 'time zone offset hour';
  if (m[0] > 60) st.rangeError = 'time zone offset minute';
  if (s[0] > 60) st.rangeError = 'time zone offset second';
  const offset = (h[0] * 60 + m[0]) * 60 + s[0];
  if (v[0] === '+') st.offset = offset;
  else if (v[0] === '-') st.offset = -offset;
  else return BAD;
  return undefined;
}

function setNum(st: ParseState, r: [number, string] | typeof BAD, apply: (n: number) => void): typeof BAD | undefined {
  if (r === BAD) return BAD;
  apply(r[0]);
  st.value = r[1];
  return undefined;
}

/** Parses one layout element from the front of st.value; returns BAD when it does not fit. */
function parseElement(st: ParseState, el: StdElement, nextElement: StdElement | undefined): typeof BAD | undefined {
  const v = st.value;
  switch (el.kind) {
    case 'year': {
      if (v.length < 2 || !/^[0-9]{2}/.test(v)) return BAD;
      const y = Number(v.slice(0, 2));
      st.year = y >= 69 ? 1900 + y : 2000 + y;
      st.value = v.slice(2);
      return undefined;
    }
    case 'longYear':
      if (v.length < 4 || !/^[0-9]{4}/.test(v)) return BAD;
      st.year = Number(v.slice(0, 4));
      st.value = v.slice(4);
      return undefined;
    case 'month': case 'longMonth':
      return setNum(st, lookupName(el.kind === 'month' ? SHORT_MONTHS : LONG_MONTH_NAMES, v), (n) => { st.month = n + 1; });
    case 'numMonth': case 'zeroMonth':
      return setNum(st, getNum(v, el.kind === 'zeroMonth'), (n) => {
        st.month = n;
        if (n <= 0 || n > 12) st.rangeError = 'month';
      });
    case 'weekDay': case 'longWeekDay':
      return setNum(st, lookupName(el.kind === 'weekDay' ? SHORT_DAYS : LONG_DAY_NAMES, v), () => {});
    case 'day': case 'underDay': case 'zeroDay': {
      const text = el.kind === 'underDay' && v[0] === ' ' ? v.slice(1) : v;
      return setNum(st, getNum(text, el.kind === 'zeroDay'), (n) => { st.day = n; });
    }
    case 'underYearDay': case 'zeroYearDay': {
      let text = v;
      if (el.kind === 'underYearDay') for (let i = 0; i < 2 && text[0] === ' '; i++) text = text.slice(1);
      return setNum(st, getNum3(text, el.kind === 'zeroYearDay'), (n) => {
        st.yearDay = n;
        if (n < 1 || n > 366) st.rangeError = 'day-of-year';
      });
    }
    case 'hour':
      return setNum(st, getNum(v, false), (n) => {
        st.hour = n;
        if (n < 0 || n >= 24) st.rangeError = 'hour';
      });
    case 'hour12': case 'zeroHour12':
      return setNum(st, getNum(v, el.kind === 'zeroHour12'), (n) => {
        st.hour = n;
        if (n < 0 || n > 12) st.rangeError = 'hour';
      });
    case 'minute': case 'zeroMinute':
      return setNum(st, getNum(v, el.kind === 'zeroMinute'), (n) => {
        st.minute = n;
        if (n < 0 || n >= 60) st.rangeError = 'minute';
      });
    case 'second': case 'zeroSecond': {
      const r = setNum(st, getNum(v, el.kind === 'zeroSecond'), (n) => {
        st.second = n;
        if (n < 0 || n >= 60) st.rangeError = 'second';
      });
      if (r === BAD || st.rangeError !== '') return r;
      // Go accepts fractional seconds after the seconds even if the layout has none.
      const rest = st.value;
      if (rest.length >= 2 && (rest[0] === '.' || rest[0] === ',') && isDigit(rest, 1)) {
        if (nextElement?.kind === 'fracSecond0' || nextElement?.kind === 'fracSecond9') return undefined;
        let n = 2;
        while (n < rest.length && isDigit(rest, n)) n++;
        const nanos = parseNanos(rest, n);
        if (nanos === BAD) return BAD;
        st.nanos = nanos;
        st.value = rest.slice(n);
      }
      return undefined;
    }
    case 'PM': case 'pm': {
      if (v.length < 2) return BAD;
      const p = v.slice(0, 2);
      const [pm, am] = el.kind === 'PM' ? ['PM', 'AM'] : ['pm', 'am'];
      if (p === pm) st.pm = true;
      else if (p === am) st.am = true;
      else return BAD;
      st.value = v.slice(2);
      return undefined;
    }
    case 'ISO8601TZ': case 'ISO8601SecondsTZ': case 'ISO8601ShortTZ': case 'ISO8601ColonTZ': case 'ISO8601ColonSecondsTZ':
      if (v[0] === 'Z') {
        st.value = v.slice(1);
        st.utc = true;
        return undefined;
      }
      return parseOffset(st, el);
    case 'numTZ': case 'numSecondsTz': case 'numShortTZ': case 'numColonTZ': case 'numColonSecondsTZ':
      return parseOffset(st, el);
    case 'TZ': {
      if (v.startsWith('UTC')) {
        st.utc = true;
        st.value = v.slice(3);
        return undefined;
      }
      const n = timeZoneLength(v);
      if (n === 0) return BAD;
      st.zoneName = v.slice(0, n);
      st.value = v.slice(n);
      return undefined;
    }
    case 'fracSecond0': {
      const n = 1 + el.digits!;
      if (v.length < n) return BAD;
      const nanos = parseNanos(v, n);
      if (nanos === BAD) return BAD;
      st.nanos = nanos;
      st.value = v.slice(n);
      return undefined;
    }
    case 'fracSecond9': {
      // The fraction may be omitted entirely.
      if (v.length < 2 || (v[0] !== '.' && v[0] !== ',') || !isDigit(v, 1)) return undefined;
      let i = 1;
      while (i < v.length && isDigit(v, i)) i++;
      const nanos = parseNanos(v, i);
      if (nanos === BAD) return BAD;
      st.nanos = nanos;
      st.value = v.slice(i);
      return undefined;
    }
  }
}

/** Resolves a day-of-year into month and day, with Go's consistency checks. */
function applyYearDay(st: ParseState, fail: (msg: string) => never): void {
  let yday = st.yearDay;
  let m = 0, d = 0;
  if (isLeapYear(st.year)) {
    if (yday === 31 + 29) { m = 2; d = 29; } else if (yday > 31 + 29) yday--;
  }
  if (yday < 1 || yday > 365) fail(': day-of-year out of range');
  if (m === 0) {
    const before = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];
    m = Math.floor((yday - 1) / 31) + 1;
    if (before[m]! < yday) m++;
    d = yday - before[m - 1]!;
  }
  if (st.month >= 0 && st.month !== m) fail(': day-of-year does not match month');
  if (st.day >= 0 && st.day !== d) fail(': day-of-year does not match day');
  st.month = m;
  st.day = d;
}

/** Parses value against a Go layout and returns the instant; throws TimeParseError like Go. */
export function parseTime(layout: string, value: string): Instant {
  const st: ParseState = {
    value, year: 0, month: -1, day: -1, yearDay: -1, hour: 0, minute: 0, second: 0, nanos: 0,
    pm: false, am: false, utc: false, offset: undefined, zoneName: '', rangeError: '',
  };
  const prefixError = (layoutElem: string, valueElem: string): never => {
    throw new TimeParseError(
      `parsing time ${goQuote(value)} as ${goQuote(layout)}: cannot parse ${goQuote(valueElem)} as ${goQuote(layoutElem)}`,
    );
  };
  const messageError = (message: string): never => {
    throw new TimeParseError(`parsing time ${goQuote(value)}${message}`);
  };
  const chunks = tokenizeLayout(layout);
  for (let i = 0; i < chunks.length; i++) {
    const { prefix, element } = chunks[i]!;
    const rest = skipPrefix(st.value, prefix);
    if (rest === BAD) prefixError(prefix, st.value);
    st.value = rest as string;
    if (element === undefined) break;
    const hold = st.value;
    if (parseElement(st, element, chunks[i + 1]?.element) === BAD) prefixError(element.text, hold);
    if (st.rangeError !== '') messageError(`: ${st.rangeError} out of range`);
  }
  if (st.value.length > 0) messageError(`: extra text: ${goQuote(st.value)}`);
  if (st.pm && st.hour < 12) st.hour += 12;
  else if (st.am && st.hour === 12) st.hour = 0;
  if (st.yearDay >= 0) applyYearDay(st, messageError);
  else {
    if (st.month < 0) st.month = 1;
    if (st.day < 0) st.day = 1;
  }
  if (st.day < 1 || st.day > daysInMonth(st.month, st.year)) messageError(': day out of range');
  const t = instantFromCivil(st.year, st.month, st.day, st.hour, st.minute, st.second, st.nanos, UTC);
  if (!st.utc && st.offset !== undefined) return { seconds: t.seconds - st.offset, nanos: t.nanos };
  if (!st.utc && st.zoneName.length > 3 && st.zoneName.startsWith('GMT')) {
    return { seconds: t.seconds - Number(st.zoneName.slice(3)) * 3600, nanos: t.nanos };
  }
  return t;
}
