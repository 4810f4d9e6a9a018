import { INT64_MAX, INT64_MIN, ValueParseError } from '../values/index.js';

/**
 * Text-to-value conversions of the data readers that src/values does not provide: strings.TrimSpace,
 * strconv.ParseFloat with Go's underscore rules (`1_000.5` is accepted, as Go does) and fmt.Sscanf with
 * one integer or float operand. Errors are ValueParseError with Go's wording.
 */

/** Go's unicode.IsSpace set (also what fmt's scanner treats as space). */
const GO_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005,
  0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

export function isGoSpace(cp: number): boolean {
  return GO_SPACE.has(cp);
}

/** strings.TrimSpace */
export function goTrimSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && GO_SPACE.has(s.charCodeAt(a))) a++;
  while (b > a && GO_SPACE.has(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Port of strconv's underscoreOK: underscores only between digits, or between a base prefix and a digit. */
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'bBoOxX'.includes(s[1] ?? '')) {
    i = 2;
    saw = '0';
    hex = s[1] === 'x' || s[1] === 'X';
  }
  for (; i < s.length; i++) {
    const c = s[i] ?? '';
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
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

const DEC_FLOAT = /^[+-]?(?:[0-9_]+\.?[0-9_]*|\.[0-9_]+)(?:[eE][+-]?[0-9_]+)?$/;
const HEX_FLOAT = /^([+-]?)0[xX]([0-9a-fA-F_]*)(?:\.([0-9a-fA-F_]*))?[pP]([+-]?[0-9_]+)$/;

/** strconv.ParseFloat(s, 64) */
export function goParseFloat(s: string): number {
  const bad = (): never => {
    throw new ValueParseError(`strconv.ParseFloat: parsing ${goQuote(s)}: invalid syntax`);
  };
  // special values: optional sign + inf/infinity; nan without sign; case-insensitive
  const low = s.toLowerCase();
  if (low === 'nan') return NaN;
  const unsigned = low[0] === '+' || low[0] === '-' ? low.slice(1) : low;
  if (unsigned === 'inf' || unsigned === 'infinity') return low[0] === '-' ? -Infinity : Infinity;
  let v: number;
  if (DEC_FLOAT.test(s)) {
    if (s.includes('_') && !underscoreOK(s)) bad();
    const clean = s.replace(/_/g, '');
    if (!/[0-9]/.test(clean.replace(/[eE].*$/, ''))) bad();
    v = Number(clean);
  } else {
    const m = HEX_FLOAT.exec(s);
    if (!m) return bad();
    if (!underscoreOK(s)) bad();
    const intPart = (m[2] ?? '').replace(/_/g, '');
    const fracPart = (m[3] ?? '').replace(/_/g, '');
    if (intPart.length + fracPart.length === 0) bad();
    const mant = BigInt('0x' + (intPart + fracPart || '0'));
    const exp = Number((m[4] ?? '0').replace(/_/g, '')) - 4 * fracPart.length;
    v = hexToFloat(mant, exp);
    if (m[1] === '-') v = -v;
  }
  if (!Number.isFinite(v))
    throw new ValueParseError(`strconv.ParseFloat: parsing ${goQuote(s)}: value out of range`);
  return v;
}

function hexToFloat(mant: bigint, exp: number): number {
  if (mant === 0n) return 0;
  // keep 64 significant bits, fold the rest into a sticky bit, let Number() round once
  let e = exp;
  let m = mant;
  const bits = m.toString(2).length;
  if (bits > 64) {
    const shift = BigInt(bits - 64);
    const sticky = m & ((1n << shift) - 1n) ? 1n : 0n;
    m = (m >> shift) | sticky;
    e += bits - 64;
  }
  return Number(m) * 2 ** e;
}

function goQuote(s: string): string {
  return JSON.stringify(s);
}

// ---------------------------------------------------------------------------------------------------
// fmt.Sscanf with exactly one operand (int64 or float64)

export type ScanTarget = 'int' | 'float';

const INT_VERBS = 'bdoUxXv';
const FLOAT_VERBS = 'beEfFgGv';

/** A compiled Sscanf format with one operand. Construction checks the format; `scan` parses one input. */
export class GoScanFormat {
  readonly format: string;
  readonly target: ScanTarget;

  constructor(format: string, target: ScanTarget) {
    this.format = format;
    this.target = target;
    const verbs = [...format.matchAll(/%([0-9]*)(.?)/gsu)].filter((v) => v[2] !== '%' || v[1] !== '');
    const real = verbs.filter((v) => v[2] !== '%');
    if (/%$/.test(format.replace(/%%/g, ''))) {
      throw new ValueParseError(`format ${goQuote(format)}: missing verb: % at end of format string`);
    }
    if (real.length !== 1) {
      throw new ValueParseError(
        `format ${goQuote(format)} must contain exactly one conversion verb (found ${real.length})`,
      );
    }
    const verb = real[0]?.[2] ?? '';
    const allowed = target === 'int' ? INT_VERBS : FLOAT_VERBS;
    if (!allowed.includes(verb)) {
      throw new ValueParseError(
        `format ${goQuote(format)}: bad verb '%${verb}' for ${target === 'int' ? 'integer' : 'float64'}`,
      );
    }
  }

  scanInt(input: string): bigint {
    if (this.target !== 'int') throw new ValueParseError('format was compiled for a float');
    if (this.format === '%d') {
      // fast path for the common format, same result as the general scanner
      const m = FAST_INT.exec(input);
      if (m) return parseIntBase(m[0], 10);
    }
    return new Scanner(input).run(this.format, 'int') as bigint;
  }

  scanFloat(input: string): number {
    if (this.target !== 'float') throw new ValueParseError('format was compiled for an integer');
    if (this.format === '%f' && FAST_FLOAT_START.test(input)) {
      const m = FAST_FLOAT.exec(input);
      if (m && m[0] !== '') return convertFloat(m[0]);
    }
    return new Scanner(input).run(this.format, 'float') as number;
  }
}

const EOF = -1;
/** A %d token at the very start of the input (no leading space). */
const FAST_INT = /^[+-]?[0-9]+/;
/** Inputs whose %f token the regex below reproduces exactly (not hex, NaN or Inf forms). */
const FAST_FLOAT_START = /^[+-]?(?:[1-9._]|0(?![xX]))/;
/** fmt's floatToken for decimal input: digits, fraction, exponent (e or p), with underscores. */
const FAST_FLOAT = /^[+-]?[0-9_]*(?:\.[0-9_]*)?(?:[eEpP][+-]?[0-9_]*)?/;

class Scanner {
  private readonly cps: number[];
  private pos = 0;
  private limit = Infinity;
  private buf = '';

  constructor(input: string) {
    this.cps = [...input].map((c) => c.codePointAt(0) ?? 0);
  }

  private getRune(): number {
    if (this.pos >= this.cps.length || this.pos >= this.limit) return EOF;
    return this.cps[this.pos++] ?? EOF;
  }

  private unread(): void {
    this.pos--;
  }

  private peekIs(set: string): boolean {
    if (this.pos >= this.cps.length || this.pos >= this.limit) return false;
    return set.includes(String.fromCodePoint(this.cps[this.pos] ?? 0));
  }

  private accept(set: string): boolean {
    if (!this.peekIs(set)) return false;
    this.buf += String.fromCodePoint(this.cps[this.pos++] ?? 0);
    return true;
  }

  private skipSpace(): void {
    for (;;) {
      const r = this.getRune();
      if (r === EOF) return;
      if (r === 0x0d && this.peekIs('\n')) continue;
      if (r === 0x0a) throw new ValueParseError('unexpected newline');
      if (!GO_SPACE.has(r)) {
        this.unread();
        return;
      }
    }
  }

  private notEOF(): void {
    if (this.getRune() === EOF) throw new ValueParseError('EOF');
    this.unread();
  }

  /** Port of fmt's (*ss).advance: spaces, newlines and literals of the format; returns format chars consumed or -1. */
  private advance(format: string[], start: number): number {
    let i = start;
    while (i < format.length) {
      let fc = format[i] ?? '';
      if (GO_SPACE.has(fc.codePointAt(0) ?? 0)) {
        let newlines = 0;
        let trailingSpace = false;
        while (i < format.length && GO_SPACE.has(fc.codePointAt(0) ?? 0)) {
          if (fc === '\n') {
            newlines++;
            trailingSpace = false;
          } else trailingSpace = true;
          i++;
          fc = format[i] ?? '';
        }
        for (let j = 0; j < newlines; j++) {
          let c = this.getRune();
          while (GO_SPACE.has(c) && c !== 0x0a) c = this.getRune();
          if (c !== 0x0a && c !== EOF) throw new ValueParseError('newline in format does not match input');
        }
        if (trailingSpace) {
          let c = this.getRune();
          if (newlines === 0) {
            if (!GO_SPACE.has(c) && c !== EOF)
              throw new ValueParseError('expected space in input to match format');
            if (c === 0x0a) throw new ValueParseError('newline in input does not match format');
          }
          while (GO_SPACE.has(c) && c !== 0x0a) c = this.getRune();
          if (c !== EOF) this.unread();
        }
        continue;
      }
      if (fc === '%') {
        if (i + 1 === format.length) throw new ValueParseError('missing verb: % at end of format string');
        if (format[i + 1] !== '%') return i - start;
        i++;
      }
      const c = this.getRune();
      if (c === EOF) throw new ValueParseError('unexpected EOF');
      if (c !== (format[i] ?? '').codePointAt(0)) {
        this.unread();
        return -1;
      }
      i++;
    }
    return i - start;
  }

  run(formatText: string, target: ScanTarget): bigint | number {
    const format = [...formatText];
    let result: bigint | number | undefined;
    let i = 0;
    while (i < format.length) {
      const w = this.advance(format, i);
      if (w > 0) {
        i += w;
        continue;
      }
      if (format[i] !== '%') {
        if (w < 0) throw new ValueParseError('input does not match format');
        break;
      }
      i++;
      let widText = '';
      while (i < format.length && /[0-9]/.test(format[i] ?? '')) widText += format[i++];
      const verb = format[i++] ?? '';
      if (verb !== 'c') this.skipSpace();
      if (verb === '%') {
        // scanPercent
        this.skipSpace();
        this.notEOF();
        if (!this.accept('%')) throw new ValueParseError('missing literal %');
        this.buf = '';
        continue;
      }
      if (result !== undefined)
        throw new ValueParseError(`too few operands for format '%${format.slice(i - 1).join('')}'`);
      this.limit = widText ? this.pos + Number(widText) : Infinity;
      this.buf = '';
      result = target === 'int' ? this.scanInt(verb) : this.scanFloat(verb);
      this.limit = Infinity;
    }
    if (result === undefined) throw new ValueParseError('too many operands');
    return result;
  }

  private scanInt(verb: string): bigint {
    if (!INT_VERBS.includes(verb)) throw new ValueParseError(`bad verb '%${verb}' for integer`);
    this.skipSpace();
    this.notEOF();
    let digits = '0123456789';
    let base = 10;
    if (verb === 'b') {
      digits = '01';
      base = 2;
    } else if (verb === 'o') {
      digits = '01234567';
      base = 8;
    } else if (verb === 'x' || verb === 'X' || verb === 'U') {
      digits = '0123456789aAbBcCdDeEfF';
      base = 16;
    }
    let haveDigits = false;
    this.accept('+-');
    if (verb === 'v') {
      base = 0;
      if (!this.peekIs('0')) digits = '0123456789_';
      else {
        this.accept('0');
        haveDigits = true;
        if (this.peekIs('bB')) {
          this.accept('bB');
          digits = '01_';
        } else if (this.peekIs('oO')) {
          this.accept('oO');
          digits = '01234567_';
        } else if (this.peekIs('xX')) {
          this.accept('xX');
          digits = '0123456789aAbBcCdDeEfF_';
        } else digits = '01234567_';
      }
    }
    if (!haveDigits) {
      this.notEOF();
      if (!this.accept(digits)) throw new ValueParseError('expected integer');
    }
    while (this.accept(digits));
    return parseIntBase(this.buf, base);
  }

  private scanFloat(verb: string): number {
    if (!FLOAT_VERBS.includes(verb)) throw new ValueParseError(`bad verb '%${verb}' for float64`);
    this.skipSpace();
    this.notEOF();
    return convertFloat(this.floatToken());
  }

  private floatToken(): string {
    this.buf = '';
    if (this.accept('nN') && this.accept('aA') && this.accept('nN')) return this.buf;
    this.accept('+-');
    if (this.accept('iI') && this.accept('nN') && this.accept('fF')) return this.buf;
    let digits = '0123456789_';
    let exp = 'eEpP';
    if (this.accept('0') && this.accept('xX')) {
      digits = '0123456789aAbBcCdDeEfF_';
      exp = 'pP';
    }
    while (this.accept(digits));
    if (this.accept('.')) while (this.accept(digits));
    if (this.accept(exp)) {
      this.accept('+-');
      while (this.accept('0123456789_'));
    }
    return this.buf;
  }
}

function convertFloat(str: string): number {
  const p = str.indexOf('p');
  if (p >= 0 && !/[xX]/.test(str)) {
    // decimal mantissa with a binary exponent (fmt's own extension: "1p4" = 16)
    const f = goParseFloat(str.slice(0, p));
    const e = str.slice(p + 1);
    if (!/^[+-]?[0-9]+$/.test(e))
      throw new ValueParseError(`strconv.Atoi: parsing ${goQuote(e)}: invalid syntax`);
    return f * 2 ** Number(e);
  }
  return goParseFloat(str);
}

/** strconv.ParseInt(tok, base, 64) for the bases fmt uses (0 = Go syntax with prefix and underscores). */
function parseIntBase(tok: string, base: number): bigint {
  const q = goQuote(tok);
  let s = tok;
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  let b = base;
  if (b === 0) {
    if (!underscoreOK(tok)) throw new ValueParseError(`strconv.ParseInt: parsing ${q}: invalid syntax`);
    b = 10;
    if (/^0[bB]/.test(s)) {
      b = 2;
      s = s.slice(2);
    } else if (/^0[oO]/.test(s)) {
      b = 8;
      s = s.slice(2);
    } else if (/^0[xX]/.test(s)) {
      b = 16;
      s = s.slice(2);
    } else if (/^0./.test(s)) {
      b = 8;
      s = s.slice(1);
    }
    s = s.replace(/_/g, '');
  }
  const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[b as 2 | 8 | 10 | 16];
  if (!valid?.test(s)) throw new ValueParseError(`strconv.ParseInt: parsing ${q}: invalid syntax`);
  const prefix = b === 2 ? '0b' : b === 8 ? '0o' : b === 16 ? '0x' : '';
  let v = BigInt(prefix + s);
  if (neg) v = -v;
  if (v < INT64_MIN || v > INT64_MAX)
    throw new ValueParseError(`strconv.ParseInt: parsing ${q}: value out of range`);
  return v;
}
