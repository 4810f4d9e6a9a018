import {
  buildKey,
  compareKeys,
  ExprError,
  parseIndexDef,
  parseOrderDef,
  validateIndexDef,
} from '../../../src/expr/index.js';
import { DateTime, Decimal, type Value } from '../../../src/values/index.js';

const one = (v: Value, mods = ''): string =>
  buildKey(parseIndexDef(`non_unique(k${mods ? `(${mods})` : ''})`), [v]);
const z = (n: number): string => '0'.repeat(n);

describe('index and order definitions', () => {
  it('parses components with defaults and modifiers', () => {
    expect(parseIndexDef('unique(a, b(desc, ignore_case, 128), c(8))')).toEqual({
      unique: true,
      components: [
        { field: 'a', desc: false, caseSensitive: true, strLen: 64 },
        { field: 'b', desc: true, caseSensitive: false, strLen: 128 },
        { field: 'c', desc: false, caseSensitive: true, strLen: 16 },
      ],
    });
    expect(parseOrderDef('run_is_current(desc), run_id(desc)')).toEqual({
      unique: false,
      components: [
        { field: 'run_is_current', desc: true, caseSensitive: true, strLen: 64 },
        { field: 'run_id', desc: true, caseSensitive: true, strLen: 64 },
      ],
    });
    expect(parseOrderDef('order_id(asc),order_item_id(asc)').components.map((c) => c.field)).toEqual([
      'order_id',
      'order_item_id',
    ]);
  });

  it.each([
    ['index(a)', 'an index definition must be unique(...) or non_unique(...)'],
    ['unique()', 'an index needs at least one field'],
    ['unique(a(up))', 'a: unknown modifier up'],
    ['unique(a(asc, desc))', 'a: asc and desc cannot both be given'],
    ['unique(a(2000))', 'a: string length 2000 is more than 1024'],
    ['unique(a, a)', 'field a appears twice'],
    ['unique(a + b)', 'expected a field name'],
    ['unique(a', "unexpected end of expression, expected ',' or ')' at 8"],
  ])('rejects %s', (text, msg) => {
    expect(() => parseIndexDef(text)).toThrow(msg);
    expect(() => parseIndexDef(text)).toThrow(ExprError);
  });

  it('reports order definition errors at positions of the original text', () => {
    try {
      parseOrderDef('a(asc), b(sideways)');
      throw new Error('expected an error');
    } catch (e) {
      expect(e).toBeInstanceOf(ExprError);
      expect((e as ExprError).pos).toBe(10);
      expect((e as ExprError).source).toBe('a(asc), b(sideways)');
    }
  });

  it('validates fields and string-only modifiers', () => {
    const def = parseIndexDef('unique(a(ignore_case), b(32), c)');
    expect(validateIndexDef(def, { a: 'int', b: 'string' })).toEqual([
      'a: case_sensitive/ignore_case apply to string fields only',
      'unknown field c (fields: a, b)',
    ]);
  });
});

describe('buildKey byte layouts (§1.9)', () => {
  it.each([
    [5n, '0' + z(19) + '5'],
    [0n, '0' + z(20)],
    [-5n, '-' + '9'.repeat(19) + '4'],
    [-9223372036854775808n, '-90776627963145224191'],
    [9223372036854775807n, '0' + '09223372036854775807'],
  ])('int %p', (v, want) => {
    expect(one(v)).toBe(want);
    expect(one(v)).toHaveLength(21);
  });

  it('floats: sign, %.32f padded with zeros to 66, digits flipped for negatives', () => {
    const pos = '1.5' + z(31);
    expect(one(1.5)).toBe('0' + z(66 - pos.length) + pos);
    expect(one(-1.5)).toBe('-' + '9'.repeat(66 - pos.length) + '8.4' + '9'.repeat(31));
    expect(one(0.1)).toBe('0' + z(32) + '0.10000000000000000555111512312578');
    expect(one(new Decimal('1.5'))).toBe(one(1.5));
  });

  it('datetimes: %020d of microseconds since 0001-01-01', () => {
    expect(one(DateTime.zero())).toBe(z(20));
    expect(one(new DateTime(0))).toBe('00062135596800000000');
    expect(one(new DateTime(1, 3600, 'X'))).toBe('00062135596800001000');
  });

  it('strings: accents dropped, padded to N runes, cut to N bytes, upper-cased when ignoring case', () => {
    expect(one('Café', '16')).toBe('Cafe' + ' '.repeat(12));
    expect(one('Café', 'ignore_case, 16')).toBe('CAFE' + ' '.repeat(12));
    expect(one('Straße', 'ignore_case, 16')).toBe('STRAßE' + ' '.repeat(9));
    expect(one('日本語', '16')).toBe('日本語' + ' '.repeat(7));
    expect(one('a'.repeat(100))).toBe('a'.repeat(64));
    expect(one('é'.repeat(20), '16')).toBe('e'.repeat(16));
    expect(one('日'.repeat(6), '16')).toBe('日'.repeat(5));
  });

  it('bools are T and F', () => {
    expect(one(true)).toBe('T');
    expect(one(false)).toBe('F');
  });

  it('desc components are 0xFF-b in lower-case hex', () => {
    expect(one(true, 'desc')).toBe('ab');
    expect(one(5n, 'desc')).toBe('cf'.repeat(20) + 'ca');
    expect(one('A', 'desc, 16')).toBe('be' + 'df'.repeat(15));
  });

  it('concatenates components in definition order', () => {
    const def = parseOrderDef('order_id(asc),order_item_id(asc)');
    expect(buildKey(def, ['x', 1n])).toBe('x' + ' '.repeat(63) + '0' + z(19) + '1');
    expect(() => buildKey(def, ['x'])).toThrow('index key needs 2 value(s) (order_id, order_item_id), got 1');
  });

  it('orders keys like the values (asc) and reverses them (desc)', () => {
    const ints = [-1000n, -5n, -1n, 0n, 3n, 42n, 9223372036854775807n];
    const floats = [-1e10, -2.5, -0.001, 0, 1e-9, 0.5, 3, 1e20];
    const times = [DateTime.zero(), new DateTime(-1), new DateTime(0), new DateTime(1e12)];
    for (const vals of [ints, floats, times] as Value[][]) {
      const asc = vals.map((v) => one(v));
      const desc = vals.map((v) => one(v, 'desc'));
      for (let i = 1; i < vals.length; i++) {
        expect(compareKeys(asc[i - 1] as string, asc[i] as string)).toBeLessThan(0);
        expect(compareKeys(desc[i - 1] as string, desc[i] as string)).toBeGreaterThan(0);
      }
    }
  });
});
