import { ValueParseError } from './errors.js';
import { INT64_MAX, INT64_MIN } from './int64.js';

/** Go's strconv.Quote-like quoting used in strconv error messages. */
function q(s: string): string {
  return JSON.stringify(s);
}

const INT_RE = /^[+-]?[0-9]+$/;

/** strconv.ParseInt(s, 10, 64): optional sign and decimal digits only, no spaces, no underscores. */
export function parseGoInt(s: string): bigint {
  if (!INT_RE.test(s)) throw new ValueParseError(`strconv.ParseInt: parsing ${q(s)}: invalid syntax`);
  const v = BigInt(s);
  if (v < INT64_MIN || v > INT64_MAX) {
    throw new ValueParseError(`strconv.ParseInt: parsing ${q(s)}: value out of range`);
  }
  return v;
}

const DEC_FLOAT_RE = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const HEX_FLOAT_RE = /^([+-]?)0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+))[pP]([+-]?[0-9]+)$/;
const SPECIAL_RE = /^(?:[+-]?(?:inf|infinity)|nan)$/i;

/**
 * strconv.ParseFloat(s, 64): decimal and hexadecimal (`0x1.8p3`) forms, `inf`/`infinity`/`nan` in any
 * case; values beyond float64 range are an error ("value out of range"), underflow gives 0.
 */
export function parseGoFloat(s: string): number {
  if (SPECIAL_RE.test(s)) {
    const lower = s.toLowerCase();
    if (lower === 'nan') return NaN;
    return lower.startsWith('-') ? -Infinity : Infinity;
  }
  let t = s;
  if (t.includes('_')) {
    if (!underscoreOK(t)) throw new ValueParseError(`strconv.ParseFloat: parsing ${q(s)}: invalid syntax`);
    t = t.replace(/_/g, '');
  }
  if (DEC_FLOAT_RE.test(t)) {
    const v = Number(t);
    if (!Number.isFinite(v))
      throw new ValueParseError(`strconv.ParseFloat: parsing ${q(s)}: value out of range`);
    return v;
  }
  const m = HEX_FLOAT_RE.exec(t);
  if (m) {
    const body = m[2] ?? '';
    const dot = body.indexOf('.');
    const intPart = dot < 0 ? body : body.slice(0, dot);
    const fracPart = dot < 0 ? '' : body.slice(dot + 1);
    const mant = BigInt('0x' + (intPart + fracPart || '0'));
    const exp = Number(m[3]) - 4 * fracPart.length;
    const v = scaleBigByPow2(mant, exp) * (m[1] === '-' ? -1 : 1);
    if (!Number.isFinite(v))
      throw new ValueParseError(`strconv.ParseFloat: parsing ${q(s)}: value out of range`);
    return v;
  }
  throw new ValueParseError(`strconv.ParseFloat: parsing ${q(s)}: invalid syntax`);
}

/** Go's underscoreOK: underscores only between digits (or after a base prefix). */
function underscoreOK(s0: string): boolean {
  let s = s0;
  let saw = '^';
  let i = 0;
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  let hex = false;
  const lower = (c: string | undefined): string => (c ?? '').toLowerCase();
  if (s.length >= 2 && s[0] === '0' && (lower(s[1]) === 'b' || lower(s[1]) === 'o' || lower(s[1]) === 'x')) {
    i = 2;
    saw = '0';
    hex = lower(s[1]) === 'x';
  }
  for (; i < s.length; i++) {
    const c = s[i] ?? '';
    if ((c >= '0' && c <= '9') || (hex && lower(c) >= 'a' && lower(c) <= 'f')) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

function scaleBigByPow2(mant: bigint, exp: number): number {
  if (mant === 0n) return 0;
  // Keep 64 significant bits, then let the float multiply round once more (exact for <= 53-bit mantissas).
  let m = mant;
  let e = exp;
  const bits = m.toString(2).length;
  if (bits > 64) {
    const drop = bits - 64;
    const sticky = (m & ((1n << BigInt(drop)) - 1n)) !== 0n ? 1n : 0n;
    m = (m >> BigInt(drop)) | sticky;
    e += drop;
  }
  let v = Number(m);
  // Apply the exponent in steps to avoid intermediate overflow/underflow.
  while (e > 0) {
    const step = Math.min(e, 1000);
    v *= 2 ** step;
    e -= step;
  }
  while (e < 0) {
    const step = Math.min(-e, 1000);
    v /= 2 ** step;
    e += step;
  }
  return v;
}

/** strconv.ParseBool. */
export function parseGoBool(s: string): boolean {
  switch (s) {
    case '1':
    case 't':
    case 'T':
    case 'TRUE':
    case 'true':
    case 'True':
      return true;
    case '0':
    case 'f':
    case 'F':
    case 'FALSE':
    case 'false':
    case 'False':
      return false;
    default:
      throw new ValueParseError(`strconv.ParseBool: parsing ${q(s)}: invalid syntax`);
  }
}
