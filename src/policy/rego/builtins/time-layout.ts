/**
 * Go reference-time layouts ("Mon Jan 2 15:04:05 MST 2006"): tokenising a layout into its
 * elements, exactly as Go's time package recognises them. Parsing lives in time-parse.ts and
 * formatting in time-format.ts.
 */

export type StdKind =
  | 'longMonth' | 'month' | 'numMonth' | 'zeroMonth'
  | 'longWeekDay' | 'weekDay'
  | 'day' | 'underDay' | 'zeroDay' | 'underYearDay' | 'zeroYearDay'
  | 'hour' | 'hour12' | 'zeroHour12' | 'minute' | 'zeroMinute' | 'second' | 'zeroSecond'
  | 'longYear' | 'year' | 'PM' | 'pm' | 'TZ'
  | 'ISO8601TZ' | 'ISO8601SecondsTZ' | 'ISO8601ShortTZ' | 'ISO8601ColonTZ' | 'ISO8601ColonSecondsTZ'
  | 'numTZ' | 'numSecondsTz' | 'numShortTZ' | 'numColonTZ' | 'numColonSecondsTZ'
  | 'fracSecond0' | 'fracSecond9';

export interface StdElement {
  kind: StdKind;
  /** The layout text of the element, used in Go's error messages. */
  text: string;
  /** For fractional seconds: the number of digits and the separator ('.' or ','). */
  digits?: number;
  separator?: string;
}

/** One step of a layout: literal text before an element, then the element (if any). */
export interface LayoutChunk {
  prefix: string;
  element?: StdElement;
}

/** The named layouts OPA accepts in place of a layout string. */
export const NAMED_LAYOUTS: Readonly<Record<string, string>> = {
  ANSIC: 'Mon Jan _2 15:04:05 2006',
  UnixDate: 'Mon Jan _2 15:04:05 MST 2006',
  RubyDate: 'Mon Jan 02 15:04:05 -0700 2006',
  RFC822: '02 Jan 06 15:04 MST',
  RFC822Z: '02 Jan 06 15:04 -0700',
  RFC850: 'Monday, 02-Jan-06 15:04:05 MST',
  RFC1123: 'Mon, 02 Jan 2006 15:04:05 MST',
  RFC1123Z: 'Mon, 02 Jan 2006 15:04:05 -0700',
  RFC3339: '2006-01-02T15:04:05Z07:00',
  RFC3339Nano: '2006-01-02T15:04:05.999999999Z07:00',
};

export const RFC3339 = NAMED_LAYOUTS.RFC3339!;
export const RFC3339_NANO = NAMED_LAYOUTS.RFC3339Nano!;

function startsWithLowerCase(s: string): boolean {
  const c = s.charCodeAt(0);
  return c >= 0x61 && c <= 0x7a;
}

function isDigitAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x30 && c <= 0x39;
}

const ZERO_PADDED: StdKind[] = ['zeroMonth', 'zeroDay', 'zeroHour12', 'zeroMinute', 'zeroSecond', 'year'];

/** Tries the alternatives in order and returns the first that the text at i starts with. */
function firstMatch(layout: string, i: number, options: [string, StdKind][]): [string, StdKind] | undefined {
  return options.find(([text]) => layout.startsWith(text, i));
}

/** Finds the element starting at position i of the layout, mirroring Go's nextStdChunk. */
function elementAt(layout: string, i: number): StdElement | undefined {
  const c = layout[i];
  const rest = layout.slice(i);
  const el = (kind: StdKind, length: number): StdElement => ({ kind, text: layout.slice(i, i + length) });
  switch (c) {
    case 'J':
      if (rest.startsWith('January')) return el('longMonth', 7);
      if (rest.startsWith('Jan') && !startsWithLowerCase(rest.slice(3))) return el('month', 3);
      return undefined;
    case 'M':
      if (rest.startsWith('Monday')) return el('longWeekDay', 6);
      if (rest.startsWith('Mon') && !startsWithLowerCase(rest.slice(3))) return el('weekDay', 3);
      if (rest.startsWith('MST')) return el('TZ', 3);
      return undefined;
    case '0':
      if (rest.length >= 2 && rest[1]! >= '1' && rest[1]! <= '6') return el(ZERO_PADDED[Number(rest[1]) - 1]!, 2);
      if (rest.startsWith('002')) return el('zeroYearDay', 3);
      return undefined;
    case '1':
      return rest.startsWith('15') ? el('hour', 2) : el('numMonth', 1);
    case '2':
      return rest.startsWith('2006') ? el('longYear', 4) : el('day', 1);
    case '_':
      if (rest.startsWith('_2')) {
        // "_2006" is a literal underscore followed by a long year; Go handles it the same way.
        if (rest.startsWith('_2006')) return undefined;
        return el('underDay', 2);
      }
      if (rest.startsWith('__2')) return el('underYearDay', 3);
      return undefined;
    case '3': return el('hour12', 1);
    case '4': return el('minute', 1);
    case '5': return el('second', 1);
    case 'P': return rest.startsWith('PM') ? el('PM', 2) : undefined;
    case 'p': return rest.startsWith('pm') ? el('pm', 2) : undefined;
    case '-': {
      const m = firstMatch(layout, i, [
        ['-070000', 'numSecondsTz'], ['-07:00:00', 'numColonSecondsTZ'], ['-0700', 'numTZ'],
        ['-07:00', 'numColonTZ'], ['-07', 'numShortTZ'],
      ]);
      return m ? el(m[1], m[0].length) : undefined;
    }
    case 'Z': {
      const m = firstMatch(layout, i, [
        ['Z070000', 'ISO8601SecondsTZ'], ['Z07:00:00', 'ISO8601ColonSecondsTZ'], ['Z0700', 'ISO8601TZ'],
        ['Z07:00', 'ISO8601ColonTZ'], ['Z07', 'ISO8601ShortTZ'],
      ]);
      return m ? el(m[1], m[0].length) : undefined;
    }
    case '.':
    case ',': {
      const digit = layout[i + 1];
      if (digit !== '0' && digit !== '9') return undefined;
      let j = i + 1;
      while (j < layout.length && layout[j] === digit) j++;
      // Only a run of one repeated digit not followed by another digit is a fractional second.
      if (isDigitAt(layout, j)) return undefined;
      return {
        kind: digit === '0' ? 'fracSecond0' : 'fracSecond9',
        text: layout.slice(i, j), digits: j - (i + 1), separator: c,
      };
    }
    default:
      return undefined;
  }
}

/** Tokenised layouts: policies use a handful of layouts over and over. */
const tokenized = new Map<string, LayoutChunk[]>();

/** Splits a layout into literal prefixes and elements (memoised; callers must not mutate). */
export function tokenizeLayout(layout: string): LayoutChunk[] {
  let chunks = tokenized.get(layout);
  if (chunks === undefined) {
    chunks = tokenize(layout);
    if (tokenized.size >= 256) tokenized.clear();
    tokenized.set(layout, chunks);
  }
  return chunks;
}

function tokenize(layout: string): LayoutChunk[] {
  const chunks: LayoutChunk[] = [];
  let start = 0;
  for (let i = 0; i < layout.length; i++) {
    const element = elementAt(layout, i);
    if (element === undefined) continue;
    chunks.push({ prefix: layout.slice(start, i), element });
    i += element.text.length - 1;
    start = i + 1;
  }
  if (start < layout.length || chunks.length === 0) chunks.push({ prefix: layout.slice(start) });
  return chunks;
}

/** Go's strconv.Quote, close enough for error messages (JSON escaping of the same characters). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}
