import {
  DateTime,
  Decimal,
  decimalAdd,
  decimalDiv,
  decimalFromFloat,
  decimalFromInt,
  decimalMul,
  decimalNeg,
  decimalSub,
  roundDecimal2,
} from '../values/index.js';
import type { ExprType, Rt } from './types.js';

/** Conversion used by numeric promotion (int/goint → float/decimal2, decimal2 → float, goint → int). */
export function converter(from: ExprType, to: ExprType): (v: Rt) => Rt {
  if (from === to || ((from === 'goint' || from === 'int') && (to === 'int' || to === 'goint')))
    return (v) => v;
  if (to === 'float') {
    if (from === 'int' || from === 'goint') return (v) => Number(v as bigint);
    if (from === 'decimal2') return (v) => (v as Decimal).toNumber();
  }
  if (to === 'decimal2') {
    if (from === 'int' || from === 'goint') return (v) => decimalFromInt(v as bigint);
    if (from === 'float') return (v) => decimalFromFloat(v as number);
  }
  throw new Error(`no conversion from ${from} to ${to}`);
}

/** Go string comparison as Capillaries does it: surrounding `"` characters stripped, then byte order. */
export function stripQuotes(s: string): string {
  if (s.length === 0 || (s.charCodeAt(0) !== 34 && s.charCodeAt(s.length - 1) !== 34)) return s;
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) === 34) a++;
  while (b > a && s.charCodeAt(b - 1) === 34) b--;
  return s.slice(a, b);
}

/** Compare two strings by their UTF-8 bytes (= code point order), as Go does. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // UTF-16 order differs from code point order only between surrogates and U+E000..U+FFFF.
      const xs = x >= 0xd800 && x <= 0xdfff;
      const ys = y >= 0xd800 && y <= 0xdfff;
      if (xs !== ys) return xs ? 1 : -1;
      return x < y ? -1 : 1;
    }
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function cmpResult(op: string, c: number): boolean {
  switch (op) {
    case '==':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    default:
      return c >= 0;
  }
}

/** Compare two values of the same operand type; floats follow IEEE (NaN compares false except !=). */
export function compareValues(operand: string, op: string, a: Rt, b: Rt): boolean {
  switch (operand) {
    case 'int': {
      const x = a as bigint;
      const y = b as bigint;
      return cmpResult(op, x < y ? -1 : x > y ? 1 : 0);
    }
    case 'float': {
      const x = a as number;
      const y = b as number;
      switch (op) {
        case '==':
          return x === y;
        case '!=':
          return x !== y;
        case '<':
          return x < y;
        case '<=':
          return x <= y;
        case '>':
          return x > y;
        default:
          return x >= y;
      }
    }
    case 'decimal2':
      return cmpResult(op, (a as Decimal).cmp(b as Decimal));
    case 'string':
      return cmpResult(op, compareUtf8(stripQuotes(a as string), stripQuotes(b as string)));
    case 'bool':
      return op === '==' ? a === b : a !== b;
    default: {
      const x = (a as DateTime).epochMs;
      const y = (b as DateTime).epochMs;
      return cmpResult(op, x < y ? -1 : x > y ? 1 : 0);
    }
  }
}

export function decimalArith(op: string, a: Decimal, b: Decimal, round: boolean): Decimal {
  let r: Decimal;
  switch (op) {
    case '+':
      r = decimalAdd(a, b);
      break;
    case '-':
      r = decimalSub(a, b);
      break;
    case '*':
      r = decimalMul(a, b);
      break;
    default:
      r = decimalDiv(a, b);
  }
  return round ? roundDecimal2(r) : r;
}

export { decimalNeg };
