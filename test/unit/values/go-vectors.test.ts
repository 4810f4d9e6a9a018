import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DateTime,
  Decimal,
  GoInt,
  GoLocation,
  GoMonth,
  decimalAdd,
  decimalDiv,
  decimalFromFloat,
  decimalMul,
  decimalSub,
  decimalToFixed,
  decimalToFloat,
  decimalToGoString,
  decimalToInt64,
  goSprintf,
  goTimeDate,
  goTimeFormat,
  goTimeParse,
  parseGoDecimal,
  parseGoFloat,
  parseGoInt,
  roundDecimal2,
  type FmtArg,
} from '../../../src/values/index.js';
import { goSprintfGeneral } from '../../../src/values/sprintf.js';

// Reference vectors produced by Go itself (fixtures/gen/main.go): fmt, strconv, time, shopspring/decimal.
const here = dirname(fileURLToPath(import.meta.url));
interface Arg {
  t: string;
  v: string;
  ms?: number;
  off?: number;
  name?: string;
}
interface Vectors {
  sprintf: { format: string; args: Arg[] | null; out: string }[];
  floats: { bits: string; out: Record<string, string> }[];
  timeFormat: { ms: number; off: number; name: string; layout: string; out: string }[];
  timeParse: { layout: string; value: string; ms: number; off: number; name: string; err?: string }[];
  decimal: Record<
    'A' | 'B' | 'Add' | 'Sub' | 'Mul' | 'Div' | 'ARound2' | 'AFixed2' | 'AIntPart' | 'AFloat',
    string
  >[];
  parse: { kind: string; in: string; out: string; err?: string }[];
  timeDate: { args: number[]; off: number; ms: number; text: string }[];
}
const vectors = JSON.parse(readFileSync(join(here, 'fixtures', 'go-vectors.json'), 'utf8')) as Vectors;

function bitsToFloat(hex: string): number {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigUint64(0, BigInt('0x' + hex));
  return dv.getFloat64(0);
}

function floatToBits(x: number): string {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  return dv.getBigUint64(0).toString(16);
}

function decodeArg(a: Arg): FmtArg {
  switch (a.t) {
    case 'int64':
      return BigInt(a.v);
    case 'int':
      return new GoInt(BigInt(a.v));
    case 'float64':
      return bitsToFloat(a.v);
    case 'string':
      return a.v;
    case 'bool':
      return a.v === 'true';
    case 'decimal':
      return new Decimal(a.v);
    case 'month':
      return new GoMonth(Number(a.v));
    case 'time':
      return new DateTime(a.ms ?? 0, a.off ?? 0, a.name ?? '');
    default:
      throw new Error(`unknown arg type ${a.t}`);
  }
}

describe('goSprintf matches Go fmt.Sprintf', () => {
  it.each(vectors.sprintf.map((c) => [c.format, c]))('%s', (_f, c) => {
    const args = (c.args ?? []).map(decodeArg);
    expect(goSprintf(c.format, args)).toBe(c.out);
  });

  it('formats a location and the %!v(MISSING) of an absent argument', () => {
    expect(goSprintf('%v|%s', [GoLocation.UTC, new GoLocation('EST', -18000)])).toBe('UTC|EST');
    expect(goSprintf('%v %v', ['a'])).toBe('a %!v(MISSING)');
  });
});

describe('float formatting matches strconv', () => {
  const cases = vectors.floats.flatMap((c) =>
    Object.entries(c.out).map(([fmt, out]) => [fmt, c.bits, out] as const),
  );
  it(`${cases.length} float/verb combinations`, () => {
    const failures: string[] = [];
    for (const [fmt, bits, out] of cases) {
      const got = goSprintf(fmt, [bitsToFloat(bits)]);
      if (got !== out) failures.push(`${fmt} of ${bitsToFloat(bits)}: got ${got}, want ${out}`);
    }
    expect(failures.slice(0, 20)).toEqual([]);
  });
});

describe('Go time layouts', () => {
  it(`formats ${vectors.timeFormat.length} instants like time.Format`, () => {
    const failures: string[] = [];
    for (const c of vectors.timeFormat) {
      const got = goTimeFormat(new DateTime(c.ms, c.off, c.name), c.layout);
      if (got !== c.out) failures.push(`${c.layout} @${c.ms}: got ${got}, want ${c.out}`);
    }
    expect(failures.slice(0, 20)).toEqual([]);
  });

  it.each(vectors.timeParse.map((c) => [c.layout, c.value, c]))(
    'parses %j / %j like time.Parse',
    (_l, _v, c) => {
      if (c.err !== undefined) {
        expect(() => goTimeParse(c.layout, c.value)).toThrow(c.err);
        return;
      }
      const t = goTimeParse(c.layout, c.value);
      expect({ ms: t.epochMs, off: t.offsetSeconds, name: t.zoneName }).toEqual({
        ms: c.ms,
        off: c.off,
        name: c.name,
      });
    },
  );
});

describe('time.Date normalises out-of-range fields like Go', () => {
  it(`${vectors.timeDate.length} dates`, () => {
    const failures: string[] = [];
    for (const c of vectors.timeDate) {
      const [y, mo, d, h, mi, s, ns] = c.args as [number, number, number, number, number, number, number];
      const t = goTimeDate(y, mo, d, h, mi, s, ns, new GoLocation('Z', c.off));
      const text = goTimeFormat(t, '2006-01-02 15:04:05.000 -0700');
      if (t.epochMs !== c.ms || text !== c.text)
        failures.push(`${c.args.join(',')}: got ${text}, want ${c.text}`);
    }
    expect(failures.slice(0, 20)).toEqual([]);
  });
});

describe('decimal arithmetic matches shopspring/decimal', () => {
  it(`${vectors.decimal.length} operand pairs`, () => {
    const failures: string[] = [];
    const check = (what: string, got: string, want: string): void => {
      if (got !== want) failures.push(`${what}: got ${got}, want ${want}`);
    };
    for (const c of vectors.decimal) {
      const a = parseGoDecimal(c.A);
      const b = parseGoDecimal(c.B);
      check(`${c.A}+${c.B}`, decimalToGoString(decimalAdd(a, b)), c.Add);
      check(`${c.A}-${c.B}`, decimalToGoString(decimalSub(a, b)), c.Sub);
      check(`${c.A}*${c.B}`, decimalToGoString(decimalMul(a, b)), c.Mul);
      if (c.Div === 'panic') expect(() => decimalDiv(a, b)).toThrow('decimal division by 0');
      else check(`${c.A}/${c.B}`, decimalToGoString(decimalDiv(a, b)), c.Div);
      check(`round2(${c.A})`, decimalToGoString(roundDecimal2(a)), c.ARound2);
      check(`fixed2(${c.A})`, decimalToFixed(a, 2), c.AFixed2);
      check(`intpart(${c.A})`, decimalToInt64(a).toString(), c.AIntPart);
      check(`float(${c.A})`, floatToBits(decimalToFloat(a)), c.AFloat);
    }
    expect(failures.slice(0, 20)).toEqual([]);
  });
});

describe('text parsing matches strconv / shopspring', () => {
  it.each(vectors.parse.map((c) => [c.kind, c.in, c]))('%s %j', (kind, input, c) => {
    switch (kind) {
      case 'int':
        if (c.err !== undefined) expect(() => parseGoInt(input)).toThrow(c.err);
        else expect(parseGoInt(input).toString()).toBe(c.out);
        break;
      case 'float':
        if (c.err !== undefined) expect(() => parseGoFloat(input)).toThrow(c.err);
        else if (input.toLowerCase() === 'nan') expect(parseGoFloat(input)).toBeNaN();
        else expect(floatToBits(parseGoFloat(input))).toBe(c.out);
        break;
      case 'decimal':
        if (c.err !== undefined) expect(() => parseGoDecimal(input)).toThrow(c.err);
        else expect(decimalToGoString(parseGoDecimal(input))).toBe(c.out);
        break;
      case 'decimalFromFloat':
        expect(decimalToGoString(decimalFromFloat(bitsToFloat(input)))).toBe(c.out);
        break;
      default:
        throw new Error(`unknown kind ${kind}`);
    }
  });
});

describe('the cached plan of a format prints exactly what the general path prints', () => {
  it('on every vector and on seeded random formats', () => {
    const failures: string[] = [];
    const check = (format: string, args: FmtArg[]): void => {
      const a = goSprintf(format, args);
      const b = goSprintfGeneral(format, args);
      if (a !== b) failures.push(`${JSON.stringify(format)}: plan ${a} vs general ${b}`);
    };
    for (const c of vectors.sprintf) check(c.format, (c.args ?? []).map(decodeArg));
    let seed = 1;
    const rnd = (): number => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    const pieces = [
      '%',
      'd',
      's',
      'v',
      'f',
      '.',
      '2',
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
      'e',
      'g',
    ];
    const pool: FmtArg[] = [
      5n,
      -1.5,
      'str',
      true,
      new Decimal('1.25'),
      new DateTime(0),
      new GoInt(3n),
      new GoMonth(2),
    ];
    for (let n = 0; n < 5000; n++) {
      let f = '';
      for (let i = Math.floor(rnd() * 10); i > 0; i--) f += pieces[Math.floor(rnd() * pieces.length)];
      check(
        f,
        pool.filter(() => rnd() < 0.4),
      );
    }
    expect(failures.slice(0, 20)).toEqual([]);
  });
});
