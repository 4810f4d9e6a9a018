import { GoScanFormat, goParseFloat, goTrimSpace } from '../../../src/io/index.js';

// Expected values below were produced by Go 1.26 (strconv / fmt.Sscanf).

describe('strconv.ParseFloat', () => {
  test.each<[string, number]>([
    ['1', 1],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['5.', 5],
    ['-.5', -0.5],
    ['+1', 1],
    ['1e3', 1000],
    ['1E+3', 1000],
    ['inf', Infinity],
    ['-Inf', -Infinity],
    ['+infinity', Infinity],
    ['Infinity', Infinity],
    ['0x1p-2', 0.25],
    ['0x1.8p1', 3],
    ['0x1P+2', 4],
    ['0x_1p0', 1],
    ['1_000', 1000],
    ['1_000.5', 1000.5],
    ['1e-400', 0],
    ['4.9e-324', 5e-324],
    ['00012', 12],
    ['1.7976931348623157e308', 1.7976931348623157e308],
    ['1.5e+3_0', 1.5e30],
  ])('%j → %p', (s, v) => {
    expect(goParseFloat(s)).toBe(v);
  });

  test('NaN', () => {
    expect(goParseFloat('NaN')).toBeNaN();
    expect(goParseFloat('nan')).toBeNaN();
  });

  test.each([
    '1e',
    '0x10',
    '_1',
    '1__0',
    ' 1',
    '1 ',
    '',
    '.',
    '-',
    '0b101',
    'infinit',
    '+nan',
    '1_e5',
    '0x.p1',
  ])('rejects %j', (s) => {
    expect(() => goParseFloat(s)).toThrow(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax`);
  });

  test('out of range', () => {
    expect(() => goParseFloat('1e400')).toThrow('strconv.ParseFloat: parsing "1e400": value out of range');
  });
});

test('strings.TrimSpace', () => {
  expect(goTrimSpace(' \t\u00a0a b\r\n\u3000')).toBe('a b');
  expect(goTrimSpace('\ufeffx')).toBe('\ufeffx');
  expect(goTrimSpace('   ')).toBe('');
});

describe('fmt.Sscanf into int64', () => {
  test.each<[string, string, bigint]>([
    ['%d', '12abc', 12n],
    ['%d', '  12', 12n],
    ['%d', '-12', -12n],
    ['%d', '+12', 12n],
    ['%d', '1_2', 1n],
    ['%d', '12.5', 12n],
    ['$%d', '$12', 12n],
    ['%d items', '12 items', 12n],
    ['%3d', '12345', 123n],
    ['%v', '0x1f', 31n],
    ['%d', '0x1f', 0n],
    ['%x', '1f', 31n],
    ['%d%%', '5%', 5n],
    ['%d ', '12', 12n],
  ])('%j %j', (f, s, v) => expect(new GoScanFormat(f, 'int').scanInt(s)).toBe(v));

  test.each<[string, string, string]>([
    ['%d', 'abc', 'expected integer'],
    ['%d', '', 'EOF'],
    ['$%d', '12', 'input does not match format'],
    ['%d items', '12', 'unexpected EOF'],
    ['%d', '99999999999999999999', 'strconv.ParseInt: parsing "99999999999999999999": value out of range'],
    [' %d', '12', 'expected space in input to match format'],
    ['%d', '\n12', 'unexpected newline'],
  ])('%j %j fails: %s', (f, s, msg) => expect(() => new GoScanFormat(f, 'int').scanInt(s)).toThrow(msg));
});

describe('fmt.Sscanf into float64', () => {
  test.each<[string, string, number]>([
    ['%f', '1.5abc', 1.5],
    ['%f', '1.5', 1.5],
    ['%f', '1e3x', 1000],
    ['%f', 'inf', Infinity],
    ['%f', '-Infinity', -Infinity],
    ['%f', '1_0.5', 10.5],
    ['%f', '0x1p2', 4],
    ['%g', '2.5', 2.5],
    ['%e', '2.5', 2.5],
    ['%5f', '123.456', 123.4],
    ['%f', '12,345.67', 12],
    ['%f', '1.2.3', 1.2],
    ['%f', '+.5', 0.5],
    ['%f', '1p4', 16],
  ])('%j %j', (f, s, v) => expect(new GoScanFormat(f, 'float').scanFloat(s)).toBe(v));

  test('nan', () => expect(new GoScanFormat('%f', 'float').scanFloat('nan')).toBeNaN());

  test.each<[string, string, string]>([
    ['%f', '1e', 'strconv.ParseFloat: parsing "1e": invalid syntax'],
    ['%f', '.', 'strconv.ParseFloat: parsing ".": invalid syntax'],
    ['%f', '0x1.8', 'strconv.ParseFloat: parsing "0x1.8": invalid syntax'],
    ['%f', '$1', 'strconv.ParseFloat: parsing "": invalid syntax'],
    ['%f', '-', 'strconv.ParseFloat: parsing "-": invalid syntax'],
    ['%f', '1.79e309', 'value out of range'],
  ])('%j %j fails: %s', (f, s, msg) => expect(() => new GoScanFormat(f, 'float').scanFloat(s)).toThrow(msg));
});

describe('Sscanf formats are checked when compiled', () => {
  test.each<[string, 'int' | 'float', string]>([
    ['%f', 'int', "bad verb '%f' for integer"],
    ['%d', 'float', "bad verb '%d' for float64"],
    ['%s', 'float', "bad verb '%s' for float64"],
    ['abc', 'int', 'exactly one conversion verb (found 0)'],
    ['%d %d', 'int', 'exactly one conversion verb (found 2)'],
    ['%d%', 'int', 'missing verb'],
  ])('%j for %s', (f, t, msg) => expect(() => new GoScanFormat(f, t)).toThrow(msg));
});

test('the %d / %f fast paths agree with the general scanner', () => {
  const outcome = (f: () => unknown): string => {
    try {
      return String(f());
    } catch (err) {
      return `error: ${(err as Error).message}`;
    }
  };
  const ints = [
    '12abc',
    '-12',
    '+12',
    '1_2',
    '00012',
    '9223372036854775808',
    '+',
    '-x',
    'abc',
    '',
    ' 7',
    '12.5',
  ];
  for (const s of ints) {
    expect(outcome(() => new GoScanFormat('%d', 'int').scanInt(s))).toBe(
      outcome(() => new GoScanFormat('%1000d', 'int').scanInt(s)),
    );
  }
  const floats = [
    '1.5abc',
    '1e3x',
    '1e',
    '.',
    '.5',
    '-.5e-3',
    '1_0.5',
    '1p4',
    '0.25',
    '0x1p2',
    '_1',
    '+',
    'inf',
    '1.2.3',
    '1e400',
  ];
  for (const s of floats) {
    expect(outcome(() => new GoScanFormat('%f', 'float').scanFloat(s))).toBe(
      outcome(() => new GoScanFormat('%1000f', 'float').scanFloat(s)),
    );
  }
});
