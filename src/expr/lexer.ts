import { ExprError } from './errors.js';

/** Tokens of Go's scanner that can appear in an expression. */
export type TokenKind =
  'ident' | 'int' | 'float' | 'imag' | 'char' | 'string' | 'op' | 'keyword' | 'semi' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** literal text, operator, or '\n' for an automatically inserted semicolon */
  readonly text: string;
  readonly pos: number;
  readonly end: number;
}

export const GO_KEYWORDS: ReadonlySet<string> = new Set([
  'break',
  'case',
  'chan',
  'const',
  'continue',
  'default',
  'defer',
  'else',
  'fallthrough',
  'for',
  'func',
  'go',
  'goto',
  'if',
  'import',
  'interface',
  'map',
  'package',
  'range',
  'return',
  'select',
  'struct',
  'switch',
  'type',
  'var',
]);

// Longest first, so that a prefix never wins over a longer operator.
const OPERATORS = [
  '&^=',
  '<<=',
  '>>=',
  '...',
  '&&',
  '||',
  '<-',
  '++',
  '--',
  '==',
  '!=',
  '<=',
  '>=',
  ':=',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
  '<<',
  '>>',
  '&^',
  '+',
  '-',
  '*',
  '/',
  '%',
  '&',
  '|',
  '^',
  '<',
  '>',
  '=',
  '!',
  '~',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  ';',
  '.',
  ':',
];

const LETTER_RE = /[\p{L}_]/u;
const DIGIT_RE = /\p{Nd}/u;

function isLetter(ch: string): boolean {
  return ch >= 'a'
    ? ch <= 'z' || (ch > '\x7f' && LETTER_RE.test(ch))
    : (ch >= 'A' && ch <= 'Z') || ch === '_';
}

function isIdentPart(ch: string): boolean {
  return isLetter(ch) || (ch >= '0' && ch <= '9') || (ch > '\x7f' && DIGIT_RE.test(ch));
}

function isDecimal(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

function isHex(ch: string | undefined): boolean {
  return ch !== undefined && /^[0-9a-fA-F]$/.test(ch);
}

/**
 * Go's scanner for one expression, including automatic semicolon insertion: a newline after an
 * identifier, literal, `)`, `]` or `}` becomes a `semi` token (text "\n"), which the parser then rejects
 * if more of the expression follows, as go/parser.ParseExpr does.
 */
export function tokenize(src: string): Token[] {
  const toks: Token[] = [];
  let i = 0;
  let insertSemi = false;
  const fail = (msg: string, pos: number): never => {
    throw new ExprError(msg, pos, src, 'EXPR_SYNTAX');
  };
  const push = (kind: TokenKind, start: number, end: number, text = src.slice(start, end)): void => {
    toks.push({ kind, text, pos: start, end });
    insertSemi =
      kind !== 'op' && kind !== 'keyword' && kind !== 'semi'
        ? true
        : text === ')' || text === ']' || text === '}' || text === '++' || text === '--';
  };
  while (i < src.length) {
    const ch = src[i] ?? '';
    if (ch === '\n') {
      if (insertSemi) {
        toks.push({ kind: 'semi', text: '\n', pos: i, end: i + 1 });
        insertSemi = false;
      }
      i++;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === '/' && src[i + 1] === '/') {
      let j = i + 2;
      while (j < src.length && src[j] !== '\n') j++;
      i = j; // the newline (if any) is handled above
      continue;
    }
    if (ch === '/' && src[i + 1] === '*') {
      const close = src.indexOf('*/', i + 2);
      if (close < 0) fail('comment not terminated', i);
      const hasNewline = src.slice(i, close).includes('\n');
      if (hasNewline && insertSemi) {
        toks.push({ kind: 'semi', text: '\n', pos: i, end: close + 2 });
        insertSemi = false;
      }
      i = close + 2;
      continue;
    }
    const start = i;
    if (isLetter(ch)) {
      let j = i + 1;
      while (j < src.length) {
        const c = String.fromCodePoint(src.codePointAt(j) ?? 0);
        if (!isIdentPart(c)) break;
        j += c.length;
      }
      const word = src.slice(start, j);
      push(GO_KEYWORDS.has(word) ? 'keyword' : 'ident', start, j);
      if (GO_KEYWORDS.has(word)) {
        insertSemi = word === 'break' || word === 'continue' || word === 'fallthrough' || word === 'return';
      }
      i = j;
      continue;
    }
    if (ch > '\x7f') {
      const cp = String.fromCodePoint(src.codePointAt(i) ?? 0);
      if (isLetter(cp)) {
        let j = i + cp.length;
        while (j < src.length) {
          const c = String.fromCodePoint(src.codePointAt(j) ?? 0);
          if (!isIdentPart(c)) break;
          j += c.length;
        }
        push('ident', start, j);
        i = j;
        continue;
      }
      fail(
        `invalid character ${JSON.stringify(cp)} (U+${(cp.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')})`,
        i,
      );
    }
    if (isDecimal(ch) || (ch === '.' && isDecimal(src[i + 1]))) {
      const { kind, end } = scanNumber(src, i, fail);
      push(kind, start, end);
      i = end;
      continue;
    }
    if (ch === '"') {
      let j = i + 1;
      for (;;) {
        const c = src[j];
        if (c === undefined || c === '\n') fail('string literal not terminated', start);
        if (c === '"') break;
        if (c === '\\') {
          j = scanEscape(src, j, '"', fail);
          continue;
        }
        j++;
      }
      push('string', start, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === '`') {
      const close = src.indexOf('`', i + 1);
      if (close < 0) fail('raw string literal not terminated', start);
      push('string', start, close + 1);
      i = close + 1;
      continue;
    }
    if (ch === "'") {
      let j = i + 1;
      let n = 0;
      for (;;) {
        const c = src[j];
        if (c === undefined || c === '\n') fail('rune literal not terminated', start);
        if (c === "'") break;
        n++;
        if (c === '\\') {
          j = scanEscape(src, j, "'", fail);
          continue;
        }
        j += String.fromCodePoint(src.codePointAt(j) ?? 0).length;
      }
      if (n !== 1) fail('illegal rune literal', start);
      push('char', start, j + 1);
      i = j + 1;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op === undefined) fail(`invalid character ${JSON.stringify(ch)}`, i);
    push('op', start, start + (op as string).length);
    i += (op as string).length;
  }
  // Go's scanner also inserts a semicolon at the end of input; text '' marks it as the end.
  if (insertSemi) toks.push({ kind: 'semi', text: '', pos: src.length, end: src.length });
  toks.push({ kind: 'eof', text: '', pos: src.length, end: src.length });
  return toks;
}

/** Validate one escape sequence starting at the backslash at `i`; returns the index after it. */
function scanEscape(src: string, i: number, quote: string, fail: (m: string, p: number) => never): number {
  const c = src[i + 1];
  if (c === undefined) return fail('escape sequence not terminated', i);
  if ('abfnrtv\\'.includes(c) || c === quote) return i + 2;
  let n: number;
  let base: number;
  let max: number;
  if (c >= '0' && c <= '7') {
    n = 3;
    base = 8;
    max = 255;
  } else if (c === 'x') {
    n = 2;
    base = 16;
    max = 255;
  } else if (c === 'u') {
    n = 4;
    base = 16;
    max = 0x10ffff;
  } else if (c === 'U') {
    n = 8;
    base = 16;
    max = 0x10ffff;
  } else {
    return fail(`unknown escape sequence \\${c} (write the text in a raw string: \`...\`)`, i);
  }
  let j = c >= '0' && c <= '7' ? i + 1 : i + 2;
  let v = 0;
  for (let k = 0; k < n; k++, j++) {
    const d = src[j];
    const digit = d === undefined ? NaN : parseInt(d, base);
    if (Number.isNaN(digit) || (base === 8 && !(d !== undefined && d >= '0' && d <= '7'))) {
      return fail(`illegal character in escape sequence`, j);
    }
    v = v * base + digit;
  }
  if (v > max || (v >= 0xd800 && v < 0xe000 && c !== 'x' && !(c >= '0' && c <= '7'))) {
    return fail('escape sequence is invalid Unicode code point', i);
  }
  return j;
}

function scanNumber(
  src: string,
  start: number,
  fail: (m: string, p: number) => never,
): { kind: 'int' | 'float' | 'imag'; end: number } {
  let i = start;
  let kind: 'int' | 'float' | 'imag' = 'int';
  let base = 10;
  let prefix = '';
  const digits = (b: number): void => {
    while (i < src.length) {
      const c = src[i];
      if (c === '_' || (b === 16 ? isHex(c) : isDecimal(c))) i++;
      else break;
    }
  };
  if (src[i] !== '.') {
    if (src[i] === '0') {
      const p = (src[i + 1] ?? '').toLowerCase();
      if (p === 'x' || p === 'o' || p === 'b') {
        prefix = p;
        base = p === 'x' ? 16 : p === 'o' ? 8 : 2;
        i += 2;
      } else {
        prefix = '0';
        base = 8;
      }
    }
    digits(base === 16 ? 16 : 10);
  }
  if (src[i] === '.') {
    kind = 'float';
    if (prefix === 'o' || prefix === 'b')
      fail(`invalid radix point in ${prefix === 'o' ? 'octal' : 'binary'} literal`, i);
    i++;
    digits(base === 16 ? 16 : 10);
  }
  const e = (src[i] ?? '').toLowerCase();
  if (e === 'e' || e === 'p') {
    if (e === 'e' && prefix !== '' && prefix !== '0')
      fail(`'${src[i]}' exponent requires decimal mantissa`, i);
    if (e === 'p' && prefix !== 'x') fail(`'${src[i]}' exponent requires hexadecimal mantissa`, i);
    kind = 'float';
    i++;
    if (src[i] === '+' || src[i] === '-') i++;
    const ds = i;
    digits(10);
    if (i === ds || src.slice(ds, i).replace(/_/g, '') === '') fail('exponent has no digits', i);
  } else if (prefix === 'x' && kind === 'float') {
    fail('hexadecimal mantissa requires a p exponent', i);
  }
  if (src[i] === 'i') {
    kind = 'imag';
    i++;
  }
  const lit = src.slice(start, i);
  // Digit validity (Go reports these as scanner errors).
  const body = prefix === 'x' || prefix === 'o' || prefix === 'b' ? lit.slice(2) : lit;
  if (prefix !== '' && prefix !== '0' && /^[._]*(?:[pP].*)?i?$/.test(body)) {
    fail(
      `${prefix === 'x' ? 'hexadecimal' : prefix === 'o' ? 'octal' : 'binary'} literal has no digits`,
      start,
    );
  }
  if (prefix === 'b' && /[2-9]/.test(body.replace(/i$/, ''))) fail('invalid digit in binary literal', start);
  if (prefix === 'o' && /[89]/.test(body.replace(/i$/, ''))) fail('invalid digit in octal literal', start);
  if (prefix === '0' && kind === 'int' && /[89]/.test(lit)) fail(`invalid digit in octal literal`, start);
  if (lit.includes('_') && !underscoresSeparateDigits(lit))
    fail("'_' must separate successive digits", start);
  return { kind, end: i };
}

function underscoresSeparateDigits(lit: string): boolean {
  const s = lit.replace(/i$/, '');
  let i = 0;
  let saw = '^';
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && /[xXoObB]/.test(s[1] ?? '')) {
    i = 2;
    saw = '0';
    hex = /[xX]/.test(s[1] ?? '');
  }
  for (; i < s.length; i++) {
    const c = s[i] ?? '';
    if (isDecimal(c) || (hex && isHex(c))) {
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
