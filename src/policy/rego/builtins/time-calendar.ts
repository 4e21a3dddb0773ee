/**
 * Proleptic Gregorian calendar arithmetic and time zones, with the semantics of Go's `time`
 * package (which OPA's time built-ins are defined by). Instants are Unix seconds plus a
 * nanosecond part; seconds stay within a JS number's exact range for every year OPA can reach.
 */

export const NS_PER_SECOND = 1_000_000_000n;
export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;

export const LONG_MONTH_NAMES = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
];
export const LONG_DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** A time zone: UTC, a fixed offset (possibly named), or an IANA zone resolved through Intl. */
export type Zone =
  | { readonly kind: 'utc' }
  | { readonly kind: 'fixed'; readonly name: string; readonly offset: number }
  | { readonly kind: 'iana'; readonly name: string };

export const UTC: Zone = { kind: 'utc' };

/** Broken-down wall-clock time in some zone. */
export interface Civil {
  year: number;
  month: number; // 1..12
  day: number; // 1..31
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  weekday: number; // 0 = Sunday
  yearDay: number; // 1..366
}

export function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

export function daysInMonth(month: number, year: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

/** Days since 1970-01-01 of a civil date (month may be any integer; it is normalised). */
export function daysFromCivil(year: number, month: number, day: number): number {
  // Normalise the month into 1..12 first, carrying into the year as Go's Date does.
  const m0 = month - 1;
  year += Math.floor(m0 / 12);
  month = (((m0 % 12) + 12) % 12) + 1;
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The civil date of a day count since 1970-01-01. */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** Unix seconds of a wall-clock time read as UTC; every field may overflow (Go normalises). */
export function civilToUnixSeconds(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  return daysFromCivil(y, mo, 1) * 86400 + (d - 1) * 86400 + h * 3600 + mi * 60 + s;
}

/** Breaks Unix seconds (already shifted by the zone offset) into civil fields. */
export function civilFromUnixSeconds(localSeconds: number, nanos: number): Civil {
  const days = Math.floor(localSeconds / 86400);
  const secOfDay = localSeconds - days * 86400;
  const { year, month, day } = civilFromDays(days);
  return {
    year, month, day,
    hour: Math.floor(secOfDay / 3600),
    minute: Math.floor((secOfDay % 3600) / 60),
    second: secOfDay % 60,
    nanos,
    weekday: (((days + 4) % 7) + 7) % 7, // 1970-01-01 was a Thursday
    yearDay: days - daysFromCivil(year, 1, 1) + 1,
  };
}

const zoneFormatters = new Map<string, Intl.DateTimeFormat>();
const zoneNameFormatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(name: string): Intl.DateTimeFormat {
  let f = zoneFormatters.get(name);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: name, hourCycle: 'h23', era: 'short',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    zoneFormatters.set(name, f);
  }
  return f;
}

/**
 * Loads an IANA zone the way Go's time.LoadLocation is used by OPA: "" and "UTC" are UTC;
 * unknown names fail with Go's message.
 */
export function loadZone(name: string): Zone {
  if (name === '' || name === 'UTC') return UTC;
  if (name === 'Local') return localZone();
  try {
    formatterFor(name);
  } catch {
    throw new Error(`unknown time zone ${name}`);
  }
  return { kind: 'iana', name };
}

function localZone(): Zone {
  const name = process.env.TZ ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  return name === undefined || name === '' || name === 'UTC' || name === 'Etc/UTC' ? UTC : loadZone(name);
}

/** The zone's offset from UTC in seconds at the given instant. */
export function zoneOffsetAt(zone: Zone, unixSeconds: number): number {
  if (zone.kind === 'utc') return 0;
  if (zone.kind === 'fixed') return zone.offset;
  // Intl works in milliseconds within ±8.64e15 (every int64 ns time fits); beyond that the
  // offset at the edge stands in, as the result is out of OPA's range anyway.
  unixSeconds = Math.max(-8.64e12, Math.min(8.64e12, Number.isFinite(unixSeconds) ? unixSeconds : 0));
  const parts = formatterFor(zone.name).formatToParts(new Date(unixSeconds * 1000));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? '0');
  const era = parts.find((p) => p.type === 'era')?.value;
  const year = era === 'BC' || era === 'B' ? 1 - get('year') : get('year');
  const local = civilToUnixSeconds(year, get('month'), get('day'), get('hour'), get('minute'), get('second'));
  return local - unixSeconds;
}

/**
 * ICU only names a zone by its customary abbreviation in the locales of its region (IST in
 * en-IN, CET in en-GB, JST in ja-JP), so each zone is asked in its region's locale first.
 */
const REGION_LOCALES: [string, string][] = [
  ['Asia/Kolkata', 'en-IN'], ['Asia/Calcutta', 'en-IN'], ['Asia/Tokyo', 'ja-JP'], ['Europe/', 'en-GB'],
  ['Australia/', 'en-AU'], ['Pacific/Auckland', 'en-NZ'], ['Africa/', 'en-ZA'],
];

function abbreviationIn(locale: string, zone: string, unixSeconds: number): string {
  const key = `${locale}/${zone}`;
  let f = zoneNameFormatters.get(key);
  if (f === undefined) {
    f = new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: 'short' });
    zoneNameFormatters.set(key, f);
  }
  return f.formatToParts(new Date(unixSeconds * 1000)).find((p) => p.type === 'timeZoneName')?.value ?? '';
}

/** The zone abbreviation Go would print for the `MST` layout element. */
export function zoneAbbreviation(zone: Zone, unixSeconds: number): string {
  if (zone.kind === 'utc') return 'UTC';
  if (zone.kind === 'fixed') return zone.name;
  const regional = REGION_LOCALES.find(([prefix]) => zone.name.startsWith(prefix))?.[1];
  for (const locale of regional === undefined ? ['en-US'] : [regional, 'en-US']) {
    const abbr = abbreviationIn(locale, zone.name, unixSeconds);
    if (/^[A-Z]{3,5}$/.test(abbr)) return abbr;
  }
  // tzdata names zones without a customary abbreviation by their offset ("+03", "+0530").
  const offset = zoneOffsetAt(zone, unixSeconds);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const hours = String(Math.floor(abs / 3600)).padStart(2, '0');
  const minutes = Math.floor((abs % 3600) / 60);
  return minutes === 0 ? `${sign}${hours}` : `${sign}${hours}${String(minutes).padStart(2, '0')}`;
}

/** An instant: Unix seconds and the nanoseconds within that second (0..999,999,999). */
export interface Instant {
  seconds: number;
  nanos: number;
}

export function instantFromNanos(ns: bigint): Instant {
  let seconds = ns / NS_PER_SECOND;
  let nanos = ns % NS_PER_SECOND;
  if (nanos < 0n) {
    nanos += NS_PER_SECOND;
    seconds -= 1n;
  }
  return { seconds: Number(seconds), nanos: Number(nanos) };
}

export function instantToNanos(t: Instant): bigint {
  return BigInt(t.seconds) * NS_PER_SECOND + BigInt(t.nanos);
}

/** Civil fields of an instant in a zone. */
export function civilIn(t: Instant, zone: Zone): Civil {
  return civilFromUnixSeconds(t.seconds + zoneOffsetAt(zone, t.seconds), t.nanos);
}

/**
 * Go's time.Date: the instant of a (possibly overflowing) wall-clock time in a zone. Near a
 * transition the first guess at the offset may be wrong; one correction, as Go does, fixes it.
 */
export function instantFromCivil(
  y: number, mo: number, d: number, h: number, mi: number, s: number, nanos: number, zone: Zone,
): Instant {
  s += Math.floor(nanos / 1e9);
  nanos = ((nanos % 1e9) + 1e9) % 1e9;
  const local = civilToUnixSeconds(y, mo, d, h, mi, s);
  let offset = zoneOffsetAt(zone, local);
  if (offset !== 0) {
    const corrected = zoneOffsetAt(zone, local - offset);
    if (corrected !== offset) offset = corrected;
  }
  return { seconds: local - offset, nanos };
}

/** Whether an instant's nanosecond count fits in int64 (OPA's "valid range"). */
export function fitsInt64Nanos(t: Instant): boolean {
  if (!Number.isSafeInteger(t.seconds)) return false;
  const ns = instantToNanos(t);
  return ns >= INT64_MIN && ns <= INT64_MAX;
}
