import {
  compileExpression,
  ExprError,
  interpretExpression,
  WFMODEL_CONSTANTS,
  type Env,
  type Scope,
} from '../../../src/expr/index.js';
import { DateTime, Decimal, decimalToGoString, goTimeFormat, type Value } from '../../../src/values/index.js';

const scope: Scope = {
  vars: {
    r: {
      i: 'int',
      j: 'int',
      f: 'float',
      d: 'decimal2',
      e: 'decimal2',
      s: 'string',
      q: 'string',
      b: 'bool',
      t: 'datetime',
      u: 'datetime',
    },
    l: { value: 'decimal2', name: 'string' },
  },
};
const rounding: Scope = { ...scope, decimalRounding: true };

const env: Env = {
  r: {
    i: 7n,
    j: -3n,
    f: 2.5,
    d: new Decimal('10.555'),
    e: new Decimal('3'),
    s: 'héllo',
    q: '"quoted"',
    b: true,
    t: new DateTime(Date.UTC(2020, 0, 2, 3, 4, 5, 678)),
    u: new DateTime(Date.UTC(2020, 0, 2, 3, 4, 6, 0), 3600, 'CET'),
  },
  l: { value: new Decimal('1.25'), name: 'x' },
};

function show(v: Value): string {
  if (typeof v === 'bigint') return `int ${v}`;
  if (typeof v === 'number') return `float ${v}`;
  if (typeof v === 'string') return `string ${v}`;
  if (typeof v === 'boolean') return `bool ${v}`;
  if (v instanceof Decimal) return `decimal ${decimalToGoString(v)}`;
  return `time ${goTimeFormat(v, '2006-01-02T15:04:05.000Z07:00')}`;
}

function run(src: string, sc: Scope = scope): string {
  const c = compileExpression(src, sc);
  const got = show(c.eval(env));
  // The tree-walking interpreter must agree with the compiled closures.
  expect(show(interpretExpression(src, sc)(env))).toBe(got);
  return got;
}

function evalError(src: string, sc: Scope = scope): ExprError {
  const c = compileExpression(src, sc);
  try {
    c.eval(env);
  } catch (e) {
    if (e instanceof ExprError) return e;
    throw e;
  }
  throw new Error(`expected ${src} to fail`);
}

function compileError(src: string, sc: Scope = scope): ExprError {
  try {
    compileExpression(src, sc);
  } catch (e) {
    if (e instanceof ExprError) return e;
    throw e;
  }
  throw new Error(`expected ${src} not to compile`);
}

describe('literals', () => {
  it.each([
    ['42', 'int 42'],
    ['010', 'int 10'],
    ['9223372036854775807', 'int 9223372036854775807'],
    ['9223372036854775808', 'decimal 9223372036854775808'],
    ['1.5', 'float 1.5'],
    ['.5', 'float 0.5'],
    ['1e3', 'float 1000'],
    ['"a\\nb"', 'string a\\nb'],
    ['`raw\\d`', 'string raw\\d'],
    ['"\\"x\\""', 'string \\"x\\'],
    ['true', 'bool true'],
  ])('%s → %s', (src, want) => {
    expect(run(src)).toBe(want);
  });

  it.each([['0x1F'], ['1_000'], ['0o7'], ['0b1']])('rejects non-decimal integer %s', (src) => {
    expect(compileError(src).message).toContain('write integers in base 10');
  });
});

describe('arithmetic and coercion', () => {
  it.each([
    ['r.i + r.j', 'int 4'],
    ['r.i - r.j * 2', 'int 13'],
    ['r.i / 2', 'int 3'],
    ['-r.i / 2', 'int -3'],
    ['r.i % 4', 'int 3'],
    ['r.j % 2', 'int -1'],
    ['r.i + r.f', 'float 9.5'],
    ['r.i + r.d', 'decimal 17.555'],
    ['r.f + r.d', 'float 13.055'],
    ['r.d * r.e', 'decimal 31.665'],
    ['r.d / r.e', 'decimal 3.5183333333333333'],
    ['r.s + "!"', 'string héllo!'],
    ['9223372036854775807 + 1', 'int -9223372036854775808'],
    ['-9223372036854775807 - 2', 'int 9223372036854775807'],
    ['3037000500 * 3037000500', 'int -9223372036709301616'],
    ['r.f / 0', 'float Infinity'],
    ['-r.f / 0', 'float -Infinity'],
    ['len(r.s) + 0', 'int 6'],
    ['len(r.s) * 2.0', 'float 12'],
    ['-r.d', 'decimal -10.555'],
  ])('%s → %s', (src, want) => {
    expect(run(src)).toBe(want);
  });

  it('NaN from 0.0/0', () => {
    expect(compileExpression('r.f * 0 / 0', scope).eval(env)).toBeNaN();
  });

  it.each([
    ['r.d * r.e', 'decimal 31.67'],
    ['r.d + 0.001', 'float 10.556'],
    ['r.d / r.e', 'decimal 3.52'],
    ['decimal2(1) / decimal2(3) * decimal2(3)', 'decimal 0.99'],
    ['r.d', 'decimal 10.555'],
    ['-r.d', 'decimal -10.555'],
    ['decimal2(2.675) + decimal2(0)', 'decimal 2.68'],
    ['decimal2(-2.675) - decimal2(0)', 'decimal -2.68'],
  ])('with decimal rounding %s → %s', (src, want) => {
    expect(run(src, rounding)).toBe(want);
  });

  it.each([
    ['r.i / (r.j + 3)', 'integer divide by zero at 4'],
    ['r.i % 0', 'integer divide by zero at 4'],
    ['r.d / decimal2(0)', 'decimal division by 0 at 4'],
    ['false && r.i / 0 > 1', 'integer divide by zero at 13'],
    ['true || r.i % 0 > 1', 'integer divide by zero at 12'],
    ['int(r.s)', 'strconv.ParseInt: parsing "héllo": invalid syntax at 0'],
    ['decimal2(r.f / 0)', 'Cannot create a Decimal from +Inf at 0'],
    [
      'time.Parse("2006-01-02", r.s)',
      'parsing time "h\\xc3\\xa9llo" as "2006-01-02": cannot parse "h\\xc3\\xa9llo" as "2006" at 0',
    ],
  ])('run-time error %s', (src, msg) => {
    expect(evalError(src).message).toBe(msg);
  });

  it.each([
    ['r.s + 1', 'operator + needs two numbers or two strings, got string + int at 4'],
    ['r.f % 2', 'operator % is only defined for int, got float % int at 4'],
    ['r.d % r.e', 'operator % is only defined for int'],
    ['r.b + r.b', 'operator + needs two numbers or two strings'],
    ['r.i & 1', 'operator & is not supported'],
    ['r.i << 1', 'operator << is not supported'],
    ['-r.s', 'unary - needs a number, got string at 0'],
    ['!r.i', 'operator ! needs a bool operand, got int at 0'],
    ['r.i && r.b', 'operator && needs bool operands'],
    ['r.b < r.b', 'is not defined on bool'],
    ['r.s == 1', 'cannot compare different types'],
    ['time.UTC + 1', 'operator + needs two numbers'],
  ])('type error %s', (src, msg) => {
    expect(compileError(src).message).toContain(msg);
  });
});

describe('comparisons and logic', () => {
  it.each([
    ['r.i > r.j', 'bool true'],
    ['r.i == 7.0', 'bool true'],
    ['r.d > r.e', 'bool true'],
    ['r.d == decimal2("10.5550")', 'bool true'],
    ['r.f == 2.5 && r.b', 'bool true'],
    ['r.s < "i"', 'bool true'],
    ['"a" < "B"', 'bool false'],
    ['"é" > "z"', 'bool true'],
    ['"\\uFFFD" < "😀"', 'bool true'],
    ['r.q == "quoted"', 'bool true'],
    ['"\\"a" == "a\\""', 'bool false'],
    ['r.t < r.u', 'bool true'],
    ['r.t == r.t', 'bool true'],
    ['r.b != false', 'bool true'],
    ['!(r.i > 1) || r.i >= 7', 'bool true'],
    ['len(r.s) == 6', 'bool true'],
  ])('%s → %s', (src, want) => {
    expect(run(src)).toBe(want);
  });
});

describe('built-in functions', () => {
  it.each([
    ['len("héllo")', 'int 6'],
    ['string(r.i)', 'string 7'],
    ['string(r.f)', 'string 2.5'],
    ['string(1000000.0)', 'string 1e+06'],
    ['string(1.1)', 'string 1.1'],
    ['string(decimal2("999.00"))', 'string 999'],
    ['string(r.d)', 'string 10.555'],
    ['string(r.b)', 'string true'],
    ['string(r.u)', 'string 2020-01-02 04:04:06 +0100 CET'],
    [
      'string(time.Date(2001, time.January, 1, 1, 1, 1, 100000000, time.FixedZone("", -7200)))',
      'string 2001-01-01 01:01:01.1 -0200 -0200',
    ],
    ['string(time.March)', 'string March'],
    ['string(time.UTC)', 'string UTC'],
    ['string(len(r.s))', 'string 6'],
    ['int("-42")', 'int -42'],
    ['int(r.b)', 'int 1'],
    ['int(-2.9)', 'int -2'],
    ['int(decimal2("-2.9"))', 'int -2'],
    ['int(1e300)', 'int -9223372036854775808'],
    ['float("1e3")', 'float 1000'],
    ['float(r.d)', 'float 10.555'],
    ['float(false)', 'float 0'],
    ['decimal2("1.50")', 'decimal 1.5'],
    ['decimal2(0.1)', 'decimal 0.1'],
    ['decimal2(1.0/3)', 'decimal 0.3333333333333333'],
    ['decimal2(r.i)', 'decimal 7'],
    ['int.iif(r.b, 1, 2)', 'int 1'],
    ['float.iif(!r.b, 1.0, 2.0)', 'float 2'],
    ['decimal2.iif(r.b, r.d, r.e)', 'decimal 10.555'],
    ['string.iif(r.b, "y", "n")', 'string y'],
    ['time.iif(false, r.t, r.u)', 'time 2020-01-02T04:04:06.000+01:00'],
    ['math.Sqrt(16)', 'float 4'],
    ['math.Round(-2.5)', 'float -3'],
    ['math.Round(r.d)', 'float 11'],
    ['time.Parse("2006-01-02 15:04:05", "2017-09-26 10:53:50")', 'time 2017-09-26T10:53:50.000Z'],
    [
      'time.Parse("2006-01-02T15:04:05.000-07:00", "2017-09-26T10:53:50.123+02:00")',
      'time 2017-09-26T10:53:50.123+02:00',
    ],
    ['time.Format(r.t, "Mon Jan _2 15:04:05.000 2006")', 'string Thu Jan  2 03:04:05.678 2020'],
    ['time.Date(2020, time.February, 30, 25, 0, 0, 0, time.UTC)', 'time 2020-03-02T01:00:00.000Z'],
    ['time.Unix(r.t)', 'int 1577934245'],
    ['time.UnixMilli(r.t)', 'int 1577934245678'],
    ['time.DiffMilli(r.u, r.t)', 'int 322'],
    ['time.Before(r.t, r.u)', 'bool true'],
    ['time.After(r.t, r.u)', 'bool false'],
    ['re.MatchString(`h.l+o$`, r.s)', 'bool true'],
    ['re.MatchString(`^\\w+$`, r.s)', 'bool false'],
    ['re.MatchString("(?i)HÉ", r.s)', 'bool true'],
    ['re.MatchString(r.s, "xhéllox")', 'bool true'],
    ['strings.ReplaceAll(r.s, "l", "L")', 'string héLLo'],
    ['strings.ReplaceAll("ab", "", "-")', 'string -a-b-'],
    [
      'fmt.Sprintf("%05d|%s|%v|%.2f|%d|%t", r.i, r.d, r.f, r.f, len(r.s), r.b)',
      'string 00007|10.555|2.5|2.50|6|true',
    ],
    ['fmt.Sprintf("%s %v", r.s)', 'string héllo %!v(MISSING)'],
    ['fmt.Sprintf("%d", r.s)', 'string %!d(string=héllo)'],
    ['fmt.Sprintf("%10s|%-10s|", r.s, "x")', 'string      héllo|x         |'],
    ['fmt.Sprintf("%v %d", time.May, time.May)', 'string May 5'],
    ['fmt.Sprintf("%s", "a", 1)', 'string a%!(EXTRA int64=1)'],
  ])('%s → %s', (src, want) => {
    expect(run(src)).toBe(want);
  });

  it('time.Now() is the current time', () => {
    const before = Date.now();
    const v = compileExpression('time.Now()', scope).eval(env) as DateTime;
    expect(v.epochMs).toBeGreaterThanOrEqual(before);
    expect(v.epochMs).toBeLessThanOrEqual(Date.now());
  });

  it.each([
    ['len(r.i)', 'argument 1 of len must be string, got int at 4'],
    ['len()', 'len takes 1 argument, got 0 at 0'],
    ['int(r.t)', 'int() cannot convert datetime at 4'],
    ['int.iif(r.b, 1, 2.0)', 'argument 3 of int.iif(bool, int, int) must be int, got float at 16'],
    ['int.iif(r.b, len(r.s), 2)', 'must be int, got Go int'],
    ['time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)', 'argument 2 of time.Date must be a month'],
    ['time.Format("2006", r.t)', 'argument 1 of time.Format must be datetime, got string'],
    ['fmt.Sprintf("x")', 'fmt.Sprintf needs a format and at least one argument'],
    ['re.MatchString(`(?<=a)b`, r.s)', 'invalid regular expression'],
    ['re.MatchString(`a{1001}`, r.s)', 'invalid regular expression'],
    ['foo(1)', 'unknown function foo at 0'],
    ['tme.Parse("a", "b")', 'unknown function tme.Parse (did you mean time.Parse?)'],
    ['time.Janury', 'unknown name time.Janury (did you mean time.January?)'],
    ['l.valu', 'unknown field l.valu (did you mean l.value?) at 0'],
    ['w.x', 'w.x: w.* fields are not available in this expression (allowed here: r.*, l.*)'],
    ['x', 'unknown identifier x: fields are written alias.field, e.g. r.x at 0'],
    ['r', 'r must be followed by a field name'],
    [
      'sum(l.value)',
      'aggregate function sum() is only allowed in w.fields of a table_lookup_table node with group: true',
    ],
    ['r.s(1)', 'r.s is a field, not a function'],
    ['f(1)(2)', 'only named functions can be called'],
  ])('error %s', (src, msg) => {
    expect(compileError(src).message).toContain(msg);
  });
});

describe('scopes', () => {
  it('resolves wfmodel constants from the scope', () => {
    const dep: Scope = {
      vars: { nrs: { run_is_current: 'bool', run_status: 'int', node_status: 'int', run_id: 'int' } },
      constants: { wfmodel: WFMODEL_CONSTANTS },
    };
    const c = compileExpression(
      'nrs.run_is_current == true && (nrs.run_status == wfmodel.RunStart || nrs.run_status == wfmodel.RunNone) && nrs.node_status == wfmodel.NodeBatchNone',
      dep,
    );
    expect(c.eval({ nrs: { run_is_current: true, run_status: 1n, node_status: 0n, run_id: 3n } })).toBe(true);
    expect(c.fields).toEqual([
      { alias: 'nrs', field: 'run_is_current' },
      { alias: 'nrs', field: 'run_status' },
      { alias: 'nrs', field: 'node_status' },
    ]);
    expect(() => compileExpression('wfmodel.RunStrat == 1', dep)).toThrow('(did you mean wfmodel.RunStart?)');
  });

  it('accepts bare identifiers only when asked (py_calc)', () => {
    const py: Scope = { vars: { '': { x: 'int' }, r: { a: 'int' } }, bareIdentifiers: true };
    expect(compileExpression('x + r.a', py).eval({ '': { x: 1n }, r: { a: 2n } })).toBe(3n);
    expect(() => compileExpression('y', py)).toThrow('unknown identifier y');
  });

  it('reports missing and mistyped row values as ExprErrors', () => {
    const c = compileExpression('r.i + 1', scope);
    expect(() => c.eval({ r: {} })).toThrow('no value for r.i at 0');
    expect(() => c.eval({ r: { i: 1 } })).toThrow('r.i should be int but the row has float 1 at 0');
  });

  it('lists the fields read, deduplicated', () => {
    expect(compileExpression('r.i + r.i * l.value', scope).fields).toEqual([
      { alias: 'r', field: 'i' },
      { alias: 'l', field: 'value' },
    ]);
  });

  it('types Go-only results', () => {
    expect(compileExpression('len(r.s)', scope).type).toBe('goint');
    expect(compileExpression('time.March', scope).type).toBe('month');
    expect(compileExpression('time.UTC', scope)).toMatchObject({ type: 'location' });
    expect(compileExpression('time.UTC', scope).eval(env)).toBe('UTC');
  });
});
