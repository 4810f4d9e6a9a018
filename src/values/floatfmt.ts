/**
 * Go strconv.FormatFloat(x, fmt, prec, 64) for fmt 'e' 'E' 'f' 'g' 'G' 'b' 'x' 'X'.
 * Shortest forms (prec < 0) use the engine's shortest round-trip digits (the same digits Go picks);
 * fixed precisions round the exact binary value half to even, as Go does.
 */

interface Digits {
  /** significant digits, no leading zeros, no trailing zeros ('' for zero) */
  d: string;
  /** decimal point position: value = 0.d × 10^dp */
  dp: number;
}

const view = new DataView(new ArrayBuffer(8));

function decompose(x: number): { neg: boolean; mant: bigint; exp: number; biasedExp: number } {
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const neg = hi >>> 31 === 1;
  const biasedExp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (biasedExp === 0) {
    exp = 1 - 1075;
  } else {
    mant |= 1n << 52n;
    exp = biasedExp - 1075;
  }
  return { neg, mant, exp, biasedExp };
}

const pow5Cache: bigint[] = [1n];
function pow5(k: number): bigint {
  for (let i = pow5Cache.length; i <= k; i++) pow5Cache.push((pow5Cache[i - 1] ?? 1n) * 5n);
  return pow5Cache[k] ?? 1n;
}

function trimZeros(d: Digits): Digits {
  let n = d.d.length;
  while (n > 0 && d.d.charCodeAt(n - 1) === 48) n--;
  if (n === 0) return { d: '', dp: 0 };
  return n === d.d.length ? d : { d: d.d.slice(0, n), dp: d.dp };
}

/** The exact decimal expansion of |x| (x finite). */
export function exactDigits(x: number): Digits {
  if (x === 0) return { d: '', dp: 0 };
  const { mant, exp } = decompose(x);
  let m = mant;
  let e = exp;
  while ((m & 1n) === 0n && e < 0) {
    m >>= 1n;
    e++;
  }
  if (e >= 0) {
    const s = (m << BigInt(e)).toString();
    return trimZeros({ d: s, dp: s.length });
  }
  const k = -e;
  const s = (m * pow5(k)).toString();
  return trimZeros({ d: s, dp: s.length - k });
}

/** Shortest digits that round-trip (|x| finite, non-zero). */
export function shortestDigits(x: number): Digits {
  if (x === 0) return { d: '', dp: 0 };
  const s = Math.abs(x).toExponential();
  const eIdx = s.indexOf('e');
  const d = s.slice(0, eIdx).replace('.', '');
  return trimZeros({ d, dp: Number(s.slice(eIdx + 1)) + 1 });
}

/** Go's decimal.Round(nd) on exact digits: half to even. */
function roundDigits(a: Digits, nd: number): Digits {
  if (nd < 0 || nd >= a.d.length) return a;
  const c = a.d.charCodeAt(nd);
  let up: boolean;
  if (c === 53 /* '5' */ && nd + 1 === a.d.length) {
    up = nd > 0 && (a.d.charCodeAt(nd - 1) - 48) % 2 !== 0;
  } else {
    up = c >= 53;
  }
  if (!up) return trimZeros({ d: a.d.slice(0, nd), dp: a.dp });
  let i = nd - 1;
  while (i >= 0 && a.d.charCodeAt(i) === 57) i--;
  if (i < 0) return { d: '1', dp: a.dp + 1 };
  return { d: a.d.slice(0, i) + String.fromCharCode(a.d.charCodeAt(i) + 1), dp: a.dp };
}

function fmtE(neg: boolean, d: Digits, prec: number, fmt: string): string {
  let out = neg ? '-' : '';
  out += d.d.length !== 0 ? d.d[0] : '0';
  if (prec > 0) {
    out += '.';
    const m = Math.min(d.d.length, prec + 1);
    let i = 1;
    if (i < m) {
      out += d.d.slice(i, m);
      i = m;
    }
    for (; i <= prec; i++) out += '0';
  }
  out += fmt;
  let exp = d.dp - 1;
  if (d.d.length === 0) exp = 0;
  let sign = '+';
  if (exp < 0) {
    sign = '-';
    exp = -exp;
  }
  out += sign;
  out += exp < 10 ? '0' + exp : String(exp);
  return out;
}

function fmtF(neg: boolean, d: Digits, prec: number): string {
  let out = neg ? '-' : '';
  if (d.dp > 0) {
    const m = Math.min(d.d.length, d.dp);
    out += d.d.slice(0, m);
    if (m < d.dp) out += '0'.repeat(d.dp - m);
  } else {
    out += '0';
  }
  if (prec > 0) {
    out += '.';
    for (let i = 0; i < prec; i++) {
      const j = d.dp + i;
      out += j >= 0 && j < d.d.length ? d.d[j] : '0';
    }
  }
  return out;
}

function formatDigits(shortest: boolean, neg: boolean, digs: Digits, prec: number, fmt: string): string {
  switch (fmt) {
    case 'e':
    case 'E':
      return fmtE(neg, digs, prec, fmt);
    case 'f':
      return fmtF(neg, digs, prec);
    case 'g':
    case 'G': {
      let eprec = prec;
      const nd = digs.d.length;
      if (eprec > nd && nd >= digs.dp) eprec = nd;
      if (shortest) eprec = 6;
      const exp = digs.dp - 1;
      if (exp < -4 || exp >= eprec) {
        let p = prec;
        if (p > nd) p = nd;
        return fmtE(neg, digs, p - 1, fmt === 'g' ? 'e' : 'E');
      }
      let p = prec;
      if (p > digs.dp) p = nd;
      return fmtF(neg, digs, Math.max(p - digs.dp, 0));
    }
    default:
      return '%' + fmt;
  }
}

function fmtB(neg: boolean, mant: bigint, exp: number): string {
  const e = exp;
  return (neg ? '-' : '') + mant.toString() + 'p' + (e >= 0 ? '+' : '') + String(e);
}

function fmtX(prec: number, fmt: string, neg: boolean, mant0: bigint, exp0: number): string {
  // exp0 is the exponent of the integer mantissa (value = mant0 × 2^exp0); Go's exp is exp0 + 52.
  let mant = mant0;
  let exp = exp0 + 52;
  if (mant === 0n) exp = 0;
  const MASK64 = (1n << 64n) - 1n;
  mant = (mant << 8n) & MASK64; // 60 - 52
  while (mant !== 0n && (mant & (1n << 60n)) === 0n) {
    mant = (mant << 1n) & MASK64;
    exp--;
  }
  if (prec >= 0 && prec < 15) {
    const shift = BigInt(prec * 4);
    const extra = (mant << shift) & ((1n << 60n) - 1n);
    mant >>= 60n - shift;
    if ((extra | (mant & 1n)) > 1n << 59n) mant++;
    mant = (mant << (60n - shift)) & MASK64;
    if ((mant & (1n << 61n)) !== 0n) {
      mant >>= 1n;
      exp++;
    }
  }
  const hex = fmt === 'X' ? '0123456789ABCDEF' : '0123456789abcdef';
  let out = neg ? '-' : '';
  out += '0' + fmt + String(Number((mant >> 60n) & 1n));
  mant = (mant << 4n) & MASK64;
  if (prec < 0 && mant !== 0n) {
    out += '.';
    while (mant !== 0n) {
      out += hex[Number((mant >> 60n) & 15n)];
      mant = (mant << 4n) & MASK64;
    }
  } else if (prec > 0) {
    out += '.';
    for (let i = 0; i < prec; i++) {
      out += hex[Number((mant >> 60n) & 15n)];
      mant = (mant << 4n) & MASK64;
    }
  }
  out += fmt === 'X' ? 'P' : 'p';
  let e = exp;
  let sign = '+';
  if (e < 0) {
    sign = '-';
    e = -e;
  }
  out += sign + (e < 10 ? '0' + e : String(e));
  return out;
}

/** strconv.FormatFloat(x, fmt, prec, 64). */
export function formatGoFloat(x: number, fmt: string, prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  if (fmt === 'b' || fmt === 'x' || fmt === 'X') {
    const { mant, exp } = decompose(x);
    return fmt === 'b' ? fmtB(neg, mant, exp) : fmtX(prec, fmt, neg, mant, exp);
  }
  const shortest = prec < 0;
  let p = prec;
  if (x === 0) return formatDigits(shortest, neg, { d: '', dp: 0 }, p, fmt);
  let digs: Digits;
  if (shortest) {
    digs = shortestDigits(x);
    switch (fmt) {
      case 'e':
      case 'E':
        p = Math.max(digs.d.length - 1, 0);
        break;
      case 'f':
        p = Math.max(digs.d.length - digs.dp, 0);
        break;
      case 'g':
      case 'G':
        p = digs.d.length;
        break;
    }
  } else {
    if (fmt === 'f' && prec <= 100) {
      const fast = fastFixed(x, prec);
      if (fast !== undefined) return fast;
    }
    digs = exactDigits(x);
    switch (fmt) {
      case 'e':
      case 'E':
        digs = roundDigits(digs, p + 1);
        break;
      case 'f':
        digs = roundDigits(digs, digs.dp + p);
        break;
      case 'g':
      case 'G':
        if (p === 0) p = 1;
        digs = roundDigits(digs, p);
        break;
    }
  }
  return formatDigits(shortest, neg, digs, p, fmt);
}

/**
 * toFixed rounds the exact value too, but breaks exact ties away from zero where Go breaks them to even.
 * A tie at `prec` digits is only possible when the binary fraction has exactly prec+1 decimal digits,
 * i.e. when x × 2^(prec+1) is an integer but x × 2^prec is not; then fall back to the exact path.
 */
function fastFixed(x: number, prec: number): string | undefined {
  const ax = Math.abs(x);
  if (ax >= 1e21) return undefined;
  // Multiplying by a power of two is exact here (ax < 1e21, prec <= 100).
  if (Number.isInteger(ax * 2 ** (prec + 1)) && !Number.isInteger(ax * 2 ** prec)) return undefined;
  const s = ax.toFixed(prec);
  return x < 0 || Object.is(x, -0) ? '-' + s : s;
}

/** Go's %v of a float64: strconv 'g' with the shortest representation (1e+06, 1.1, 1e-05). */
export function shortestFloatString(x: number): string {
  return formatGoFloat(x, 'g', -1);
}
