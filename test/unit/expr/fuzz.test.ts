import {
  compileExpression,
  ExprError,
  interpretExpression,
  parseIndexDef,
  parseOrderDef,
  buildKey,
  type Env,
  type Scope,
} from '../../../src/expr/index.js';
import {
  DateTime,
  Decimal,
  GoInt,
  GoMonth,
  goSprintf,
  goTimeFormat,
  goTimeParse,
  ValueParseError,
  type FmtArg,
  type Value,
} from '../../../src/values/index.js';

/** mulberry32: small seeded PRNG so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const scope: Scope = {
  vars: {
    r: { i: 'int', f: 'float', d: 'decimal2', s: 'string', b: 'bool', t: 'datetime' },
    l: { i: 'int', d: 'decimal2', s: 'string' },
  },
  decimalRounding: true,
};

const FIELDS = ['r.i', 'r.f', 'r.d', 'r.s', 'r.b', 'r.t', 'l.i', 'l.d', 'l.s'];
const FUNCS = [
  'len',
  'string',
  'int',
  'float',
  'decimal2',
  'int.iif',
  'float.iif',
  'decimal2.iif',
  'string.iif',
  'time.iif',
  'math.Sqrt',
  'math.Round',
  'time.Parse',
  'time.Format',
  'time.Date',
  'time.FixedZone',
  'time.Unix',
  'time.UnixMilli',
  'time.DiffMilli',
  'time.Before',
  'time.After',
  're.MatchString',
  'strings.ReplaceAll',
  'fmt.Sprintf',
  'sum',
  'count',
  'nope',
];
const BINOPS = ['+', '-', '*', '/', '%', '==', '!=', '<', '<=', '>', '>=', '&&', '||', '&', '<<'];
const LITERALS = [
  '0',
  '1',
  '-1',
  '9223372036854775807',
  '9223372036854775808',
  '2.5',
  '0.0',
  '1e308',
  '"2006-01-02"',
  '"%d %s %v %.2f"',
  '"12"',
  '"1.5"',
  '""',
  '"\\"q\\""',
  '`a(b`',
  '`[a-z]+`',
  'true',
  'false',
  'time.UTC',
  'time.May',
];

function genExpr(rnd: () => number, depth: number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const r = rnd();
  if (depth <= 0 || r < 0.3) return rnd() < 0.5 ? pick(FIELDS) : pick(LITERALS);
  if (r < 0.45) return `${rnd() < 0.5 ? '-' : '!'}${genExpr(rnd, depth - 1)}`;
  if (r < 0.75) return `${genExpr(rnd, depth - 1)} ${pick(BINOPS)} ${genExpr(rnd, depth - 1)}`;
  if (r < 0.8) return `(${genExpr(rnd, depth - 1)})`;
  const n = Math.floor(rnd() * 4);
  const args = Array.from({ length: n }, () => genExpr(rnd, depth - 1));
  return `${pick(FUNCS)}(${args.join(', ')})`;
}

function envs(rnd: () => number): Env[] {
  const ints = [0n, 1n, -1n, 9223372036854775807n, -9223372036854775808n, 42n];
  const floats = [0, -0, 1.5, NaN, Infinity, -1e300, 5e-324];
  const decs = ['0', '-0.005', '12.345', '99999999999999999999.99'].map((d) => new Decimal(d));
  const strs = ['', '12', 'héllo', '"quoted"', '2006-01-02', '😀', '%d'];
  const times = [DateTime.zero(), new DateTime(0), new DateTime(1.6e12, -7200, '')];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  return Array.from({ length: 4 }, () => ({
    r: { i: pick(ints), f: pick(floats), d: pick(decs), s: pick(strs), b: rnd() < 0.5, t: pick(times) },
    l: { i: pick(ints), d: pick(decs), s: pick(strs) },
  }));
}

function same(a: Value, b: Value): boolean {
  if (a instanceof Decimal) return b instanceof Decimal && a.eq(b);
  if (a instanceof DateTime) {
    return (
      b instanceof DateTime &&
      a.epochMs === b.epochMs &&
      a.offsetSeconds === b.offsetSeconds &&
      a.zoneName === b.zoneName
    );
  }
  return (
    Object.is(a, b) || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b))
  );
}

type Outcome = { ok: true; v: Value } | { ok: false; msg: string };

function outcome(f: () => Value): Outcome {
  try {
    return { ok: true, v: f() };
  } catch (e) {
    if (!(e instanceof ExprError)) throw new Error(`non-ExprError thrown: ${String(e)}`, { cause: e });
    return { ok: false, msg: e.message };
  }
}

describe('fuzz: compile + eval only ever fail with ExprError, and agree with the interpreter', () => {
  it('random expression trees', () => {
    const rnd = prng(20240611);
    let compiled = 0;
    let evaluated = 0;
    for (let n = 0; n < 3000; n++) {
      const src = genExpr(rnd, 4);
      let c;
      try {
        c = compileExpression(src, scope);
      } catch (e) {
        if (!(e instanceof ExprError)) throw new Error(`compile of ${src} threw ${String(e)}`, { cause: e });
        continue;
      }
      compiled++;
      const interp = interpretExpression(src, scope);
      for (const env of envs(rnd)) {
        let a: Outcome;
        let b: Outcome;
        try {
          a = outcome(() => c.eval(env));
          b = outcome(() => interp(env));
        } catch (e) {
          throw new Error(`eval of ${src}: ${(e as Error).message}`, { cause: e });
        }
        if (a.ok) evaluated++;
        const agree = a.ok && b.ok ? same(a.v, b.v) : !a.ok && !b.ok && a.msg === b.msg;
        if (!agree)
          throw new Error(`compiled and interpreted differ for ${src}: ${JSON.stringify([a, b], replacer)}`);
      }
    }
    // The generator must exercise real evaluation, not only compile errors.
    expect(compiled).toBeGreaterThan(300);
    expect(evaluated).toBeGreaterThan(500);
  });

  it('random character soup', () => {
    const rnd = prng(7);
    const alphabet = 'ar.l.s()+-*/%!&|<>=,"`\'\\ \n\t0123456789eE._xXpPiλ😀[]{}:;^~';
    for (let n = 0; n < 3000; n++) {
      let src = '';
      const len = Math.floor(rnd() * 16);
      for (let i = 0; i < len; i++) src += alphabet[Math.floor(rnd() * alphabet.length)];
      try {
        compileExpression(src, { ...scope, aggregates: true }).eval(envs(rnd)[0] as Env);
      } catch (e) {
        if (!(e instanceof ExprError))
          throw new Error(`${JSON.stringify(src)} threw ${String(e)}`, { cause: e });
      }
      for (const parse of [parseIndexDef, parseOrderDef]) {
        try {
          const def = parse(src);
          buildKey(
            def,
            def.components.map(() => 'x'),
          );
        } catch (e) {
          if (!(e instanceof ExprError))
            throw new Error(`index ${JSON.stringify(src)} threw ${String(e)}`, { cause: e });
        }
      }
    }
  });
});

describe('fuzz: values layer', () => {
  it('goSprintf never throws on any format and arguments', () => {
    const rnd = prng(99);
    const pieces = [
      '%',
      'd',
      's',
      'v',
      'f',
      '.',
      '2',
      '*',
      '[',
      ']',
      '1',
      '-',
      '+',
      '#',
      '0',
      ' ',
      'x',
      'q',
      'T',
      'é',
      'z',
      '!',
    ];
    const args: FmtArg[] = [
      5n,
      -1.5,
      'str',
      true,
      new Decimal('1.25'),
      new DateTime(0),
      new GoInt(3n),
      new GoMonth(13),
    ];
    for (let n = 0; n < 5000; n++) {
      let f = '';
      for (let i = Math.floor(rnd() * 10); i > 0; i--) f += pieces[Math.floor(rnd() * pieces.length)];
      const a = args.filter(() => rnd() < 0.4);
      expect(typeof goSprintf(f, a)).toBe('string');
    }
  });

  it('goTimeParse fails only with ValueParseError; goTimeFormat never throws', () => {
    const rnd = prng(3);
    const pieces = [
      '2006',
      '01',
      '02',
      '15',
      '04',
      '05',
      '.000',
      '.999',
      'Z07:00',
      '-0700',
      'MST',
      'Jan',
      'Monday',
      'PM',
      ' ',
      '-',
      ':',
      '_2',
      '002',
      'x',
      '1',
      '9',
    ];
    for (let n = 0; n < 3000; n++) {
      let layout = '';
      let value = '';
      for (let i = Math.floor(rnd() * 6); i > 0; i--) layout += pieces[Math.floor(rnd() * pieces.length)];
      for (let i = Math.floor(rnd() * 6); i > 0; i--) value += pieces[Math.floor(rnd() * pieces.length)];
      expect(typeof goTimeFormat(new DateTime(Math.floor(rnd() * 4e12) - 2e12, 3600, ''), layout)).toBe(
        'string',
      );
      try {
        goTimeParse(layout, value);
      } catch (e) {
        expect(e).toBeInstanceOf(ValueParseError);
      }
    }
  });
});

function replacer(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? `${v}n` : v;
}
