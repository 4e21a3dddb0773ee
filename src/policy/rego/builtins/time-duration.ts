/**
 * Go's time.ParseDuration ("[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+") into int64 nanoseconds, with the
 * day, week and year units (24h, 7d, 365d) that OPA's time.parse_duration_ns adds.
 */
import { goQuote } from './time-layout.ts';

const UNIT_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  '\u00b5s': 1_000n, // micro sign
  '\u03bcs': 1_000n, // Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
  d: 86_400_000_000_000n,
  w: 604_800_000_000_000n,
  y: 31_536_000_000_000_000n,
};

const LIMIT = 1n << 63n;

export class DurationError extends Error {}

/** Parses a Go duration; throws DurationError with Go's message on bad input or overflow. */
export function parseDuration(text: string): bigint {
  const invalid = (): never => {
    throw new DurationError(`time: invalid duration ${goQuote(text)}`);
  };
  let s = text;
  let negative = false;
  if (s[0] === '-' || s[0] === '+') {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') invalid();
  let total = 0n;
  while (s !== '') {
    const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(s)!;
    const whole = m[1]!;
    const fraction = m[2];
    if (whole === '' && (fraction === undefined || fraction === '')) invalid();
    s = s.slice(m[0].length);
    const unitMatch = /^[^0-9.]*/.exec(s)!;
    const unitText = unitMatch[0];
    if (unitText === '') throw new DurationError(`time: missing unit in duration ${goQuote(text)}`);
    s = s.slice(unitText.length);
    const unit = UNIT_NS[unitText];
    if (unit === undefined) {
      throw new DurationError(`time: unknown unit ${goQuote(unitText)} in duration ${goQuote(text)}`);
    }
    const v = BigInt(whole === '' ? '0' : whole);
    if (v > LIMIT / unit) invalid();
    let amount = v * unit;
    if (fraction !== undefined && fraction !== '') {
      // Go scales the fraction in float64 and truncates; digits beyond int64 range are ignored.
      const digits = fraction.slice(0, 18);
      const f = Number(digits);
      if (f > 0) amount += BigInt(Math.trunc(f * (Number(unit) / 10 ** digits.length)));
      if (amount > LIMIT) invalid();
    }
    total += amount;
    if (total > LIMIT) invalid();
  }
  if (negative) return -total;
  if (total > LIMIT - 1n) invalid();
  return total;
}
