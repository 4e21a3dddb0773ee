/** units.parse (SI and binary suffixes, "m" is milli) and units.parse_bytes (integer bytes). */
import { RNumber } from '../value.ts';
import { BuiltinError, type BuiltinDecl } from './types.ts';
import { str } from './operands.ts';

/** Exponents beyond this are refused, like OPA ("exponent too large"). */
const MAX_EXPONENT = 1000;
const NUMBER_PREFIX = /^[+-]?[0-9.]*(?:[eE][+-]?[0-9]+)?/;

const DECIMAL: Record<string, number> = { k: 3, m: 6, g: 9, t: 12, p: 15, e: 18 };
const BINARY: Record<string, number> = { ki: 10, mi: 20, gi: 30, ti: 40, pi: 50, ei: 60 };

function split(raw: string, noAmount: string, badAmount: string): [RNumber, string] {
  let s = raw;
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1);
  if (/\s/.test(s)) throw new BuiltinError('spaces not allowed in resource strings');
  // "5E" is five exa, not an exponent: only take e/E as an exponent when digits follow.
  const numText = NUMBER_PREFIX.exec(s)![0];
  const unit = s.slice(numText.length);
  if (numText === '' || numText === '+' || numText === '-') throw new BuiltinError(noAmount);
  const exp = /[eE]([+-]?[0-9]+)$/.exec(numText);
  if (exp && Math.abs(Number(exp[1])) > MAX_EXPONENT) throw new BuiltinError('exponent too large');
  const n = RNumber.tryParse(numText, true);
  if (!n) throw new BuiltinError(badAmount);
  return [n, unit];
}

function scale(n: RNumber, multiplier: bigint, divisor = 1n): RNumber {
  const m = n.mul(RNumber.fromBigInt(multiplier));
  return divisor === 1n ? m : m.div(RNumber.fromBigInt(divisor));
}

function parseUnits(raw: string): RNumber {
  const [n, unit] = split(raw, 'no amount provided', 'could not parse amount to a number');
  if (unit === '') return n;
  if (unit === 'm') return scale(n, 1n, 1000n);
  const lower = unit.toLowerCase();
  if (lower in BINARY) return scale(n, 2n ** BigInt(BINARY[lower]!));
  if (lower in DECIMAL) return scale(n, 10n ** BigInt(DECIMAL[lower]!));
  throw new BuiltinError('no amount provided');
}

function parseBytes(raw: string): RNumber {
  const [n, unit] = split(raw, 'no byte amount provided', 'could not parse byte amount to a number');
  let lower = unit.toLowerCase();
  if (lower.endsWith('b')) lower = lower.slice(0, -1);
  let value: RNumber;
  if (lower === '') value = n;
  else if (lower in BINARY) value = scale(n, 2n ** BigInt(BINARY[lower]!));
  else if (lower in DECIMAL) value = scale(n, 10n ** BigInt(DECIMAL[lower]!));
  else throw new BuiltinError('no byte amount provided');
  return value.trunc();
}

export const builtins: BuiltinDecl[] = [
  { name: 'units.parse', args: ['string'], result: 'number', fn: (a) => parseUnits(str(a, 0)) },
  { name: 'units.parse_bytes', args: ['string'], result: 'number', fn: (a) => parseBytes(str(a, 0)) },
];
