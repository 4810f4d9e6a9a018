import {
  DateTime,
  Decimal,
  INT64_MAX,
  INT64_MIN,
  addInt64,
  decimal2ThroughFloat,
  decimalDiv,
  decimalFromFloat,
  decimalToGoString,
  divInt64,
  floatToInt64,
  goRound,
  goTimeDate,
  goTimeFormat,
  goTimeParse,
  GoLocation,
  goValueString,
  isValueOfType,
  microsSinceYear1,
  mulInt64,
  negInt64,
  parseDefaultValue,
  remInt64,
  roundDecimal2,
  sameType,
  valueTypeOf,
  ValueParseError,
  zeroValue,
  FIELD_TYPES,
} from '../../../src/values/index.js';

describe('zero values and types', () => {
  it.each(FIELD_TYPES.map((t) => [t]))('zeroValue(%s) has that type', (t) => {
    const z = zeroValue(t);
    expect(valueTypeOf(z)).toBe(t);
    expect(isValueOfType(z, t)).toBe(true);
  });

  it('distinguishes int from float and decimal', () => {
    expect(sameType(1n, 1)).toBe(false);
    expect(sameType(new Decimal(1), new Decimal('2.5'))).toBe(true);
    expect(valueTypeOf(DateTime.zero())).toBe('datetime');
    expect(goValueString(DateTime.zero())).toBe('0001-01-01 00:00:00 +0000 UTC');
  });
});

describe('int64 helpers wrap like Go', () => {
  it.each([
    ['MaxInt64 + 1', addInt64(INT64_MAX, 1n), INT64_MIN],
    ['MinInt64 * -1', mulInt64(INT64_MIN, -1n), INT64_MIN],
    ['-MinInt64', negInt64(INT64_MIN), INT64_MIN],
    ['MinInt64 / -1', divInt64(INT64_MIN, -1n), INT64_MIN],
    ['-7 / 2 truncates', divInt64(-7n, 2n), -3n],
    ['-7 % 2 keeps the dividend sign', remInt64(-7n, 2n), -1n],
    ['x / 0', divInt64(1n, 0n), undefined],
    ['x % 0', remInt64(1n, 0n), undefined],
  ])('%s', (_n, got, want) => {
    expect(got).toBe(want);
  });

  it.each([
    [1.9, 1n],
    [-1.9, -1n],
    [NaN, INT64_MIN],
    [1e19, INT64_MIN],
    [-1e19, INT64_MIN],
    [2 ** 53 + 2, 9007199254740994n],
  ])('float %p → int64 %p', (x, want) => {
    expect(floatToInt64(x)).toBe(want);
  });
});

describe('decimals', () => {
  it('rounds half away from zero', () => {
    expect(decimalToGoString(roundDecimal2(new Decimal('2.675')))).toBe('2.68');
    expect(decimalToGoString(roundDecimal2(new Decimal('-2.675')))).toBe('-2.68');
    expect(decimalToGoString(roundDecimal2(new Decimal('-0.001')))).toBe('0');
  });

  it('divides to 16 places and rounds the 17th digit away from zero', () => {
    expect(decimalToGoString(decimalDiv(new Decimal(2), new Decimal(3)))).toBe('0.6666666666666667');
    expect(decimalToGoString(decimalDiv(new Decimal(-1), new Decimal(3)))).toBe('-0.3333333333333333');
    expect(() => decimalDiv(new Decimal(1), new Decimal(0))).toThrow('decimal division by 0');
  });

  it('converts floats by their shortest representation and refuses NaN', () => {
    expect(decimalToGoString(decimalFromFloat(0.1 + 0.2))).toBe('0.30000000000000004');
    expect(() => decimalFromFloat(NaN)).toThrow('Cannot create a Decimal from NaN');
  });

  it('stores decimal2 through float64 as Capillaries does', () => {
    expect(decimalToGoString(decimal2ThroughFloat(new Decimal('1.005')))).toBe('1');
    expect(decimalToGoString(decimal2ThroughFloat(new Decimal('70.255')))).toBe('70.26');
    expect(goRound(-2.5)).toBe(-3);
    expect(goRound(2.5)).toBe(3);
  });
});

describe('parseDefaultValue (§1.8 default_value rules)', () => {
  it.each([
    ['int', ' 42 ', 42n],
    ['int', '', 0n],
    ['float', '1.5', 1.5],
    ['bool', 'T', true],
    ['bool', 'False', false],
    ['string', '  padded ', 'padded'],
  ] as const)('%s %j', (t, text, want) => {
    expect(parseDefaultValue(t, text)).toBe(want);
  });

  it('rounds decimal defaults through float to 2 places', () => {
    expect(decimalToGoString(parseDefaultValue('decimal2', '12.345') as Decimal)).toBe('12.35');
    expect(decimalToGoString(parseDefaultValue('decimal2', '-1') as Decimal)).toBe('-1');
  });

  it('parses datetime defaults with the 2006-01-02T15:04:05.000-07:00 layout', () => {
    const dt = parseDefaultValue('datetime', '2001-02-03T04:05:06.007+01:00') as DateTime;
    expect(dt.epochMs).toBe(Date.UTC(2001, 1, 3, 3, 5, 6, 7));
    expect(dt.offsetSeconds).toBe(3600);
    expect((parseDefaultValue('datetime', '') as DateTime).isZero()).toBe(true);
  });

  it('explains a bad default', () => {
    expect(() => parseDefaultValue('int', 'abc')).toThrow(ValueParseError);
    expect(() => parseDefaultValue('int', 'abc')).toThrow(
      'cannot use default value "abc" for type int: strconv.ParseInt: parsing "abc": invalid syntax',
    );
    expect(() => parseDefaultValue('bool', 'yes')).toThrow(
      'strconv.ParseBool: parsing "yes": invalid syntax',
    );
  });
});

describe('time helpers', () => {
  it('normalises time.Date fields like Go', () => {
    const t = goTimeDate(2020, 13, 32, 25, 61, 61, 1_500_000_000, GoLocation.UTC);
    expect(goTimeFormat(t, '2006-01-02 15:04:05.000')).toBe('2021-02-02 02:02:02.500');
    const z = goTimeDate(2020, 2, 0, 0, 0, 0, 0, new GoLocation('X', -3600));
    expect(goTimeFormat(z, '2006-01-02 15:04 MST -07:00')).toBe('2020-01-31 00:00 X -01:00');
  });

  it('counts microseconds since year 1', () => {
    expect(microsSinceYear1(DateTime.zero())).toBe(0n);
    expect(microsSinceYear1(new DateTime(0))).toBe(62135596800000000n);
  });

  it('round-trips layouts', () => {
    const layouts = [
      '2006-01-02 15:04:05',
      '2006-01-02T15:04:05.000-07:00',
      'Mon Jan _2 15:04:05.000 -0700 2006',
      'Monday, 02-Jan-06 3:04:05.999PM Z07:00',
    ];
    for (const l of layouts) {
      const t = goTimeParse('2006-01-02T15:04:05.000-07:00', '2019-03-04T05:06:07.089-02:00');
      const text = goTimeFormat(t, l);
      expect(goTimeFormat(goTimeParse(l, text), l)).toBe(text);
    }
  });
});
