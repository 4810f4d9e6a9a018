import { compileCellParser } from '../../../src/io/index.js';
import {
  ColumnInference,
  DATETIME_LAYOUTS,
  WRITE_FORMATS,
  classifyCell,
  inferColumnTypes,
  widenType,
} from '../../../src/proto/index.js';
import type { FieldType } from '../../../src/values/index.js';

function inferOne(cells: readonly string[]): { type: FieldType; readFormat?: string; decidedBy: number } {
  const c = new ColumnInference();
  for (const cell of cells) c.add(cell);
  return c.result();
}

describe('classifyCell', () => {
  test.each([
    ['0', 'int'],
    ['42', 'int'],
    ['-17', 'int'],
    ['+5', 'int'],
    ['007', 'int'],
    ['9223372036854775807', 'int'],
    ['-9223372036854775808', 'int'],
    ['9223372036854775808', 'float'], // beyond int64: %d cannot read it, %f can
    ['49.99', 'decimal2'],
    ['-3.50', 'decimal2'],
    ['0.00', 'decimal2'],
    ['0.5', 'float'],
    ['0.850', 'float'],
    ['1e5', 'float'],
    ['-2.5E-3', 'float'],
    ['.5', 'float'],
    ['5.', 'float'],
    ['true', 'bool'],
    ['FALSE', 'bool'],
    ['True', 'bool'],
    ['2024-03-01', 'datetime'],
    ['hello', 'string'],
    ['1,5', 'string'],
    ['NaN', 'string'],
    ['tRuE', 'string'],
    ['2024-3-1', 'string'],
    ['2024-02-30', 'string'],
    ['12:30', 'string'],
  ])('%j is %s', (cell, type) => {
    expect(classifyCell(cell)?.type).toBe(type);
  });

  test('empty and blank cells are not classified', () => {
    expect(classifyCell('')).toBeUndefined();
    expect(classifyCell('   ')).toBeUndefined();
    expect(classifyCell('\t\u00a0')).toBeUndefined();
  });

  test('numbers, bools and datetimes are recognised with surrounding blanks (the reader trims cells)', () => {
    expect(classifyCell(' 5 ')?.type).toBe('int');
    expect(classifyCell('\t1.25 ')?.type).toBe('decimal2');
    expect(classifyCell(' true')?.type).toBe('bool');
    expect(classifyCell(' 2024-03-01 ')?.type).toBe('datetime');
  });
});

describe('datetime layouts', () => {
  test('there are 12, all distinct', () => {
    expect(DATETIME_LAYOUTS).toHaveLength(12);
    expect(new Set(DATETIME_LAYOUTS).size).toBe(12);
  });

  const samples: Record<string, string[]> = {
    '2006-01-02T15:04:05Z07:00': ['2024-03-01T10:20:30Z', '2024-03-01T10:20:30.123+02:00'],
    '2006-01-02T15:04:05': ['2024-03-01T10:20:30', '2024-03-01T10:20:30.5'],
    '2006-01-02 15:04:05': ['2024-03-01 10:20:30', '2024-03-01 10:20:30.250'],
    '2006-01-02 15:04:05Z07:00': ['2024-03-01 10:20:30+02:00', '2024-03-01 10:20:30Z'],
    '2006-01-02 15:04:05 -0700': ['2024-03-01 10:20:30 +0200', '1999-12-31 23:59:59 -0500'],
    '2006-01-02 15:04': ['2024-03-01 10:20'],
    '2006-01-02': ['2024-03-01', '2000-02-29'],
    '2006/01/02': ['2024/03/01'],
    '01/02/2006 15:04:05': ['03/01/2024 10:20:30', '12/31/2023 23:59:59'],
    '01/02/2006': ['03/01/2024', '12/31/2023'],
    '02/01/2006': ['25/12/2024', '31/01/2023'],
    '02.01.2006': ['25.12.2024', '01.03.2024'],
  };

  test('every layout has samples', () => {
    expect(Object.keys(samples).sort()).toEqual([...DATETIME_LAYOUTS].sort());
  });

  test.each(Object.entries(samples))('%s is inferred from %j and reads every sample', (layout, cells) => {
    const t = inferOne(cells);
    expect(t).toEqual({ type: 'datetime', readFormat: layout, decidedBy: cells.length });
    const parse = compileCellParser({ name: 'c', type: 'datetime', format: layout }, 'test');
    for (const c of cells) expect(() => parse(c)).not.toThrow();
  });

  test('an ambiguous day/month order goes to the first layout listed, a later line can settle it', () => {
    expect(inferOne(['03/04/2024', '05/06/2024']).readFormat).toBe('01/02/2006');
    expect(inferOne(['03/04/2024', '25/06/2024']).readFormat).toBe('02/01/2006');
    expect(inferOne(['25/06/2024', '03/04/2024']).readFormat).toBe('02/01/2006');
  });

  test('datetimes in layouts no single layout reads become string', () => {
    expect(inferOne(['2024-03-01', '2024-03-01 10:20']).type).toBe('string');
    expect(inferOne(['12/31/2023', '31/12/2023']).type).toBe('string');
  });
});

describe('widening', () => {
  test.each([
    ['int', 'int', 'int'],
    ['int', 'decimal2', 'decimal2'],
    ['decimal2', 'int', 'decimal2'],
    ['int', 'float', 'float'],
    ['decimal2', 'float', 'float'],
    ['float', 'decimal2', 'float'],
    ['int', 'bool', 'string'],
    ['bool', 'bool', 'bool'],
    ['datetime', 'int', 'string'],
    ['float', 'string', 'string'],
    ['string', 'int', 'string'],
  ] as const)('%s + %s = %s', (a, b, want) => {
    expect(widenType(a, b)).toBe(want);
  });

  test('across lines', () => {
    expect(inferOne(['1', '2', '3'])).toEqual({ type: 'int', readFormat: '%d', decidedBy: 3 });
    expect(inferOne(['1', '2.50', '3'])).toEqual({ type: 'decimal2', readFormat: '%f', decidedBy: 3 });
    expect(inferOne(['1', '2.50', '3.125'])).toEqual({ type: 'float', readFormat: '%f', decidedBy: 3 });
    expect(inferOne(['1', '2.5'])).toEqual({ type: 'float', readFormat: '%f', decidedBy: 2 });
    expect(inferOne(['true', 'false'])).toEqual({ type: 'bool', decidedBy: 2 });
    expect(inferOne(['true', '1'])).toEqual({ type: 'string', decidedBy: 2 });
    expect(inferOne(['1', '2', 'n/a', '4'])).toEqual({ type: 'string', decidedBy: 4 });
    expect(inferOne(['2024-03-01', 'x'])).toEqual({ type: 'string', decidedBy: 2 });
  });

  test('empty cells do not decide the type; an all-empty column is string', () => {
    expect(inferOne(['', '5', '  ', '6'])).toEqual({ type: 'int', readFormat: '%d', decidedBy: 2 });
    expect(inferOne(['', 'true'])).toEqual({ type: 'bool', decidedBy: 1 });
    expect(inferOne(['', ' ', ''])).toEqual({ type: 'string', decidedBy: 0 });
    expect(inferOne([])).toEqual({ type: 'string', decidedBy: 0 });
  });
});

describe('inferColumnTypes', () => {
  test('one type per column; short records count as empty cells', () => {
    const rows = [
      ['1', 'a', '1.50', ''],
      ['2', 'b', '2.00', 'true'],
      ['3', '', '3'],
    ];
    expect(inferColumnTypes(rows, 4).map((t) => t.type)).toEqual(['int', 'string', 'decimal2', 'bool']);
  });

  test('every inferred reader definition reads its own sample cells', () => {
    const cols: string[][] = [
      ['1', '-2', ' 3', '+4', ''],
      ['1.50', '2', '-0.25', ''],
      ['0.5', '2', '1e3', '3.25', '.75'],
      ['true', 'False', ' TRUE '],
      ['2024-03-01 10:20:30', '2024-03-01 10:20:30.5', ''],
      ['x', '', '1'],
    ];
    for (const cells of cols) {
      const t = inferOne(cells);
      const parse = compileCellParser({ name: 'c', type: t.type, format: t.readFormat }, 'test');
      for (const c of cells) expect(() => parse(c)).not.toThrow();
    }
  });

  test('writer formats are the ones Capillaries generates', () => {
    expect(WRITE_FORMATS).toEqual({
      string: '%s',
      int: '%d',
      float: '%.3f',
      decimal2: '%s',
      datetime: '2006-01-02 15:04:05',
      bool: '%t',
    });
  });
});
