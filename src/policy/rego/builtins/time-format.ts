/** Go's Time.Format: renders an instant in a zone with a reference-time layout. */
import {
  LONG_DAY_NAMES, LONG_MONTH_NAMES, civilIn, zoneAbbreviation, zoneOffsetAt, type Civil, type Instant, type Zone,
} from './time-calendar.ts';
import { tokenizeLayout, type StdElement } from './time-layout.ts';

/** Go's appendInt: the integer padded with zeros to width, a minus sign before the padding. */
function pad(n: number, width: number): string {
  const digits = String(Math.abs(n)).padStart(width, '0');
  return n < 0 ? `-${digits}` : digits;
}

function formatOffset(el: StdElement, offset: number): string {
  const iso = el.kind.startsWith('ISO8601');
  if (iso && offset === 0) return 'Z';
  const colon = el.kind.includes('Colon');
  const withSeconds = el.kind.includes('Seconds');
  const short = el.kind.includes('Short');
  const abs = Math.abs(offset);
  const minutes = Math.floor(abs / 60);
  let out = (offset < 0 ? '-' : '+') + pad(Math.floor(minutes / 60), 2);
  if (!short) out += (colon ? ':' : '') + pad(minutes % 60, 2);
  if (withSeconds) out += (colon ? ':' : '') + pad(abs % 60, 2);
  return out;
}

function formatFraction(el: StdElement, nanos: number): string {
  let digits = String(nanos).padStart(9, '0').slice(0, el.digits!);
  if (el.kind === 'fracSecond9') {
    digits = digits.replace(/0+$/, '');
    if (digits === '') return '';
  }
  return el.separator! + digits;
}

function formatElement(el: StdElement, c: Civil, zone: Zone, t: Instant): string {
  switch (el.kind) {
    case 'year': return pad(Math.abs(c.year) % 100, 2);
    case 'longYear': return pad(c.year, 4);
    case 'month': return LONG_MONTH_NAMES[c.month - 1]!.slice(0, 3);
    case 'longMonth': return LONG_MONTH_NAMES[c.month - 1]!;
    case 'numMonth': return String(c.month);
    case 'zeroMonth': return pad(c.month, 2);
    case 'weekDay': return LONG_DAY_NAMES[c.weekday]!.slice(0, 3);
    case 'longWeekDay': return LONG_DAY_NAMES[c.weekday]!;
    case 'day': return String(c.day);
    case 'underDay': return c.day < 10 ? ` ${c.day}` : String(c.day);
    case 'zeroDay': return pad(c.day, 2);
    case 'underYearDay': return String(c.yearDay).padStart(3, ' ');
    case 'zeroYearDay': return pad(c.yearDay, 3);
    case 'hour': return pad(c.hour, 2);
    case 'hour12': return String(c.hour % 12 === 0 ? 12 : c.hour % 12);
    case 'zeroHour12': return pad(c.hour % 12 === 0 ? 12 : c.hour % 12, 2);
    case 'minute': return String(c.minute);
    case 'zeroMinute': return pad(c.minute, 2);
    case 'second': return String(c.second);
    case 'zeroSecond': return pad(c.second, 2);
    case 'PM': return c.hour >= 12 ? 'PM' : 'AM';
    case 'pm': return c.hour >= 12 ? 'pm' : 'am';
    case 'TZ': {
      const name = zoneAbbreviation(zone, t.seconds);
      if (name !== '') return name;
      // A zone without a name prints as -0700, as Go does.
      const offset = zoneOffsetAt(zone, t.seconds);
      const minutes = Math.floor(Math.abs(offset) / 60);
      return (offset < 0 ? '-' : '+') + pad(Math.floor(minutes / 60), 2) + pad(minutes % 60, 2);
    }
    case 'fracSecond0': case 'fracSecond9': return formatFraction(el, c.nanos);
    default: return formatOffset(el, zoneOffsetAt(zone, t.seconds));
  }
}

export function formatTime(t: Instant, zone: Zone, layout: string): string {
  const civil = civilIn(t, zone);
  let out = '';
  for (const chunk of tokenizeLayout(layout)) {
    out += chunk.prefix;
    if (chunk.element !== undefined) out += formatElement(chunk.element, civil, zone, t);
  }
  return out;
}
