import { buildKey, compareKeys, parseIndexDef, parseOrderDef } from '../../../src/expr/index.js';
import { DateTime, Decimal, type Value } from '../../../src/values/index.js';

/** BuildKey as the spec's table states it (§1.9): the encodings decide lookups, uniqueness and top order. */
const key = (def: string, ...v: Value[]): string => buildKey(parseOrderDef(def), v);

describe('index key encodings (§1.9)', () => {
  test('int: sign char and %020d, digits flipped for negatives', () => {
    expect(key('a', 42n)).toBe('000000000000000000042');
    expect(key('a', -42n)).toBe('-99999999999999999957');
  });

  test('float and decimal2: sign + %.32f padded to 66, decimals through float64', () => {
    const f = key('a', 1.5);
    expect(f).toHaveLength(67);
    expect(f).toBe('0' + '1.50000000000000000000000000000000'.padStart(66, '0'));
    expect(key('a', new Decimal('1.50'))).toBe(f);
  });

  test('datetime: %020d of microseconds since 0001-01-01', () => {
    expect(key('a', new DateTime(0))).toBe('00062135596800000000');
  });

  test('bool T/F; desc flips bytes and writes hex', () => {
    expect(key('a', true)).toBe('T');
    expect(key('a(desc)', true)).toBe((0xff - 'T'.charCodeAt(0)).toString(16));
  });

  test('strings: accents removed, padded/cut to the length, ignore_case upper-cases', () => {
    expect(key('a', 'Élan')).toBe('Elan'.padEnd(64, ' '));
    expect(key('a(16)', 'x'.repeat(40))).toBe('x'.repeat(16));
    expect(key('a(ignore_case,16)', 'abc')).toBe('ABC'.padEnd(16, ' '));
    expect(key('a(3)', 'abcdef')).toBe('abcdef'.padEnd(16, ' ').slice(0, 16)); // values < 16 become 16
  });

  test('top order with three string keys, one descending, compares accent-free', () => {
    const def = 'c(asc),q(desc),t(asc)';
    const rows: [string, string, string][] = [
      ['africa', '2023-Q1', 'Zeta'],
      ['africa', '2023-Q3', 'Élan'],
      ['africa', '2023-Q3', 'Eagle'],
      ['americas', '2023-Q1', 'Roads'],
    ];
    const sorted = [...rows].sort((a, b) => compareKeys(key(def, ...a), key(def, ...b)));
    expect(sorted.map((r) => r[2])).toEqual(['Eagle', 'Élan', 'Zeta', 'Roads']);
  });

  test('unique index definitions parse with modifiers', () => {
    const def = parseIndexDef('unique(deal_name(case_sensitive),seller_name)');
    expect(def.components.map((c) => c.field)).toEqual(['deal_name', 'seller_name']);
  });
});
