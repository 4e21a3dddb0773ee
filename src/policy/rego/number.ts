/**
 * Rego numbers with OPA's arbitrary precision.
 *
 * OPA keeps numbers as decimal text and computes with big integers / big floats, so a Rego
 * engine must never squeeze a big integer or a decimal through a float64. An RNumber is one of:
 *   - a *small* integer (a JS safe integer, the fast path for counters and indexes),
 *   - a *big* integer (bigint mantissa, exponent 0),
 *   - an exact *decimal* (bigint mantissa × 10^exp with exp < 0, trailing zeros stripped).
 * The representation is canonical, so two equal numbers always have equal fields and the same
 * `canonical()` text, which makes `1` and `1.0` the same value and the same key.
 */

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;
/** Exponents beyond this would build absurdly large integers (1e999999); refuse them. */
const MAX_EXPONENT = 100_000;
/** Significant digits kept by a division whose decimal expansion does not terminate. */
const DIVISION_DIGITS = 20;
const NUMBER_SYNTAX = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;
const LENIENT_NUMBER_SYNTAX = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;

const pow10Cache: bigint[] = [];
function pow10(n: number): bigint {
  if (n < 64) return (pow10Cache[n] ??= 10n ** BigInt(n));
  return 10n ** BigInt(n);
}

function absBig(x: bigint): bigint {
  return x < 0n ? -x : x;
}

function gcd(a: bigint, b: bigint): bigint {
  a = absBig(a);
  b = absBig(b);
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/**
 * The value of short plain integer text ("42", "-7"), the most common number text, checked
 * without regular expressions; undefined for any other text (parsed the general way).
 */
function plainSmallInteger(text: string, lenient: boolean): number | undefined {
  const n = text.length;
  if (n === 0 || n >= 16) return undefined;
  const start = text.charCodeAt(0) === 45 /* - */ ? 1 : 0;
  if (start === n) return undefined;
  // The strict syntax (JSON, Rego literals) has no leading zeros.
  if (!lenient && text.charCodeAt(start) === 48 /* 0 */ && n - start > 1) return undefined;
  // At most 15 digits: exact in a double, no conversion call needed.
  let value = 0;
  for (let i = start; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
    value = value * 10 + (c - 48);
  }
  return start === 1 ? -value : value;
}

export class RNumber {
  /** The value when it is a safe integer, else NaN. */
  readonly small: number;
  /** The mantissa when not small (0n when small). */
  readonly mant: bigint;
  /** Decimal exponent: 0 for integers, negative for decimals. */
  readonly exp: number;
  /**
   * The literal's own text when it differs from the canonical text ("1.0", "1e3"): OPA keeps
   * number literals as written, and prints and formats (sprintf) them that way.
   */
  readonly source: string | undefined;

  private constructor(small: number, mant: bigint, exp: number, source?: string) {
    this.small = small;
    this.mant = mant;
    this.exp = exp;
    this.source = source;
  }

  /** The same number remembering `text` as its written form. */
  private withSource(text: string): RNumber {
    return text === this.canonical() ? this : new RNumber(this.small, this.mant, this.exp, text);
  }

  // ---- construction ------------------------------------------------------------------------

  static readonly ZERO: RNumber = new RNumber(0, 0n, 0);
  static readonly ONE: RNumber = new RNumber(1, 0n, 0);
  private static readonly interned: RNumber[] = Array.from({ length: 1025 }, (_, i) =>
    i === 0 ? RNumber.ZERO : i === 1 ? RNumber.ONE : new RNumber(i, 0n, 0),
  );

  /** A safe integer (caller guarantees Number.isSafeInteger). */
  static int(n: number): RNumber {
    if (n >= 0 && n <= 1024) return RNumber.interned[n]!;
    return new RNumber(n === 0 ? 0 : n, 0n, 0); // normalise -0
  }

  static fromBigInt(b: bigint): RNumber {
    if (b >= MIN_SAFE && b <= MAX_SAFE) return RNumber.int(Number(b));
    return new RNumber(NaN, b, 0);
  }

  /** mant × 10^exp in canonical form. */
  static decimal(mant: bigint, exp: number): RNumber {
    if (mant === 0n) return RNumber.ZERO;
    while (exp < 0 && mant % 10n === 0n) {
      mant /= 10n;
      exp++;
    }
    if (exp > 0) {
      if (exp > MAX_EXPONENT) throw new RangeError('number exponent too large');
      mant *= pow10(exp);
      exp = 0;
    }
    if (exp === 0) return RNumber.fromBigInt(mant);
    return new RNumber(NaN, mant, exp);
  }

  static of(n: number | bigint): RNumber {
    if (typeof n === 'bigint') return RNumber.fromBigInt(n);
    if (Number.isSafeInteger(n)) return RNumber.int(n);
    if (!Number.isFinite(n)) throw new RangeError(`not a finite number: ${n}`);
    if (Number.isInteger(n)) return RNumber.fromBigInt(BigInt(n));
    return RNumber.parse(String(n)); // shortest round-trip text of the double
  }

  /** Parses a JSON / Rego number literal exactly. Throws SyntaxError when malformed. */
  static parse(text: string): RNumber {
    const parsed = RNumber.tryParse(text, false);
    if (!parsed) throw new SyntaxError(`invalid number: ${JSON.stringify(text)}`);
    return parsed.withSource(text);
  }

  /**
   * Parses number text; `lenient` also accepts a leading '+', leading zeros and forms like
   * "1." or ".5" (what Go's strconv.ParseFloat accepts, used by to_number and units.parse).
   */
  static tryParse(text: string, lenient = false): RNumber | undefined {
    const small = plainSmallInteger(text, lenient);
    if (small !== undefined) return RNumber.int(small);
    if (!(lenient ? LENIENT_NUMBER_SYNTAX : NUMBER_SYNTAX).test(text)) return undefined;
    let body = text;
    let negative = false;
    if (body[0] === '-' || body[0] === '+') {
      negative = body[0] === '-';
      body = body.slice(1);
    }
    let exp = 0;
    const e = body.search(/[eE]/);
    if (e >= 0) {
      exp = Number(body.slice(e + 1));
      body = body.slice(0, e);
      if (!Number.isSafeInteger(exp) || Math.abs(exp) > MAX_EXPONENT) return undefined;
    }
    const dot = body.indexOf('.');
    if (dot >= 0) {
      exp -= body.length - dot - 1;
      body = body.slice(0, dot) + body.slice(dot + 1);
    }
    if (body === '') body = '0';
    const mant = BigInt(body);
    return RNumber.decimal(negative ? -mant : mant, exp);
  }

  // ---- inspection ----------------------------------------------------------------------------

  isInteger(): boolean {
    return this.exp === 0;
  }

  isSmall(): boolean {
    return this.small === this.small; // not NaN
  }

  sign(): -1 | 0 | 1 {
    if (this.isSmall()) return this.small > 0 ? 1 : this.small < 0 ? -1 : 0;
    return this.mant > 0n ? 1 : this.mant < 0n ? -1 : 0;
  }

  toBigInt(): bigint | undefined {
    if (this.isSmall()) return BigInt(this.small);
    return this.exp === 0 ? this.mant : undefined;
  }

  /** Nearest double (may lose precision; use only where OPA itself uses float64). */
  toNumber(): number {
    if (this.isSmall()) return this.small;
    return Number(this.canonical());
  }

  toSafeInteger(): number | undefined {
    return this.isSmall() ? this.small : undefined;
  }

  /** [mantissa, exponent] with value = mantissa × 10^exponent. */
  parts(): [bigint, number] {
    return this.isSmall() ? [BigInt(this.small), 0] : [this.mant, this.exp];
  }

  /** The text OPA prints: the literal as written, else the canonical text. */
  toString(): string {
    return this.source ?? this.canonical();
  }

  /** Canonical text: plain integers, plain decimals; exponent form only for tiny magnitudes. */
  canonical(): string {
    if (this.isSmall()) return String(this.small);
    if (this.exp === 0) return this.mant.toString();
    const negative = this.mant < 0n;
    const digits = absBig(this.mant).toString();
    const scale = -this.exp;
    let out: string;
    if (digits.length > scale) {
      out = digits.slice(0, digits.length - scale) + '.' + digits.slice(digits.length - scale);
    } else if (scale - digits.length <= 20) {
      out = '0.' + '0'.repeat(scale - digits.length) + digits;
    } else {
      const e = digits.length - scale - 1;
      out = (digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits) + 'e' + e;
    }
    return negative ? '-' + out : out;
  }

  toJSON(): number | string {
    const n = this.toNumber();
    return String(n) === this.canonical() ? n : this.canonical();
  }

  // ---- comparison ----------------------------------------------------------------------------

  compare(o: RNumber): number {
    if (this.isSmall() && o.isSmall()) return this.small < o.small ? -1 : this.small > o.small ? 1 : 0;
    const [am, ae] = this.parts();
    const [bm, be] = o.parts();
    let a = am;
    let b = bm;
    if (ae < be) b *= pow10(be - ae);
    else if (be < ae) a *= pow10(ae - be);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  equals(o: RNumber): boolean {
    if (this.isSmall() || o.isSmall()) return this.small === o.small;
    return this.mant === o.mant && this.exp === o.exp;
  }

  // ---- arithmetic ----------------------------------------------------------------------------

  add(o: RNumber): RNumber {
    if (this.isSmall() && o.isSmall()) {
      const r = this.small + o.small;
      if (Number.isSafeInteger(r)) return RNumber.int(r);
    }
    const [am, ae, bm, be] = aligned(this, o);
    return RNumber.decimal(am + bm, Math.min(ae, be));
  }

  sub(o: RNumber): RNumber {
    if (this.isSmall() && o.isSmall()) {
      const r = this.small - o.small;
      if (Number.isSafeInteger(r)) return RNumber.int(r);
    }
    const [am, ae, bm, be] = aligned(this, o);
    return RNumber.decimal(am - bm, Math.min(ae, be));
  }

  mul(o: RNumber): RNumber {
    if (this.isSmall() && o.isSmall()) {
      const r = this.small * o.small;
      if (Number.isSafeInteger(r)) return RNumber.int(r);
    }
    const [am, ae] = this.parts();
    const [bm, be] = o.parts();
    return RNumber.decimal(am * bm, ae + be);
  }

  /**
   * Exact quotient when its decimal expansion terminates, else rounded to 20 significant digits
   * (OPA uses big floats here; exactness is not promised for 1/3). Throws RangeError on zero.
   */
  div(o: RNumber): RNumber {
    if (o.sign() === 0) throw new RangeError('divide by zero');
    if (this.isSmall() && o.isSmall() && this.small % o.small === 0) {
      return RNumber.int(this.small / o.small);
    }
    const [am, ae] = this.parts();
    const [bm, be] = o.parts();
    const g = gcd(am, bm);
    let num = am / g;
    let den = bm / g;
    if (den < 0n) {
      num = -num;
      den = -den;
    }
    let rest = den;
    let twos = 0;
    let fives = 0;
    while (rest % 2n === 0n) {
      rest /= 2n;
      twos++;
    }
    while (rest % 5n === 0n) {
      rest /= 5n;
      fives++;
    }
    const exp = ae - be;
    if (rest === 1n) {
      const k = Math.max(twos, fives);
      return RNumber.decimal(num * (pow10(k) / den), exp - k);
    }
    // Non-terminating: scale so the integer quotient carries DIVISION_DIGITS+1 digits, round.
    const shift = Math.max(0, DIVISION_DIGITS + 1 - (absBig(num).toString().length - den.toString().length));
    const scaled = num * pow10(shift);
    let q = scaled / den;
    const digits = absBig(q).toString().length;
    const drop = digits - DIVISION_DIGITS;
    let e = exp - shift;
    if (drop > 0) {
      const unit = pow10(drop);
      const r = q % unit;
      q = q / unit;
      if (absBig(r) * 2n >= unit) q += num < 0n ? -1n : 1n; // round half away from zero
      e += drop;
    }
    return RNumber.decimal(q, e);
  }

  /** Integer remainder with the dividend's sign (Go's %). Integers only; RangeError on zero. */
  rem(o: RNumber): RNumber {
    if (this.isSmall() && o.isSmall()) {
      if (o.small === 0) throw new RangeError('modulo by zero');
      return RNumber.int(this.small % o.small);
    }
    const a = this.toBigInt();
    const b = o.toBigInt();
    if (a === undefined || b === undefined) throw new RangeError('modulo on floating-point number');
    if (b === 0n) throw new RangeError('modulo by zero');
    return RNumber.fromBigInt(a % b);
  }

  neg(): RNumber {
    if (this.isSmall()) return RNumber.int(-this.small);
    return RNumber.decimal(-this.mant, this.exp);
  }

  abs(): RNumber {
    return this.sign() < 0 ? this.neg() : this;
  }

  floor(): RNumber {
    if (this.exp === 0) return this;
    const unit = pow10(-this.exp);
    let q = this.mant / unit;
    if (this.mant < 0n) q -= 1n; // mantissa is never a multiple of unit in canonical form
    return RNumber.fromBigInt(q);
  }

  ceil(): RNumber {
    if (this.exp === 0) return this;
    const unit = pow10(-this.exp);
    let q = this.mant / unit;
    if (this.mant > 0n) q += 1n;
    return RNumber.fromBigInt(q);
  }

  /** Rounds half away from zero, like OPA's round(). */
  round(): RNumber {
    if (this.exp === 0) return this;
    const half = RNumber.decimal(5n, -1);
    return this.sign() < 0 ? this.sub(half).ceilTowardZero() : this.add(half).ceilTowardZero();
  }

  /** Truncates toward zero. */
  trunc(): RNumber {
    return this.ceilTowardZero();
  }

  private ceilTowardZero(): RNumber {
    if (this.exp === 0) return this;
    return RNumber.fromBigInt(this.mant / pow10(-this.exp));
  }
}

/** Both operands' mantissas scaled to the smaller exponent. */
function aligned(a: RNumber, b: RNumber): [bigint, number, bigint, number] {
  let [am, ae] = a.parts();
  let [bm, be] = b.parts();
  if (ae < be) {
    bm *= pow10(be - ae);
    be = ae;
  } else if (be < ae) {
    am *= pow10(ae - be);
    ae = be;
  }
  return [am, ae, bm, be];
}
