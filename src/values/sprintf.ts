import { DateTime, Decimal, GoInt, GoLocation, GoMonth, type FmtArg } from './types.js';
import { decimalToGoString } from './decimal.js';
import { formatGoFloat } from './floatfmt.js';
import { goMonthName, goTimeString } from './gotime.js';

/**
 * Go's fmt.Sprintf, ported from the Go sources (fmt/print.go, fmt/format.go) for the values an
 * expression can hold: int64 (bigint), float64 (number), string, bool, decimal (shopspring: a Stringer),
 * time.Time (a Stringer), Go int (GoInt), time.Month (GoMonth), *time.Location (GoLocation).
 *
 * Differences from Go, all for formats Go itself renders from a struct's memory layout: a decimal or a
 * time with a non-string verb (`%d`, `%f`, ...) prints `%!f(decimal.Decimal=1.5)` (Go prints the struct's
 * fields, including pointer addresses); likewise for *time.Location.
 */

interface Flags {
  widPresent: boolean;
  precPresent: boolean;
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid: number;
  prec: number;
}

function newFlags(): Flags {
  return {
    widPresent: false,
    precPresent: false,
    minus: false,
    plus: false,
    sharp: false,
    space: false,
    zero: false,
    plusV: false,
    sharpV: false,
    wid: 0,
    prec: 0,
  };
}

const LDIGITS = '0123456789abcdefx';
const UDIGITS = '0123456789ABCDEFX';

function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** Go type name of a value, as %T and the %!verb(type=value) diagnostics print it. */
export function goTypeName(a: FmtArg): string {
  if (typeof a === 'bigint') return 'int64';
  if (typeof a === 'number') return 'float64';
  if (typeof a === 'string') return 'string';
  if (typeof a === 'boolean') return 'bool';
  if (a instanceof Decimal) return 'decimal.Decimal';
  if (a instanceof DateTime) return 'time.Time';
  if (a instanceof GoInt) return 'int';
  if (a instanceof GoMonth) return 'time.Month';
  return '*time.Location';
}

class Printer {
  buf = '';
  f: Flags = newFlags();
  erroring = false;
  reordered = false;
  goodArgNum = true;

  writePadding(n: number): void {
    if (n <= 0) return;
    this.buf += (this.f.zero && !this.f.minus ? '0' : ' ').repeat(n);
  }

  pad(s: string): void {
    if (!this.f.widPresent || this.f.wid === 0) {
      this.buf += s;
      return;
    }
    const width = this.f.wid - runeCount(s);
    if (!this.f.minus) {
      this.writePadding(width);
      this.buf += s;
    } else {
      this.buf += s;
      this.writePadding(width);
    }
  }

  fmtBoolean(v: boolean): void {
    this.pad(v ? 'true' : 'false');
  }

  fmtUnicode(u: bigint): void {
    let prec = 4;
    if (this.f.precPresent && this.f.prec > 4) prec = this.f.prec;
    let hex = u.toString(16).toUpperCase();
    if (hex.length < prec) hex = '0'.repeat(prec - hex.length) + hex;
    let s = 'U+' + hex;
    if (this.f.sharp && u <= 0x10ffffn && isPrint(Number(u))) {
      s += " '" + String.fromCodePoint(Number(u)) + "'";
    }
    const oldZero = this.f.zero;
    this.f.zero = false;
    this.pad(s);
    this.f.zero = oldZero;
  }

  fmtInteger(v: bigint, base: number, isSigned: boolean, verb: string, digits: string): void {
    const negative = isSigned && v < 0n;
    const u = negative ? -v : BigInt.asUintN(64, v);
    let prec = 0;
    if (this.f.precPresent) {
      prec = this.f.prec;
      if (prec === 0 && u === 0n) {
        const oldZero = this.f.zero;
        this.f.zero = false;
        this.writePadding(this.f.wid);
        this.f.zero = oldZero;
        return;
      }
    } else if (this.f.zero && !this.f.minus && this.f.widPresent) {
      prec = this.f.wid;
      if (negative || this.f.plus || this.f.space) prec--;
    }
    let s = u.toString(base);
    if (digits === UDIGITS) s = s.toUpperCase();
    if (s.length < prec) s = '0'.repeat(prec - s.length) + s;
    if (this.f.sharp) {
      if (base === 2) s = '0b' + s;
      else if (base === 8) {
        if (s[0] !== '0') s = '0' + s;
      } else if (base === 16) s = '0' + digits[16] + s;
    }
    if (verb === 'O') s = '0o' + s;
    if (negative) s = '-' + s;
    else if (this.f.plus) s = '+' + s;
    else if (this.f.space) s = ' ' + s;
    const oldZero = this.f.zero;
    this.f.zero = false;
    this.pad(s);
    this.f.zero = oldZero;
  }

  truncateString(s: string): string {
    if (this.f.precPresent) {
      let n = this.f.prec;
      let i = 0;
      for (const ch of s) {
        n--;
        if (n < 0) return s.slice(0, i);
        i += ch.length;
      }
    }
    return s;
  }

  fmtS(s: string): void {
    this.pad(this.truncateString(s));
  }

  fmtSx(s: string, digits: string): void {
    const bytes = Buffer.from(s, 'utf8');
    let length = bytes.length;
    if (this.f.precPresent && this.f.prec < length) length = this.f.prec;
    let width = 2 * length;
    if (width > 0) {
      if (this.f.space) {
        if (this.f.sharp) width *= 2;
        width += length - 1;
      } else if (this.f.sharp) {
        width += 2;
      }
    } else {
      if (this.f.widPresent) this.writePadding(this.f.wid);
      return;
    }
    if (this.f.widPresent && this.f.wid > width && !this.f.minus) this.writePadding(this.f.wid - width);
    let out = '';
    if (this.f.sharp) out += '0' + digits[16];
    for (let i = 0; i < length; i++) {
      if (this.f.space && i > 0) {
        out += ' ';
        if (this.f.sharp) out += '0' + digits[16];
      }
      const c = bytes[i] ?? 0;
      out += (digits[c >> 4] ?? '') + (digits[c & 0xf] ?? '');
    }
    this.buf += out;
    if (this.f.widPresent && this.f.wid > width && this.f.minus) this.writePadding(this.f.wid - width);
  }

  fmtQ(s0: string): void {
    const s = this.truncateString(s0);
    if (this.f.sharp && canBackquote(s)) {
      this.pad('`' + s + '`');
      return;
    }
    this.pad(goQuote(s, this.f.plus));
  }

  fmtC(c: bigint): void {
    let r = c > 0x10ffffn ? 0xfffd : Number(c);
    if (r >= 0xd800 && r <= 0xdfff) r = 0xfffd;
    this.pad(String.fromCodePoint(r));
  }

  fmtQc(c: bigint): void {
    let r = c > 0x10ffffn ? 0xfffd : Number(c);
    if (r >= 0xd800 && r <= 0xdfff) r = 0xfffd;
    this.pad(goQuoteRune(r, this.f.plus));
  }

  fmtFloat(v: number, verb: string, defPrec: number): void {
    const prec = this.f.precPresent ? this.f.prec : defPrec;
    const s = formatGoFloat(v, verb, prec);
    let num = s[0] === '-' || s[0] === '+' ? s : '+' + s;
    if (this.f.space && num[0] === '+' && !this.f.plus) num = ' ' + num.slice(1);
    if (num[1] === 'I' || num[1] === 'N') {
      const oldZero = this.f.zero;
      this.f.zero = false;
      if (num[1] === 'N' && !this.f.space && !this.f.plus) num = num.slice(1);
      this.pad(num);
      this.f.zero = oldZero;
      return;
    }
    if (this.f.sharp && verb !== 'b') {
      let digits = 0;
      if (verb === 'v' || verb === 'g' || verb === 'G' || verb === 'x') {
        digits = prec;
        if (digits === -1) digits = 6;
      }
      let tail = '';
      let hasDecimalPoint = false;
      let sawNonzeroDigit = false;
      for (let i = 1; i < num.length; i++) {
        const ch = num[i];
        if (ch === '.') {
          hasDecimalPoint = true;
        } else if (ch === 'p' || ch === 'P') {
          tail += num.slice(i);
          num = num.slice(0, i);
          break;
        } else if ((ch === 'e' || ch === 'E') && verb !== 'x' && verb !== 'X') {
          tail += num.slice(i);
          num = num.slice(0, i);
          break;
        } else {
          if (ch !== '0') sawNonzeroDigit = true;
          if (sawNonzeroDigit) digits--;
        }
      }
      if (!hasDecimalPoint) {
        if (num.length === 2 && num[1] === '0') digits--;
        num += '.';
      }
      while (digits > 0) {
        num += '0';
        digits--;
      }
      num += tail;
    }
    if (this.f.plus || num[0] !== '+') {
      if (this.f.zero && !this.f.minus && this.f.widPresent && this.f.wid > num.length) {
        this.buf += num[0];
        this.writePadding(this.f.wid - num.length);
        this.buf += num.slice(1);
        return;
      }
      this.pad(num);
      return;
    }
    this.pad(num.slice(1));
  }

  badVerb(verb: string, arg: FmtArg | undefined, valueText?: string): void {
    this.erroring = true;
    this.buf += '%!' + verb + '(';
    if (arg === undefined) {
      this.buf += '<nil>';
    } else {
      this.buf += goTypeName(arg) + '=';
      if (valueText !== undefined) this.buf += valueText;
      else this.printArg(arg, 'v');
    }
    this.buf += ')';
    this.erroring = false;
  }

  fmtIntegerVerb(v: bigint, isSigned: boolean, verb: string, arg: FmtArg): void {
    switch (verb) {
      case 'v':
      case 'd':
        this.fmtInteger(v, 10, isSigned, verb, LDIGITS);
        return;
      case 'b':
        this.fmtInteger(v, 2, isSigned, verb, LDIGITS);
        return;
      case 'o':
      case 'O':
        this.fmtInteger(v, 8, isSigned, verb, LDIGITS);
        return;
      case 'x':
        this.fmtInteger(v, 16, isSigned, verb, LDIGITS);
        return;
      case 'X':
        this.fmtInteger(v, 16, isSigned, verb, UDIGITS);
        return;
      case 'c':
        this.fmtC(BigInt.asUintN(64, v));
        return;
      case 'q':
        this.fmtQc(BigInt.asUintN(64, v));
        return;
      case 'U':
        this.fmtUnicode(BigInt.asUintN(64, v));
        return;
      default:
        this.badVerb(verb, arg);
    }
  }

  fmtFloatVerb(v: number, verb: string): void {
    switch (verb) {
      case 'v':
        this.fmtFloat(v, 'g', -1);
        return;
      case 'b':
      case 'g':
      case 'G':
      case 'x':
      case 'X':
        this.fmtFloat(v, verb, -1);
        return;
      case 'f':
      case 'e':
      case 'E':
        this.fmtFloat(v, verb, 6);
        return;
      case 'F':
        this.fmtFloat(v, 'f', 6);
        return;
      default:
        this.badVerb(verb, v);
    }
  }

  fmtString(v: string, verb: string, arg: FmtArg): void {
    switch (verb) {
      case 'v':
        if (this.f.sharpV) this.fmtQ(v);
        else this.fmtS(v);
        return;
      case 's':
        this.fmtS(v);
        return;
      case 'x':
        this.fmtSx(v, LDIGITS);
        return;
      case 'X':
        this.fmtSx(v, UDIGITS);
        return;
      case 'q':
        this.fmtQ(v);
        return;
      default:
        this.badVerb(verb, arg);
    }
  }

  /** A Stringer (decimal, time, month, location): string verbs use String(), others fall back. */
  stringer(text: string, verb: string, arg: FmtArg): boolean {
    if (this.erroring) return false;
    if (this.f.sharpV) return false;
    if (verb === 'v' || verb === 's' || verb === 'x' || verb === 'X' || verb === 'q') {
      this.fmtString(text, verb, arg);
      return true;
    }
    return false;
  }

  printArg(arg: FmtArg, verb: string): void {
    if (verb === 'T') {
      this.fmtS(goTypeName(arg));
      return;
    }
    if (verb === 'p') {
      this.badVerb('p', arg);
      return;
    }
    if (typeof arg === 'bigint') this.fmtIntegerVerb(arg, true, verb, arg);
    else if (typeof arg === 'number') this.fmtFloatVerb(arg, verb);
    else if (typeof arg === 'string') this.fmtString(arg, verb, arg);
    else if (typeof arg === 'boolean') {
      if (verb === 't' || verb === 'v') this.fmtBoolean(arg);
      else this.badVerb(verb, arg);
    } else if (arg instanceof Decimal) {
      const s = decimalToGoString(arg);
      if (!this.stringer(s, verb, arg)) this.badVerb(verb, arg, s);
    } else if (arg instanceof DateTime) {
      const s = goTimeString(arg);
      if (!this.stringer(s, verb, arg)) this.badVerb(verb, arg, s);
    } else if (arg instanceof GoInt) {
      this.fmtIntegerVerb(arg.value, true, verb, arg);
    } else if (arg instanceof GoMonth) {
      if (!this.stringer(goMonthName(arg.month), verb, arg)) {
        // Go formats the underlying int (time.Month is an int kind) for the other verbs.
        this.fmtIntegerVerb(BigInt(arg.month), true, verb, arg);
      }
    } else {
      const loc: GoLocation = arg;
      if (!this.stringer(loc.name, verb, arg)) this.badVerb(verb, arg, loc.name);
    }
  }
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

const TOO_LARGE = 1e6;

function parsenum(s: string, start: number, end: number): { num: number; isnum: boolean; newi: number } {
  if (start >= end) return { num: 0, isnum: false, newi: end };
  let num = 0;
  let isnum = false;
  let i = start;
  for (; i < end && isDigit(s[i]); i++) {
    if (num > TOO_LARGE || num < -TOO_LARGE) return { num: 0, isnum: false, newi: end };
    num = num * 10 + (s.charCodeAt(i) - 48);
    isnum = true;
  }
  return { num, isnum, newi: i };
}

function intFromArg(
  a: readonly FmtArg[],
  argNum: number,
): { num: number; isInt: boolean; newArgNum: number } {
  let num = 0;
  let isInt = false;
  let newArgNum = argNum;
  if (argNum < a.length) {
    const v = a[argNum];
    let n: bigint | undefined;
    if (typeof v === 'bigint') n = v;
    else if (v instanceof GoInt) n = v.value;
    else if (v instanceof GoMonth) n = BigInt(v.month);
    if (n !== undefined) {
      num = Number(n);
      isInt = true;
    }
    newArgNum = argNum + 1;
    if (num > TOO_LARGE || num < -TOO_LARGE) {
      num = 0;
      isInt = false;
    }
  }
  return { num, isInt, newArgNum };
}

function parseArgNumber(format: string): { index: number; wid: number; ok: boolean } {
  if (format.length < 3) return { index: 0, wid: 1, ok: false };
  for (let i = 1; i < format.length; i++) {
    if (format[i] === ']') {
      const { num, isnum, newi } = parsenum(format, 1, i);
      if (!isnum || newi !== i) return { index: 0, wid: i + 1, ok: false };
      return { index: num - 1, wid: i + 1, ok: true };
    }
  }
  return { index: 0, wid: 1, ok: false };
}

interface PlanStep {
  /** literal text before the verb */
  lit: string;
  /** undefined: trailing literal only; '' : the format ended after flags (%!(NOVERB)) */
  verb?: string;
  flags: Flags;
}

const planCache = new Map<string, readonly PlanStep[] | null>();

/**
 * A format without argument indexes and `*` is parsed once into steps (Go re-parses it on every call;
 * the output is the same, which the tests check against the general path).
 */
function plan(format: string): readonly PlanStep[] | null {
  let steps = planCache.get(format);
  if (steps !== undefined) return steps;
  steps = null;
  if (!format.includes('*') && !format.includes('[')) {
    const out: PlanStep[] = [];
    const end = format.length;
    let i = 0;
    for (;;) {
      const lasti = i;
      while (i < end && format[i] !== '%') i++;
      const lit = format.slice(lasti, i);
      if (i >= end) {
        if (lit !== '') out.push({ lit, flags: newFlags() });
        break;
      }
      i++;
      const f = newFlags();
      flags: for (; i < end; i++) {
        switch (format[i]) {
          case '#':
            f.sharp = true;
            break;
          case '0':
            f.zero = true;
            break;
          case '+':
            f.plus = true;
            break;
          case '-':
            f.minus = true;
            break;
          case ' ':
            f.space = true;
            break;
          default:
            break flags;
        }
      }
      const w = parsenum(format, i, end);
      f.wid = w.num;
      f.widPresent = w.isnum;
      i = w.newi;
      if (i + 1 < end && format[i] === '.') {
        i++;
        const pr = parsenum(format, i, end);
        f.prec = pr.num;
        f.precPresent = pr.isnum;
        i = pr.newi;
        if (!f.precPresent) {
          f.prec = 0;
          f.precPresent = true;
        }
      }
      if (i >= end) {
        out.push({ lit, verb: '', flags: f });
        break;
      }
      const verb = String.fromCodePoint(format.codePointAt(i) ?? 0);
      i += verb.length;
      if (verb === 'v') {
        f.sharpV = f.sharp;
        f.sharp = false;
        f.plusV = f.plus;
        f.plus = false;
      }
      out.push({ lit, verb, flags: f });
    }
    steps = out;
  }
  if (planCache.size > 1000) planCache.clear();
  planCache.set(format, steps);
  return steps;
}

/** Go's fmt.Sprintf(format, args...). */
/** Go's `%!(EXTRA type=value, …)` for the arguments the format did not use. */
function appendExtra(p: Printer, args: readonly FmtArg[], from: number): void {
  p.f = newFlags();
  p.buf += '%!(EXTRA ';
  for (let k = from; k < args.length; k++) {
    if (k > from) p.buf += ', ';
    const a = args[k] as FmtArg;
    p.buf += goTypeName(a) + '=';
    p.printArg(a, 'v');
  }
  p.buf += ')';
}

export function goSprintf(format: string, args: readonly FmtArg[]): string {
  const steps = plan(format);
  if (steps === null) return goSprintfGeneral(format, args);
  const p = new Printer();
  let argNum = 0;
  for (const st of steps) {
    p.buf += st.lit;
    const verb = st.verb;
    if (verb === undefined) continue;
    if (verb === '') {
      p.buf += '%!(NOVERB)';
      break;
    }
    if (verb === '%') {
      p.buf += '%';
    } else if (argNum >= args.length) {
      p.buf += '%!' + verb + '(MISSING)';
    } else {
      p.f = st.flags;
      p.printArg(args[argNum] as FmtArg, verb);
      argNum++;
    }
  }
  if (argNum < args.length) {
    appendExtra(p, args, argNum);
  }
  return p.buf;
}

/** Go's doPrintf, step by step (every format, including argument indexes and `*`). */
export function goSprintfGeneral(format: string, args: readonly FmtArg[]): string {
  const p = new Printer();
  const end = format.length;
  let argNum = 0;
  let afterIndex = false;

  const argNumber = (an: number, i: number): { argNum: number; i: number; found: boolean } => {
    if (format.length <= i || format[i] !== '[') return { argNum: an, i, found: false };
    p.reordered = true;
    const { index, wid, ok } = parseArgNumber(format.slice(i));
    if (ok && index >= 0 && index < args.length) return { argNum: index, i: i + wid, found: true };
    p.goodArgNum = false;
    return { argNum: an, i: i + wid, found: ok };
  };

  let i = 0;
  formatLoop: while (i < end) {
    p.goodArgNum = true;
    const lasti = i;
    while (i < end && format[i] !== '%') i++;
    if (i > lasti) p.buf += format.slice(lasti, i);
    if (i >= end) break;
    i++;
    p.f = newFlags();
    simple: for (; i < end; i++) {
      const c = format[i] ?? '';
      switch (c) {
        case '#':
          p.f.sharp = true;
          break;
        case '0':
          p.f.zero = true;
          break;
        case '+':
          p.f.plus = true;
          break;
        case '-':
          p.f.minus = true;
          break;
        case ' ':
          p.f.space = true;
          break;
        default:
          if (c >= 'a' && c <= 'z' && argNum < args.length) {
            if (c === 'v') {
              p.f.sharpV = p.f.sharp;
              p.f.sharp = false;
              p.f.plusV = p.f.plus;
              p.f.plus = false;
            }
            p.printArg(args[argNum] as FmtArg, c);
            argNum++;
            i++;
            continue formatLoop;
          }
          break simple;
      }
    }

    let r = argNumber(argNum, i);
    argNum = r.argNum;
    i = r.i;
    afterIndex = r.found;

    if (i < end && format[i] === '*') {
      i++;
      const w = intFromArg(args, argNum);
      p.f.wid = w.num;
      p.f.widPresent = w.isInt;
      argNum = w.newArgNum;
      if (!p.f.widPresent) p.buf += '%!(BADWIDTH)';
      if (p.f.wid < 0) {
        p.f.wid = -p.f.wid;
        p.f.minus = true;
        p.f.zero = false;
      }
      afterIndex = false;
    } else {
      const n = parsenum(format, i, end);
      p.f.wid = n.num;
      p.f.widPresent = n.isnum;
      i = n.newi;
      if (afterIndex && p.f.widPresent) p.goodArgNum = false;
    }

    if (i + 1 < end && format[i] === '.') {
      i++;
      if (afterIndex) p.goodArgNum = false;
      r = argNumber(argNum, i);
      argNum = r.argNum;
      i = r.i;
      afterIndex = r.found;
      if (i < end && format[i] === '*') {
        i++;
        const w = intFromArg(args, argNum);
        p.f.prec = w.num;
        p.f.precPresent = w.isInt;
        argNum = w.newArgNum;
        if (p.f.prec < 0) {
          p.f.prec = 0;
          p.f.precPresent = false;
        }
        if (!p.f.precPresent) p.buf += '%!(BADPREC)';
        afterIndex = false;
      } else {
        const n = parsenum(format, i, end);
        p.f.prec = n.num;
        p.f.precPresent = n.isnum;
        i = n.newi;
        if (!p.f.precPresent) {
          p.f.prec = 0;
          p.f.precPresent = true;
        }
      }
    }

    if (!afterIndex) {
      r = argNumber(argNum, i);
      argNum = r.argNum;
      i = r.i;
      afterIndex = r.found;
    }

    if (i >= end) {
      p.buf += '%!(NOVERB)';
      break;
    }

    const cp = format.codePointAt(i) ?? 0;
    const verb = String.fromCodePoint(cp);
    i += verb.length;

    if (verb === '%') {
      p.buf += '%';
    } else if (!p.goodArgNum) {
      p.buf += '%!' + verb + '(BADINDEX)';
    } else if (argNum >= args.length) {
      p.buf += '%!' + verb + '(MISSING)';
    } else {
      if (verb === 'v') {
        p.f.sharpV = p.f.sharp;
        p.f.sharp = false;
        p.f.plusV = p.f.plus;
        p.f.plus = false;
      }
      p.printArg(args[argNum] as FmtArg, verb);
      argNum++;
    }
  }

  if (!p.reordered && argNum < args.length) {
    appendExtra(p, args, argNum);
  }
  return p.buf;
}

/** Go's %v of any value (what string(x) returns in expressions). */
export function goValueString(v: FmtArg): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return formatGoFloat(v, 'g', -1);
  if (v instanceof Decimal) return decimalToGoString(v);
  if (v instanceof DateTime) return goTimeString(v);
  if (v instanceof GoInt) return v.value.toString();
  if (v instanceof GoMonth) return goMonthName(v.month);
  return v.name;
}

// ---- strconv.Quote / QuoteRune ----

const PRINT_RE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isPrint(r: number): boolean {
  if (r === 0x20) return true;
  if (r < 0x20 || r === 0x7f) return false;
  if (r < 0x7f) return true;
  if (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) return false;
  return PRINT_RE.test(String.fromCodePoint(r));
}

function escapeRune(r: number, quote: number, asciiOnly: boolean): string {
  if (r === quote || r === 0x5c) return '\\' + String.fromCharCode(r);
  if (asciiOnly) {
    if (r < 0x80 && isPrint(r)) return String.fromCharCode(r);
  } else if (isPrint(r)) {
    return String.fromCodePoint(r);
  }
  switch (r) {
    case 7:
      return '\\a';
    case 8:
      return '\\b';
    case 12:
      return '\\f';
    case 10:
      return '\\n';
    case 13:
      return '\\r';
    case 9:
      return '\\t';
    case 11:
      return '\\v';
  }
  if (r < 0x20 || r === 0x7f) return '\\x' + r.toString(16).padStart(2, '0');
  if (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) return '\\ufffd';
  if (r < 0x10000) return '\\u' + r.toString(16).padStart(4, '0');
  return '\\U' + r.toString(16).padStart(8, '0');
}

/** strconv.Quote (asciiOnly: QuoteToASCII). A lone surrogate is U+FFFD, as its UTF-8 encoding would be. */
export function goQuote(s: string, asciiOnly = false): string {
  let out = '"';
  for (const ch of s) {
    const r = ch.codePointAt(0) ?? 0xfffd;
    out += escapeRune(r >= 0xd800 && r <= 0xdfff ? 0xfffd : r, 0x22, asciiOnly);
  }
  return out + '"';
}

function goQuoteRune(r: number, asciiOnly: boolean): string {
  return "'" + escapeRune(r, 0x27, asciiOnly) + "'";
}

function canBackquote(s: string): boolean {
  for (const ch of s) {
    const r = ch.codePointAt(0) ?? 0;
    if (r === 0xfeff) return false;
    if (r >= 0xd800 && r <= 0xdfff) return false;
    if (r < 0x20 && r !== 9) return false;
    if (r === 0x60 || r === 0x7f) return false;
  }
  return true;
}
