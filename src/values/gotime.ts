import { DateTime, GoLocation } from './types.js';
import { ValueParseError, ValueRangeError } from './errors.js';

/**
 * Go time layouts (time.Format / time.Parse) over DateTime (millisecond precision, fixed zones).
 * A port of Go's layout tokenizer, so every layout Go accepts means the same here. The process-local
 * zone of a Capillaries worker is taken to be UTC (containers run without a TZ database).
 */

const MS_PER_DAY = 86400000;

export function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

const DAYS_BEFORE = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

export function daysIn(month: number, year: number): number {
  if (month === 2 && isLeap(year)) return 29;
  return (DAYS_BEFORE[month] ?? 0) - (DAYS_BEFORE[month - 1] ?? 0);
}

/** Days since 1970-01-01 of a proleptic Gregorian date. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = month > 2 ? month - 3 : month + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

export const LONG_MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const SHORT_MONTH_NAMES = LONG_MONTH_NAMES.map((m) => m.slice(0, 3));
const LONG_DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const SHORT_DAY_NAMES = LONG_DAY_NAMES.map((d) => d.slice(0, 3));

/** Go's Month.String(): "January".."December", "%!Month(13)" otherwise. */
export function goMonthName(m: number): string {
  return LONG_MONTH_NAMES[m - 1] ?? `%!Month(${m})`;
}

// ---- layout tokens (Go's std* constants) ----
const stdNeedDate = 1 << 8;
const stdNeedYday = 1 << 9;
const stdNeedClock = 1 << 10;
const stdArgShift = 16;
const stdSeparatorShift = 28;
const stdMask = (1 << stdArgShift) - 1;

const stdLongMonth = 1 + stdNeedDate;
const stdMonth = 2 + stdNeedDate;
const stdNumMonth = 3 + stdNeedDate;
const stdZeroMonth = 4 + stdNeedDate;
const stdLongWeekDay = 5 + stdNeedDate;
const stdWeekDay = 6 + stdNeedDate;
const stdDay = 7 + stdNeedDate;
const stdUnderDay = 8 + stdNeedDate;
const stdZeroDay = 9 + stdNeedDate;
const stdUnderYearDay = 10 + stdNeedYday;
const stdZeroYearDay = 11 + stdNeedYday;
const stdHour = 12 + stdNeedClock;
const stdHour12 = 13 + stdNeedClock;
const stdZeroHour12 = 14 + stdNeedClock;
const stdMinute = 15 + stdNeedClock;
const stdZeroMinute = 16 + stdNeedClock;
const stdSecond = 17 + stdNeedClock;
const stdZeroSecond = 18 + stdNeedClock;
const stdLongYear = 19 + stdNeedDate;
const stdYear = 20 + stdNeedDate;
const stdPM = 21 + stdNeedClock;
const stdpm = 22 + stdNeedClock;
const stdTZ = 23;
const stdISO8601TZ = 24;
const stdISO8601SecondsTZ = 25;
const stdISO8601ShortTZ = 26;
const stdISO8601ColonTZ = 27;
const stdISO8601ColonSecondsTZ = 28;
const stdNumTZ = 29;
const stdNumSecondsTz = 30;
const stdNumShortTZ = 31;
const stdNumColonTZ = 32;
const stdNumColonSecondsTZ = 33;
const stdFracSecond0 = 34;
const stdFracSecond9 = 35;

const std0x = [stdZeroMonth, stdZeroDay, stdZeroHour12, stdZeroMinute, stdZeroSecond, stdYear];

function startsWithLowerCase(s: string): boolean {
  if (s.length === 0) return false;
  const c = s.charCodeAt(0);
  return c >= 97 && c <= 122;
}

function isDigitAt(s: string, i: number): boolean {
  if (s.length <= i) return false;
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

function stdFracSecond(code: number, n: number, c: string): number {
  const v = code | ((n & 0xfff) << stdArgShift);
  return c === '.' ? v : v | (1 << stdSeparatorShift);
}

function digitsLen(std: number): number {
  return (std >> stdArgShift) & 0xfff;
}

function separator(std: number): string {
  return std >> stdSeparatorShift === 0 ? '.' : ',';
}

interface Chunk {
  prefix: string;
  std: number;
  suffix: string;
}

function nextStdChunk(layout: string): Chunk {
  for (let i = 0; i < layout.length; i++) {
    const c = layout[i];
    const at = (n: number): string => layout.slice(i, i + n);
    switch (c) {
      case 'J':
        if (at(3) === 'Jan') {
          if (at(7) === 'January')
            return { prefix: layout.slice(0, i), std: stdLongMonth, suffix: layout.slice(i + 7) };
          if (!startsWithLowerCase(layout.slice(i + 3)))
            return { prefix: layout.slice(0, i), std: stdMonth, suffix: layout.slice(i + 3) };
        }
        break;
      case 'M':
        if (layout.length >= i + 3) {
          if (at(3) === 'Mon') {
            if (at(6) === 'Monday')
              return { prefix: layout.slice(0, i), std: stdLongWeekDay, suffix: layout.slice(i + 6) };
            if (!startsWithLowerCase(layout.slice(i + 3)))
              return { prefix: layout.slice(0, i), std: stdWeekDay, suffix: layout.slice(i + 3) };
          }
          if (at(3) === 'MST') return { prefix: layout.slice(0, i), std: stdTZ, suffix: layout.slice(i + 3) };
        }
        break;
      case '0': {
        const n = layout.charCodeAt(i + 1);
        if (layout.length >= i + 2 && n >= 49 && n <= 54) {
          return { prefix: layout.slice(0, i), std: std0x[n - 49] ?? 0, suffix: layout.slice(i + 2) };
        }
        if (at(3) === '002')
          return { prefix: layout.slice(0, i), std: stdZeroYearDay, suffix: layout.slice(i + 3) };
        break;
      }
      case '1':
        if (layout[i + 1] === '5')
          return { prefix: layout.slice(0, i), std: stdHour, suffix: layout.slice(i + 2) };
        return { prefix: layout.slice(0, i), std: stdNumMonth, suffix: layout.slice(i + 1) };
      case '2':
        if (at(4) === '2006')
          return { prefix: layout.slice(0, i), std: stdLongYear, suffix: layout.slice(i + 4) };
        return { prefix: layout.slice(0, i), std: stdDay, suffix: layout.slice(i + 1) };
      case '_':
        if (layout[i + 1] === '2') {
          if (layout.slice(i + 1, i + 5) === '2006')
            return { prefix: layout.slice(0, i + 1), std: stdLongYear, suffix: layout.slice(i + 5) };
          return { prefix: layout.slice(0, i), std: stdUnderDay, suffix: layout.slice(i + 2) };
        }
        if (layout[i + 1] === '_' && layout[i + 2] === '2')
          return { prefix: layout.slice(0, i), std: stdUnderYearDay, suffix: layout.slice(i + 3) };
        break;
      case '3':
        return { prefix: layout.slice(0, i), std: stdHour12, suffix: layout.slice(i + 1) };
      case '4':
        return { prefix: layout.slice(0, i), std: stdMinute, suffix: layout.slice(i + 1) };
      case '5':
        return { prefix: layout.slice(0, i), std: stdSecond, suffix: layout.slice(i + 1) };
      case 'P':
        if (layout[i + 1] === 'M')
          return { prefix: layout.slice(0, i), std: stdPM, suffix: layout.slice(i + 2) };
        break;
      case 'p':
        if (layout[i + 1] === 'm')
          return { prefix: layout.slice(0, i), std: stdpm, suffix: layout.slice(i + 2) };
        break;
      case '-':
        if (at(7) === '-070000')
          return { prefix: layout.slice(0, i), std: stdNumSecondsTz, suffix: layout.slice(i + 7) };
        if (at(9) === '-07:00:00')
          return { prefix: layout.slice(0, i), std: stdNumColonSecondsTZ, suffix: layout.slice(i + 9) };
        if (at(5) === '-0700')
          return { prefix: layout.slice(0, i), std: stdNumTZ, suffix: layout.slice(i + 5) };
        if (at(6) === '-07:00')
          return { prefix: layout.slice(0, i), std: stdNumColonTZ, suffix: layout.slice(i + 6) };
        if (at(3) === '-07')
          return { prefix: layout.slice(0, i), std: stdNumShortTZ, suffix: layout.slice(i + 3) };
        break;
      case 'Z':
        if (at(7) === 'Z070000')
          return { prefix: layout.slice(0, i), std: stdISO8601SecondsTZ, suffix: layout.slice(i + 7) };
        if (at(9) === 'Z07:00:00')
          return { prefix: layout.slice(0, i), std: stdISO8601ColonSecondsTZ, suffix: layout.slice(i + 9) };
        if (at(5) === 'Z0700')
          return { prefix: layout.slice(0, i), std: stdISO8601TZ, suffix: layout.slice(i + 5) };
        if (at(6) === 'Z07:00')
          return { prefix: layout.slice(0, i), std: stdISO8601ColonTZ, suffix: layout.slice(i + 6) };
        if (at(3) === 'Z07')
          return { prefix: layout.slice(0, i), std: stdISO8601ShortTZ, suffix: layout.slice(i + 3) };
        break;
      case '.':
      case ',':
        if (i + 1 < layout.length && (layout[i + 1] === '0' || layout[i + 1] === '9')) {
          const ch = layout[i + 1];
          let j = i + 1;
          while (j < layout.length && layout[j] === ch) j++;
          if (!isDigitAt(layout, j)) {
            const code = ch === '9' ? stdFracSecond9 : stdFracSecond0;
            return {
              prefix: layout.slice(0, i),
              std: stdFracSecond(code, j - (i + 1), c),
              suffix: layout.slice(j),
            };
          }
        }
        break;
    }
  }
  return { prefix: layout, std: 0, suffix: '' };
}

/** Go's appendInt(b, x, width): zero-padded to width, '-' first for negatives. */
function padInt(x: number, width: number): string {
  const neg = x < 0;
  let s = String(Math.abs(x));
  if (s.length < width) s = '0'.repeat(width - s.length) + s;
  return neg ? '-' + s : s;
}

function appendNano(nanosec: number, std: number): string {
  const trim = (std & stdMask) === stdFracSecond9;
  const n = digitsLen(std);
  if (trim && (n === 0 || nanosec === 0)) return '';
  const dot = separator(std);
  let b = dot + padInt(nanosec, 9);
  if (n < 9) b = b.slice(0, b.length - 9 + n);
  if (trim) {
    let end = b.length;
    while (end > 0 && b[end - 1] === '0') end--;
    if (end > 0 && b[end - 1] === dot) end--;
    b = b.slice(0, end);
  }
  return b;
}

/** Calendar fields of a DateTime in its own zone. */
export function wallClock(dt: DateTime): {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  days: number;
} {
  const wall = dt.epochMs + dt.offsetSeconds * 1000;
  const days = Math.floor(wall / MS_PER_DAY);
  let rest = wall - days * MS_PER_DAY;
  const { year, month, day } = civilFromDays(days);
  const hour = Math.floor(rest / 3600000);
  rest -= hour * 3600000;
  const minute = Math.floor(rest / 60000);
  rest -= minute * 60000;
  const second = Math.floor(rest / 1000);
  return { year, month, day, hour, minute, second, millisecond: rest - second * 1000, days };
}

/** Go's Time.Format(layout). */
const layoutCache = new Map<string, readonly Chunk[]>();

/** A layout split into its chunks once (Go re-scans it on every call; the result is the same). */
function layoutChunks(layout: string): readonly Chunk[] {
  let chunks = layoutCache.get(layout);
  if (chunks === undefined) {
    const list: Chunk[] = [];
    let rest = layout;
    while (rest !== '') {
      const c = nextStdChunk(rest);
      list.push(c);
      if (c.std === 0) break;
      rest = c.suffix;
    }
    chunks = list;
    if (layoutCache.size > 500) layoutCache.clear();
    layoutCache.set(layout, chunks);
  }
  return chunks;
}

export function goTimeFormat(dt: DateTime, layout: string): string {
  const w = wallClock(dt);
  const offset = dt.offsetSeconds;
  const nanos = w.millisecond * 1000000;
  let out = '';
  for (const { prefix, std } of layoutChunks(layout)) {
    out += prefix;
    if (std === 0) break;
    switch (std & stdMask) {
      case stdYear:
        out += padInt(Math.abs(w.year) % 100, 2);
        break;
      case stdLongYear:
        out += padInt(w.year, 4);
        break;
      case stdMonth:
        out += SHORT_MONTH_NAMES[w.month - 1];
        break;
      case stdLongMonth:
        out += LONG_MONTH_NAMES[w.month - 1];
        break;
      case stdNumMonth:
        out += String(w.month);
        break;
      case stdZeroMonth:
        out += padInt(w.month, 2);
        break;
      case stdWeekDay:
        out += SHORT_DAY_NAMES[weekday(w.days)];
        break;
      case stdLongWeekDay:
        out += LONG_DAY_NAMES[weekday(w.days)];
        break;
      case stdDay:
        out += String(w.day);
        break;
      case stdUnderDay:
        out += (w.day < 10 ? ' ' : '') + String(w.day);
        break;
      case stdZeroDay:
        out += padInt(w.day, 2);
        break;
      case stdUnderYearDay: {
        const yday = w.days - daysFromCivil(w.year, 1, 1) + 1;
        out += (yday < 100 ? (yday < 10 ? '  ' : ' ') : '') + String(yday);
        break;
      }
      case stdZeroYearDay:
        out += padInt(w.days - daysFromCivil(w.year, 1, 1) + 1, 3);
        break;
      case stdHour:
        out += padInt(w.hour, 2);
        break;
      case stdHour12:
        out += String(w.hour % 12 === 0 ? 12 : w.hour % 12);
        break;
      case stdZeroHour12:
        out += padInt(w.hour % 12 === 0 ? 12 : w.hour % 12, 2);
        break;
      case stdMinute:
        out += String(w.minute);
        break;
      case stdZeroMinute:
        out += padInt(w.minute, 2);
        break;
      case stdSecond:
        out += String(w.second);
        break;
      case stdZeroSecond:
        out += padInt(w.second, 2);
        break;
      case stdPM:
        out += w.hour >= 12 ? 'PM' : 'AM';
        break;
      case stdpm:
        out += w.hour >= 12 ? 'pm' : 'am';
        break;
      case stdISO8601TZ:
      case stdISO8601ColonTZ:
      case stdISO8601SecondsTZ:
      case stdISO8601ShortTZ:
      case stdISO8601ColonSecondsTZ:
      case stdNumTZ:
      case stdNumColonTZ:
      case stdNumSecondsTz:
      case stdNumShortTZ:
      case stdNumColonSecondsTZ: {
        if (
          offset === 0 &&
          (std === stdISO8601TZ ||
            std === stdISO8601ColonTZ ||
            std === stdISO8601SecondsTZ ||
            std === stdISO8601ShortTZ ||
            std === stdISO8601ColonSecondsTZ)
        ) {
          out += 'Z';
          break;
        }
        let zone = Math.trunc(offset / 60);
        let absoffset = offset;
        if (zone < 0) {
          out += '-';
          zone = -zone;
          absoffset = -absoffset;
        } else {
          out += '+';
        }
        out += padInt(Math.trunc(zone / 60), 2);
        if (
          std === stdISO8601ColonTZ ||
          std === stdNumColonTZ ||
          std === stdISO8601ColonSecondsTZ ||
          std === stdNumColonSecondsTZ
        )
          out += ':';
        if (std !== stdNumShortTZ && std !== stdISO8601ShortTZ) out += padInt(zone % 60, 2);
        if (
          std === stdISO8601SecondsTZ ||
          std === stdNumSecondsTz ||
          std === stdNumColonSecondsTZ ||
          std === stdISO8601ColonSecondsTZ
        ) {
          if (std === stdNumColonSecondsTZ || std === stdISO8601ColonSecondsTZ) out += ':';
          out += padInt(absoffset % 60, 2);
        }
        break;
      }
      case stdTZ: {
        if (dt.zoneName !== '') {
          out += dt.zoneName;
          break;
        }
        let zone = Math.trunc(offset / 60);
        if (zone < 0) {
          out += '-';
          zone = -zone;
        } else {
          out += '+';
        }
        out += padInt(Math.trunc(zone / 60), 2) + padInt(zone % 60, 2);
        break;
      }
      case stdFracSecond0:
      case stdFracSecond9:
        out += appendNano(nanos, std);
        break;
    }
  }
  return out;
}

function weekday(days: number): number {
  return (((days + 4) % 7) + 7) % 7;
}

/** Go's Time.String(): "2006-01-02 15:04:05.999999999 -0700 MST". */
export function goTimeString(dt: DateTime): string {
  return goTimeFormat(dt, '2006-01-02 15:04:05.999999999 -0700 MST');
}

function norm(hi: number, lo: number, base: number): [number, number] {
  let h = hi;
  let l = lo;
  if (l < 0) {
    const n = Math.floor((-l - 1) / base) + 1;
    h -= n;
    l += n * base;
  }
  if (l >= base) {
    const n = Math.floor(l / base);
    h += n;
    l -= n * base;
  }
  return [h, l];
}

/**
 * Go's time.Date(year, month, day, hour, min, sec, nsec, loc) with Go's normalisation of out-of-range
 * fields (month 13 → January next year, day 0 → last day of the previous month, ...). Sub-millisecond
 * nanoseconds are dropped.
 */
export function goTimeDate(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  nsec: number,
  loc: GoLocation,
): DateTime {
  const [y, m0] = norm(Math.trunc(year), month - 1, 12);
  const m = m0 + 1;
  const [sec0, ns] = norm(second, nsec, 1e9);
  const [min0, sec] = norm(minute, sec0, 60);
  const [h0, min] = norm(hour, min0, 60);
  const [d, h] = norm(day, h0, 24);
  const days = daysFromCivil(y, m, 1) + d - 1;
  const unixSec = days * 86400 + h * 3600 + min * 60 + sec - loc.offsetSeconds;
  const epochMs = unixSec * 1000 + Math.floor(ns / 1e6);
  if (!Number.isSafeInteger(epochMs)) throw new ValueRangeError('time.Date: date out of range');
  return new DateTime(epochMs, loc.offsetSeconds, loc.name);
}

function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (c >= 0x80 || c < 0x20) {
      for (const b of Buffer.from(ch, 'utf8')) out += '\\x' + b.toString(16).padStart(2, '0');
    } else {
      if (ch === '"' || ch === '\\') out += '\\';
      out += ch;
    }
  }
  return out + '"';
}

function parseError(
  layout: string,
  value: string,
  layoutElem: string,
  valueElem: string,
  message: string,
): never {
  if (message === '') {
    throw new ValueParseError(
      `parsing time ${goQuote(value)} as ${goQuote(layout)}: cannot parse ${goQuote(valueElem)} as ${goQuote(layoutElem)}`,
    );
  }
  throw new ValueParseError(`parsing time ${goQuote(value)}${message}`);
}

class Bad extends Error {}
const BAD = new Bad();

function getnum(s: string, fixed: boolean): [number, string] {
  if (!isDigitAt(s, 0)) throw BAD;
  if (!isDigitAt(s, 1)) {
    if (fixed) throw BAD;
    return [s.charCodeAt(0) - 48, s.slice(1)];
  }
  return [(s.charCodeAt(0) - 48) * 10 + (s.charCodeAt(1) - 48), s.slice(2)];
}

function getnum3(s: string, fixed: boolean): [number, string] {
  let n = 0;
  let i = 0;
  for (; i < 3 && isDigitAt(s, i); i++) n = n * 10 + (s.charCodeAt(i) - 48);
  if (i === 0 || (fixed && i !== 3)) throw BAD;
  return [n, s.slice(i)];
}

function cutspace(s: string): string {
  let i = 0;
  while (i < s.length && s[i] === ' ') i++;
  return s.slice(i);
}

function skip(value: string, prefix: string): string {
  let v = value;
  let p = prefix;
  while (p.length > 0) {
    if (p[0] === ' ') {
      if (v.length > 0 && v[0] !== ' ') throw BAD;
      p = cutspace(p);
      v = cutspace(v);
      continue;
    }
    if (v.length === 0 || v[0] !== p[0]) throw BAD;
    p = p.slice(1);
    v = v.slice(1);
  }
  return v;
}

/** Go's atoi in the time package: optional sign, digits only. */
function atoi(s: string): number {
  let t = s;
  let neg = false;
  if (t.length > 0 && (t[0] === '-' || t[0] === '+')) {
    neg = t[0] === '-';
    t = t.slice(1);
  }
  if (!/^[0-9]+$/.test(t)) throw BAD;
  const x = Number(t);
  return neg ? -x : x;
}

function lookup(tab: readonly string[], val: string): [number, string] {
  for (let i = 0; i < tab.length; i++) {
    const v = tab[i] ?? '';
    if (val.length >= v.length && val.slice(0, v.length).toLowerCase() === v.toLowerCase()) {
      // Go's match() folds ASCII letters only; names are ASCII, and a non-letter must match exactly.
      if (asciiFoldEqual(val.slice(0, v.length), v)) return [i, val.slice(v.length)];
    }
  }
  throw BAD;
}

function asciiFoldEqual(a: string, b: string): boolean {
  for (let i = 0; i < a.length; i++) {
    let c1 = a.charCodeAt(i);
    let c2 = b.charCodeAt(i);
    if (c1 !== c2) {
      c1 |= 32;
      c2 |= 32;
      if (c1 !== c2 || c1 < 97 || c1 > 122) return false;
    }
  }
  return true;
}

function commaOrPeriod(c: string | undefined): boolean {
  return c === '.' || c === ',';
}

function parseNanoseconds(value: string, nbytes: number): number {
  if (!commaOrPeriod(value[0])) throw BAD;
  let v = value;
  let n = nbytes;
  if (n > 10) {
    v = v.slice(0, 10);
    n = 10;
  }
  let ns = atoi(v.slice(1, n));
  for (let i = 0; i < 10 - n; i++) ns *= 10;
  return ns;
}

function leadingIntLen(s: string): number {
  let i = 0;
  while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
  return i;
}

function parseSignedOffset(value: string): number {
  const sign = value[0];
  if (sign !== '-' && sign !== '+') return 0;
  const n = leadingIntLen(value.slice(1));
  if (n === 0 || n > 18) return 0;
  const x = Number(value.slice(1, 1 + n));
  if (x > 23) return 0;
  return 1 + n;
}

function parseTimeZone(value: string): number {
  if (value.length < 3) return 0;
  if (value.length >= 4 && (value.slice(0, 4) === 'ChST' || value.slice(0, 4) === 'MeST')) return 4;
  if (value.slice(0, 3) === 'GMT') {
    const rest = value.slice(3);
    return rest.length === 0 ? 3 : 3 + parseSignedOffset(rest);
  }
  if (value[0] === '+' || value[0] === '-') return parseSignedOffset(value);
  let nUpper = 0;
  for (; nUpper < 6; nUpper++) {
    if (nUpper >= value.length) break;
    const c = value.charCodeAt(nUpper);
    if (c < 65 || c > 90) break;
  }
  switch (nUpper) {
    case 5:
      return value[4] === 'T' ? 5 : 0;
    case 4:
      return value[3] === 'T' || value.slice(0, 4) === 'WITA' ? 4 : 0;
    case 3:
      return 3;
    default:
      return 0;
  }
}

/**
 * Go's time.Parse(layout, value). Without zone information in the layout the result is UTC. A numeric
 * offset of zero, or the abbreviation UTC, gives a UTC time; other offsets give a fixed zone (named by
 * the parsed abbreviation if the layout has one, else unnamed); an unknown abbreviation alone gives a
 * zero-offset zone of that name (GMT+h → offset h hours), as Go does with a UTC local zone.
 */
export function goTimeParse(layout: string, value: string): DateTime {
  const alayout = layout;
  const avalue = value;
  let rangeErr = '';
  let amSet = false;
  let pmSet = false;
  let year = 0;
  let month = -1;
  let day = -1;
  let yday = -1;
  let hour = 0;
  let min = 0;
  let sec = 0;
  let nsec = 0;
  let zUTC = false;
  let zoneOffset = -1;
  let zoneName = '';
  let lay = layout;
  let val = value;

  for (;;) {
    const { prefix, std, suffix } = nextStdChunk(lay);
    const stdstr = lay.slice(prefix.length, lay.length - suffix.length);
    try {
      val = skip(val, prefix);
    } catch {
      return parseError(alayout, avalue, prefix, val, '');
    }
    if (std === 0) {
      if (val.length !== 0) parseError(alayout, avalue, '', val, `: extra text: ${goQuote(val)}`);
      break;
    }
    lay = suffix;
    const hold = val;
    try {
      switch (std & stdMask) {
        case stdYear: {
          if (val.length < 2) throw BAD;
          const p = val.slice(0, 2);
          val = val.slice(2);
          year = atoi(p);
          year += year >= 69 ? 1900 : 2000;
          break;
        }
        case stdLongYear: {
          if (val.length < 4 || !isDigitAt(val, 0)) throw BAD;
          const p = val.slice(0, 4);
          val = val.slice(4);
          year = atoi(p);
          break;
        }
        case stdMonth:
          [month, val] = lookup(SHORT_MONTH_NAMES, val);
          month++;
          break;
        case stdLongMonth:
          [month, val] = lookup(LONG_MONTH_NAMES, val);
          month++;
          break;
        case stdNumMonth:
        case stdZeroMonth:
          [month, val] = getnum(val, std === stdZeroMonth);
          if (month <= 0 || 12 < month) rangeErr = 'month';
          break;
        case stdWeekDay:
          [, val] = lookup(SHORT_DAY_NAMES, val);
          break;
        case stdLongWeekDay:
          [, val] = lookup(LONG_DAY_NAMES, val);
          break;
        case stdDay:
        case stdUnderDay:
        case stdZeroDay:
          if (std === stdUnderDay && val.length > 0 && val[0] === ' ') val = val.slice(1);
          [day, val] = getnum(val, std === stdZeroDay);
          break;
        case stdUnderYearDay:
        case stdZeroYearDay:
          for (let i = 0; i < 2; i++) {
            if (std === stdUnderYearDay && val.length > 0 && val[0] === ' ') val = val.slice(1);
          }
          [yday, val] = getnum3(val, std === stdZeroYearDay);
          break;
        case stdHour:
          [hour, val] = getnum(val, false);
          if (hour < 0 || 24 <= hour) rangeErr = 'hour';
          break;
        case stdHour12:
        case stdZeroHour12:
          [hour, val] = getnum(val, std === stdZeroHour12);
          if (hour < 0 || 12 < hour) rangeErr = 'hour';
          break;
        case stdMinute:
        case stdZeroMinute:
          [min, val] = getnum(val, std === stdZeroMinute);
          if (min < 0 || 60 <= min) rangeErr = 'minute';
          break;
        case stdSecond:
        case stdZeroSecond: {
          [sec, val] = getnum(val, std === stdZeroSecond);
          if (sec < 0 || 60 <= sec) {
            rangeErr = 'second';
            break;
          }
          if (val.length >= 2 && commaOrPeriod(val[0]) && isDigitAt(val, 1)) {
            const next = nextStdChunk(lay).std & stdMask;
            if (next === stdFracSecond0 || next === stdFracSecond9) break;
            let n = 2;
            while (n < val.length && isDigitAt(val, n)) n++;
            nsec = parseNanoseconds(val, n);
            val = val.slice(n);
          }
          break;
        }
        case stdPM: {
          if (val.length < 2) throw BAD;
          const p = val.slice(0, 2);
          val = val.slice(2);
          if (p === 'PM') pmSet = true;
          else if (p === 'AM') amSet = true;
          else throw BAD;
          break;
        }
        case stdpm: {
          if (val.length < 2) throw BAD;
          const p = val.slice(0, 2);
          val = val.slice(2);
          if (p === 'pm') pmSet = true;
          else if (p === 'am') amSet = true;
          else throw BAD;
          break;
        }
        case stdISO8601TZ:
        case stdISO8601ShortTZ:
        case stdISO8601ColonTZ:
        case stdISO8601SecondsTZ:
        case stdISO8601ColonSecondsTZ:
        case stdNumTZ:
        case stdNumShortTZ:
        case stdNumColonTZ:
        case stdNumSecondsTz:
        case stdNumColonSecondsTZ: {
          const s = std & stdMask;
          if (
            (s === stdISO8601TZ ||
              s === stdISO8601ShortTZ ||
              s === stdISO8601ColonTZ ||
              s === stdISO8601SecondsTZ ||
              s === stdISO8601ColonSecondsTZ) &&
            val.length >= 1 &&
            val[0] === 'Z'
          ) {
            val = val.slice(1);
            zUTC = true;
            break;
          }
          let sign: string;
          let hh: string;
          let mm: string;
          let ss: string;
          if (s === stdISO8601ColonTZ || s === stdNumColonTZ) {
            if (val.length < 6 || val[3] !== ':') throw BAD;
            [sign, hh, mm, ss, val] = [val.slice(0, 1), val.slice(1, 3), val.slice(4, 6), '00', val.slice(6)];
          } else if (s === stdNumShortTZ || s === stdISO8601ShortTZ) {
            if (val.length < 3) throw BAD;
            [sign, hh, mm, ss, val] = [val.slice(0, 1), val.slice(1, 3), '00', '00', val.slice(3)];
          } else if (s === stdISO8601ColonSecondsTZ || s === stdNumColonSecondsTZ) {
            if (val.length < 9 || val[3] !== ':' || val[6] !== ':') throw BAD;
            [sign, hh, mm, ss, val] = [
              val.slice(0, 1),
              val.slice(1, 3),
              val.slice(4, 6),
              val.slice(7, 9),
              val.slice(9),
            ];
          } else if (s === stdISO8601SecondsTZ || s === stdNumSecondsTz) {
            if (val.length < 7) throw BAD;
            [sign, hh, mm, ss, val] = [
              val.slice(0, 1),
              val.slice(1, 3),
              val.slice(3, 5),
              val.slice(5, 7),
              val.slice(7),
            ];
          } else {
            if (val.length < 5) throw BAD;
            [sign, hh, mm, ss, val] = [val.slice(0, 1), val.slice(1, 3), val.slice(3, 5), '00', val.slice(5)];
          }
          const hr = getnum(hh, true)[0];
          const mi = getnum(mm, true)[0];
          const se = getnum(ss, true)[0];
          if (hr > 24) rangeErr = 'time zone offset hour';
          if (mi > 60) rangeErr = 'time zone offset minute';
          if (se > 60) rangeErr = 'time zone offset second';
          zoneOffset = (hr * 60 + mi) * 60 + se;
          if (sign === '-') zoneOffset = -zoneOffset;
          else if (sign !== '+') throw BAD;
          break;
        }
        case stdTZ: {
          if (val.length >= 3 && val.slice(0, 3) === 'UTC') {
            zUTC = true;
            val = val.slice(3);
            break;
          }
          const n = parseTimeZone(val);
          if (n === 0) throw BAD;
          zoneName = val.slice(0, n);
          val = val.slice(n);
          break;
        }
        case stdFracSecond0: {
          const ndigit = 1 + digitsLen(std);
          if (val.length < ndigit) throw BAD;
          nsec = parseNanoseconds(val, ndigit);
          val = val.slice(ndigit);
          break;
        }
        case stdFracSecond9: {
          if (val.length < 2 || !commaOrPeriod(val[0]) || !isDigitAt(val, 1)) break;
          let i = 0;
          while (i + 1 < val.length && isDigitAt(val, i + 1)) i++;
          nsec = parseNanoseconds(val, 1 + i);
          val = val.slice(1 + i);
          break;
        }
      }
    } catch (e) {
      if (!(e instanceof Bad)) throw e;
      if (rangeErr !== '') parseError(alayout, avalue, stdstr, val, `: ${rangeErr} out of range`);
      parseError(alayout, avalue, stdstr, hold, '');
    }
    if (rangeErr !== '') parseError(alayout, avalue, stdstr, val, `: ${rangeErr} out of range`);
  }
  if (pmSet && hour < 12) hour += 12;
  else if (amSet && hour === 12) hour = 0;

  if (yday >= 0) {
    let d = 0;
    let m = 0;
    if (isLeap(year)) {
      if (yday === 31 + 29) {
        m = 2;
        d = 29;
      } else if (yday > 31 + 29) {
        yday--;
      }
    }
    if (yday < 1 || yday > 365) parseError(alayout, avalue, '', val, ': day-of-year out of range');
    if (m === 0) {
      m = Math.floor((yday - 1) / 31) + 1;
      if ((DAYS_BEFORE[m] ?? 0) < yday) m++;
      d = yday - (DAYS_BEFORE[m - 1] ?? 0);
    }
    if (month >= 0 && month !== m) parseError(alayout, avalue, '', val, ': day-of-year does not match month');
    month = m;
    if (day >= 0 && day !== d) parseError(alayout, avalue, '', val, ': day-of-year does not match day');
    day = d;
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  if (day < 1 || day > daysIn(month, year)) parseError(alayout, avalue, '', val, ': day out of range');

  if (zUTC) return goTimeDate(year, month, day, hour, min, sec, nsec, GoLocation.UTC);
  if (zoneOffset !== -1) {
    if (zoneOffset === 0 && (zoneName === '' || zoneName === 'UTC')) {
      return goTimeDate(year, month, day, hour, min, sec, nsec, GoLocation.UTC);
    }
    return goTimeDate(year, month, day, hour, min, sec, nsec, new GoLocation(zoneName, zoneOffset));
  }
  if (zoneName !== '') {
    // Go keeps the wall clock read as UTC and only attaches the zone (no offset applied to the instant).
    let offset = 0;
    if (zoneName.length > 3 && zoneName.slice(0, 3) === 'GMT') offset = atoi(zoneName.slice(3)) * 3600;
    const t = goTimeDate(year, month, day, hour, min, sec, nsec, GoLocation.UTC);
    return new DateTime(t.epochMs, offset, zoneName);
  }
  return goTimeDate(year, month, day, hour, min, sec, nsec, GoLocation.UTC);
}

/** DateTime → microseconds since 0001-01-01T00:00:00Z (the datetime index key of Capillaries). */
export function microsSinceYear1(dt: DateTime): bigint {
  return (BigInt(dt.epochMs) - BigInt(DateTime.ZERO_EPOCH_MS)) * 1000n;
}
