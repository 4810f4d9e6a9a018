import { Decimal } from './types.js';
import { ValueParseError, ValueRangeError } from './errors.js';
import { shortestFloatString } from './floatfmt.js';

/**
 * Decimal semantics of Go's shopspring/decimal as Capillaries uses it: exact + - *, division to 16
 * places rounded half away from zero, Round(n) half away from zero, String() in plain notation without
 * trailing zeros.
 */

export const DECIMAL_ZERO = new Decimal(0);

/** shopspring's DivisionPrecision. */
export const DIVISION_PRECISION = 16;

/** Split a decimal into an integer coefficient and a power-of-ten exponent: d = coef × 10^exp. */
export function decimalParts(d: Decimal): { coef: bigint; exp: number } {
  if (d.isZero()) return { coef: 0n, exp: 0 };
  // decimal.js keeps the digits in base-1e7 limbs `d` (the first without padding) and the decimal
  // exponent of the leading digit in `e` (documented, read-only properties).
  const limbs = d.d;
  let digits = String(limbs[0] ?? 0);
  for (let i = 1; i < limbs.length; i++) digits += String(limbs[i] ?? 0).padStart(7, '0');
  const coef = BigInt(digits);
  return { coef: d.s < 0 ? -coef : coef, exp: d.e - (digits.length - 1) };
}

function fromParts(coef: bigint, exp: number): Decimal {
  return new Decimal(`${coef.toString()}e${exp}`);
}

export function decimalAdd(a: Decimal, b: Decimal): Decimal {
  return a.plus(b);
}

export function decimalSub(a: Decimal, b: Decimal): Decimal {
  return a.minus(b);
}

export function decimalMul(a: Decimal, b: Decimal): Decimal {
  return a.times(b);
}

export function decimalNeg(a: Decimal): Decimal {
  return a.isZero() ? DECIMAL_ZERO : a.negated();
}

/**
 * shopspring Div: quotient rounded half away from zero to `places` digits after the point
 * (DivRound(d2, 16)). Throws ValueRangeError("decimal division by 0") for a zero divisor.
 */
export function decimalDiv(a: Decimal, b: Decimal, places: number = DIVISION_PRECISION): Decimal {
  if (b.isZero()) throw new ValueRangeError('decimal division by 0');
  if (a.isZero()) return DECIMAL_ZERO;
  const pa = decimalParts(a);
  const pb = decimalParts(b);
  const neg = pa.coef < 0n !== pb.coef < 0n;
  const ca = pa.coef < 0n ? -pa.coef : pa.coef;
  const cb = pb.coef < 0n ? -pb.coef : pb.coef;
  // q1 = trunc(|a|/|b| × 10^(places+1)); one extra digit decides half-away-from-zero rounding exactly.
  const shift = pa.exp - pb.exp + places + 1;
  const digitsA = ca.toString().length;
  const digitsB = cb.toString().length;
  if (shift + digitsA - digitsB < 0) return DECIMAL_ZERO; // |a/b| < 10^-(places+1): rounds to 0
  if (shift > MAX_DECIMAL_TEXT) throw new ValueRangeError('decimal division result is out of range');
  const q1 = shift >= 0 ? (ca * 10n ** BigInt(shift)) / cb : ca / (cb * 10n ** BigInt(-shift));
  let q = q1 / 10n;
  if (q1 % 10n >= 5n) q += 1n;
  return fromParts(neg ? -q : q, -places);
}

/** shopspring Round(places): half away from zero. */
export function roundDecimal(d: Decimal, places: number): Decimal {
  if (d.decimalPlaces() <= places) return d;
  const r = d.toDecimalPlaces(places, Decimal.ROUND_HALF_UP);
  return r.isZero() ? DECIMAL_ZERO : r;
}

/** Round to 2 places, half away from zero (the decimal rounding context of Capillaries). */
export function roundDecimal2(d: Decimal): Decimal {
  return roundDecimal(d, 2);
}

/** shopspring String(): plain notation, trailing zeros trimmed, "0" for zero. */
export function decimalToGoString(d: Decimal): string {
  if (d.isZero()) return '0';
  checkPrintable(d);
  return d.toFixed();
}

/** Longest plain-notation text we agree to build (Go would build any length; we refuse absurd ones). */
const MAX_DECIMAL_TEXT = 1_000_000;

function checkPrintable(d: Decimal): void {
  if (Math.abs(d.e) > MAX_DECIMAL_TEXT) {
    throw new ValueRangeError(`decimal value ${d.toExponential(6)} is too large to write in plain notation`);
  }
}

/** shopspring StringFixed(places): rounded half away from zero, exactly `places` digits. */
export function decimalToFixed(d: Decimal, places: number): string {
  const r = d.toDecimalPlaces(places, Decimal.ROUND_HALF_UP);
  checkPrintable(r);
  return (r.isZero() ? DECIMAL_ZERO : r).toFixed(places);
}

const DEC_RE = /^([+-]?)([0-9]*)(?:\.([0-9]*))?$/;
const EXP_RE = /^[+-]?[0-9]+$/;

/** shopspring NewFromString: `[+-]digits[.digits][e[+-]digits]`, no spaces, no inf/nan. */
export function parseGoDecimal(s: string): Decimal {
  let mant = s;
  const eIdx = s.search(/[eE]/);
  let exp = 0;
  if (eIdx >= 0) {
    const expText = s.slice(eIdx + 1);
    if (!EXP_RE.test(expText)) {
      throw new ValueParseError(`can't convert ${s} to decimal: exponent is not numeric`);
    }
    exp = Number(expText);
    if (exp > 2147483647 || exp < -2147483648) {
      throw new ValueParseError(`can't convert ${s} to decimal: fractional part too long`);
    }
    mant = s.slice(0, eIdx);
  }
  if ((mant.match(/\./g) ?? []).length > 1)
    throw new ValueParseError(`can't convert ${s} to decimal: too many .s`);
  const m = DEC_RE.exec(mant);
  const digits = (m?.[2] ?? '') + (m?.[3] ?? '');
  if (!m || digits === '') throw new ValueParseError(`can't convert ${mant} to decimal`);
  const coef = BigInt(digits);
  return fromParts(m[1] === '-' ? -coef : coef, exp - (m[3] ?? '').length);
}

/** shopspring NewFromFloat: the shortest decimal that round-trips to the float. NaN/±Inf are refused. */
export function decimalFromFloat(x: number): Decimal {
  if (!Number.isFinite(x))
    throw new ValueRangeError(`Cannot create a Decimal from ${shortestFloatString(x)}`);
  if (x === 0) return DECIMAL_ZERO;
  // decimal.js reads a number through its shortest round-trip text, as shopspring's NewFromFloat does.
  return new Decimal(x);
}

export function decimalFromInt(x: bigint): Decimal {
  return new Decimal(x.toString());
}

/** shopspring Float64(): the nearest float64. */
export function decimalToFloat(d: Decimal): number {
  return d.toNumber();
}

/** shopspring IntPart(): truncation toward zero, then big.Int.Int64 (low 64 bits). */
export function decimalToInt64(d: Decimal): bigint {
  const t = d.truncated();
  if (t.isZero()) return 0n;
  const { coef, exp } = decimalParts(t);
  // low 64 bits of coef × 10^exp (exp >= 0 after truncation), without building huge numbers
  let p = 1n;
  let base = 10n;
  for (let e = BigInt(exp); e > 0n; e >>= 1n) {
    if (e & 1n) p = BigInt.asUintN(64, p * base);
    base = BigInt.asUintN(64, base * base);
  }
  return BigInt.asIntN(64, coef * p);
}

/**
 * A decimal2 value as Capillaries stores it (Cassandra DECIMAL scale 2 computed through float64):
 * round(float64(x) × 100) / 100, Go math.Round (half away from zero).
 */
export function decimal2ThroughFloat(d: Decimal): Decimal {
  const f = d.toNumber() * 100;
  const r = goRound(f);
  if (!Number.isFinite(r)) throw new ValueRangeError(`decimal value ${decimalToGoString(d)} is out of range`);
  return fromParts(BigInt(r), -2);
}

/** Go math.Round: half away from zero. */
export function goRound(x: number): number {
  if (!Number.isFinite(x)) return x;
  const t = Math.trunc(x);
  if (Math.abs(x - t) >= 0.5) return t + Math.sign(x);
  return t === 0 ? (Object.is(x, -0) || x < 0 ? -0 : 0) : t;
}
