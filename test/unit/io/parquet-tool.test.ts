import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import {
  InspectedParquet,
  cellsEqual,
  compareCells,
  compareRows,
  csvField,
  describeCell,
  diffParquet,
  formatCell,
  parseSortKeys,
  readParquetFile,
  type ParquetCell,
} from '../../../src/io/index.js';
import { DateTime, Decimal, zeroValue, valuesEqual } from '../../../src/values/index.js';

/** One column of a test file: its schema element and its values (null = missing). */
interface TestColumn {
  readonly element: SchemaElement;
  readonly data: unknown[];
}

function writeParquet(file: string, columns: readonly TestColumn[]): void {
  const buf = parquetWriteBuffer({
    schema: [{ name: 'root', num_children: columns.length }, ...columns.map((c) => c.element)],
    columnData: columns.map((c) => ({ name: c.element.name, data: c.data as never[] })),
  });
  fs.writeFileSync(file, Buffer.from(buf));
}

const opt = (name: string, e: Omit<SchemaElement, 'name' | 'repetition_type'>): SchemaElement => ({
  name,
  repetition_type: 'OPTIONAL',
  ...e,
});

const six = {
  s: opt('s', { type: 'BYTE_ARRAY', converted_type: 'UTF8' }),
  i: opt('i', { type: 'INT64' }),
  f: opt('f', { type: 'DOUBLE' }),
  d: opt('d', { type: 'INT64', converted_type: 'DECIMAL', scale: 2, precision: 18 }),
  b: opt('b', { type: 'BOOLEAN' }),
  t: opt('t', { type: 'INT64', converted_type: 'TIMESTAMP_MILLIS' }),
};

function sixColumns(rows: readonly (readonly unknown[])[]): TestColumn[] {
  return Object.values(six).map((element, c) => ({ element, data: rows.map((r) => r[c] ?? null) }));
}

async function cellsOf(file: string): Promise<ParquetCell[][]> {
  const pq = await InspectedParquet.open(file);
  try {
    const rows: ParquetCell[][] = [];
    for await (const r of pq.rowsOf({ sliceRows: 2 })) rows.push(r);
    return rows;
  } finally {
    await pq.close();
  }
}

async function diffFiles(left: string, right: string, identicalSchemas = false) {
  const l = await InspectedParquet.open(left);
  const r = await InspectedParquet.open(right);
  try {
    return await diffParquet(l, r, { identicalSchemas });
  } finally {
    await l.close();
    await r.close();
  }
}

describe('parquet inspection', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-pqtool-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('columns get the Capillaries type and Parquet type; missing values stay null', async () => {
    const file = path.join(dir, 'a.parquet');
    writeParquet(
      file,
      sixColumns([
        ['x', 1n, 1.5, 1234n, true, 1_700_000_000_123n],
        [null, null, null, null, null, null],
      ]),
    );
    const pq = await InspectedParquet.open(file);
    try {
      expect(pq.rows).toBe(2);
      expect(pq.columns.map((c) => [c.name, c.type, c.parquetType, c.scale])).toEqual([
        ['s', 'string', 'BYTE_ARRAY UTF8 OPTIONAL', 0],
        ['i', 'int', 'INT64 OPTIONAL', 0],
        ['f', 'float', 'DOUBLE OPTIONAL', 0],
        ['d', 'decimal2', 'INT64 DECIMAL(18,2) OPTIONAL', 2],
        ['b', 'bool', 'BOOLEAN OPTIONAL', 0],
        ['t', 'datetime', 'INT64 TIMESTAMP_MILLIS OPTIONAL', 0],
      ]);
    } finally {
      await pq.close();
    }
    const rows = await cellsOf(file);
    expect(rows[1]).toEqual([null, null, null, null, null, null]);
    const first = rows[0] ?? [];
    expect(first.slice(0, 3)).toEqual(['x', 1n, 1.5]);
    expect((first[3] as Decimal).eq(new Decimal('12.34'))).toBe(true);
    expect(first[4]).toBe(true);
    expect((first[5] as DateTime).epochMs).toBe(1_700_000_000_123);
  });

  test('every cell of the repository fixtures equals what the engine reader reads (null = zero value)', async () => {
    const root = path.resolve('.');
    const files = execFileSync('git', ['ls-files', '*.parquet'], { cwd: root, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f !== '');
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const file = path.join(root, f);
      const pq = await InspectedParquet.open(file);
      try {
        const typed = pq.columns.filter((c) => c.type !== undefined);
        const engine = readParquetFile(file, {
          columns: typed.map((c) => ({ name: c.name, column: c.name })),
        });
        let n = 0;
        for await (const cells of pq.rowsOf()) {
          const e = await engine.next();
          expect(e.done).toBe(false);
          const values = e.value as Record<string, unknown>;
          pq.columns.forEach((c, i) => {
            if (c.type === undefined) return;
            const cell = cells[i] ?? null;
            const want = values[c.name] as Parameters<typeof valuesEqual>[0];
            const got = cell ?? zeroValue(c.type);
            if (!valuesEqual(got, want) && !(Number.isNaN(got) && Number.isNaN(want))) {
              throw new Error(`${f}, row ${n}, column ${c.name}: ${String(got)} != ${String(want)}`);
            }
          });
          n++;
        }
        expect((await engine.next()).done).toBe(true);
        expect(n).toBe(pq.rows);
      } finally {
        await pq.close();
      }
    }
  });

  test('a column the engine cannot read is kept as raw text', async () => {
    const file = path.join(dir, 'time.parquet');
    writeParquet(file, [
      { element: opt('id', { type: 'INT32' }), data: [1, 2] },
      { element: opt('tm', { type: 'INT32', converted_type: 'TIME_MILLIS' }), data: [3_600_000, null] },
    ]);
    const pq = await InspectedParquet.open(file);
    try {
      expect(pq.columns[1]).toMatchObject({ name: 'tm', type: undefined });
      expect(pq.columns[1]?.unsupported).toMatch(/TIME/);
      expect(() => pq.encode([])).toThrow(/column "tm".*cannot be rewritten/);
    } finally {
      await pq.close();
    }
    expect(await cellsOf(file)).toEqual([
      [1n, '3600000'],
      [2n, null],
    ]);
  });

  test('formatCell: one stable text per type', () => {
    const col = { scale: 2 };
    expect(formatCell(null, col)).toBe('');
    expect(formatCell(-9223372036854775808n, col)).toBe('-9223372036854775808');
    expect(formatCell(0.1, col)).toBe('0.1');
    expect(formatCell(1e21, col)).toBe('1e+21');
    expect(formatCell(1e-7, col)).toBe('1e-07');
    expect(formatCell(new Decimal('2.5'), col)).toBe('2.50');
    expect(formatCell(new Decimal('-0.001'), { scale: 3 })).toBe('-0.001');
    expect(formatCell(false, col)).toBe('false');
    expect(formatCell(new DateTime(1_700_000_000_000, 3600), col)).toBe('2023-11-14T22:13:20.000Z');
    expect(formatCell(DateTime.zero(), col)).toBe('0001-01-01T00:00:00.000Z');
    expect(describeCell(null, col)).toBe('null');
    expect(describeCell('', col)).toBe('""');
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
  });

  test('cellsEqual and compareCells: typed, nulls first', () => {
    expect(cellsEqual(new Decimal('1.10'), new Decimal('1.1'))).toBe(true);
    expect(cellsEqual(new DateTime(5, 3600), new DateTime(5))).toBe(true);
    expect(cellsEqual(Number.NaN, Number.NaN)).toBe(true);
    expect(cellsEqual(0.1 + 0.2, 0.3)).toBe(false);
    expect(cellsEqual(null, null)).toBe(true);
    expect(cellsEqual(null, '')).toBe(false);
    expect(cellsEqual(0n, null)).toBe(false);
    expect(compareCells(null, 1n)).toBeLessThan(0);
    expect(compareCells(2n, 10n)).toBeLessThan(0);
    expect(compareCells(new Decimal('10'), new Decimal('9.99'))).toBeGreaterThan(0);
    expect(compareCells('\uffff', '\u{1F600}')).toBeLessThan(0); // code point (UTF-8) order
    expect(compareCells(false, true)).toBeLessThan(0);
    expect(compareCells(Number.NaN, 1e308)).toBeGreaterThan(0);
    const keys = [
      { index: 0, name: 'a', desc: true },
      { index: 1, name: 'b', desc: false },
    ];
    const rows: ParquetCell[][] = [
      [1n, 'b'],
      [null, 'z'],
      [2n, 'a'],
      [1n, 'a'],
    ];
    expect(rows.sort((x, y) => compareRows(x, y, keys))).toEqual([
      [null, 'z'],
      [2n, 'a'],
      [1n, 'a'],
      [1n, 'b'],
    ]);
  });

  test('parseSortKeys: (asc)/(desc) suffixes; unknown columns and empty parts are errors', async () => {
    const file = path.join(dir, 'k.parquet');
    writeParquet(file, sixColumns([['x', 1n, 1, 1n, true, 1n]]));
    const pq = await InspectedParquet.open(file);
    try {
      expect(parseSortKeys('i(desc), s ,d(ASC)', pq.columns, 'k')).toEqual([
        { index: 1, name: 'i', desc: true },
        { index: 0, name: 's', desc: false },
        { index: 3, name: 'd', desc: false },
      ]);
      expect(() => parseSortKeys('nope', pq.columns, 'k.parquet')).toThrow(
        'k.parquet: no column "nope" to sort by (it has "s", "i", "f", "d", "b", "t")',
      );
      expect(() => parseSortKeys('s,,i', pq.columns, 'k')).toThrow(/expected col,col\(desc\)/);
      expect(() => parseSortKeys('', pq.columns, 'k')).toThrow(/expected col,col\(desc\)/);
    } finally {
      await pq.close();
    }
  });

  describe('diffParquet', () => {
    const base: unknown[][] = [
      ['a', 1n, 0.5, 150n, true, 1000n],
      ['b', null, 2.5, 0n, false, null],
    ];
    let left: string;
    beforeEach(() => {
      left = path.join(dir, 'left.parquet');
      writeParquet(left, sixColumns(base));
    });

    test('equal files, also when decimals are stored differently', async () => {
      const right = path.join(dir, 'right.parquet');
      const cols = sixColumns(base);
      cols[3] = {
        element: opt('d', { type: 'INT32', converted_type: 'DECIMAL', scale: 3, precision: 9 }),
        data: [1500n, 0n], // unscaled (a number would be scaled by the writer)
      };
      writeParquet(right, cols);
      expect(await diffFiles(left, left)).toEqual({ equal: true, lines: [], differences: 0 });
      expect((await diffFiles(left, right)).equal).toBe(true);
      const strict = await diffFiles(left, right, true);
      expect(strict.equal).toBe(false);
      expect(strict.lines).toEqual([
        'column 3 "d": left INT64 DECIMAL(18,2) OPTIONAL right INT32 DECIMAL(9,3) OPTIONAL',
        'rows not compared: the columns differ',
      ]);
    });

    test('a different value and null against a value', async () => {
      const right = path.join(dir, 'right.parquet');
      writeParquet(
        right,
        sixColumns([
          ['a', 1n, 0.5, 151n, true, 1000n],
          ['b', 0n, 2.5, 0n, false, null],
        ]),
      );
      const res = await diffFiles(left, right);
      expect(res).toEqual({
        equal: false,
        differences: 2,
        lines: ['row 0, column d: left 1.50 right 1.51', 'row 1, column i: left null right 0'],
      });
    });

    test('row counts, column names and column types', async () => {
      const fewer = path.join(dir, 'fewer.parquet');
      writeParquet(fewer, sixColumns(base.slice(0, 1)));
      expect((await diffFiles(left, fewer)).lines).toEqual(['row count: left 2 right 1']);
      const renamed = path.join(dir, 'renamed.parquet');
      const cols = sixColumns(base);
      cols[0] = { element: opt('name', { type: 'BYTE_ARRAY', converted_type: 'UTF8' }), data: ['a', 'b'] };
      writeParquet(renamed, cols);
      expect((await diffFiles(left, renamed)).lines).toEqual([
        'column 0: left "s" (string) right "name" (string)',
        'rows not compared: the columns differ',
      ]);
      const retyped = path.join(dir, 'retyped.parquet');
      const cols2 = sixColumns(base);
      cols2[2] = { element: opt('f', { type: 'INT64' }), data: [1n, 2n] };
      writeParquet(retyped, cols2);
      expect((await diffFiles(left, retyped)).lines).toEqual([
        'column 2: left "f" (float) right "f" (int)',
        'rows not compared: the columns differ',
      ]);
    });

    test('at most 20 differences are listed; all are counted', async () => {
      const a = path.join(dir, 'a.parquet');
      const b = path.join(dir, 'b.parquet');
      const ints = (k: bigint): TestColumn[] => [
        { element: opt('n', { type: 'INT64' }), data: Array.from({ length: 25 }, (_, i) => BigInt(i) * k) },
      ];
      writeParquet(a, ints(1n));
      writeParquet(b, ints(2n));
      const res = await diffFiles(a, b);
      expect(res.differences).toBe(24);
      expect(res.lines).toHaveLength(21);
      expect(res.lines[0]).toBe('row 1, column n: left 1 right 2');
      expect(res.lines[20]).toBe('... and 4 more difference(s)');
    });
  });

  test('encode writes the rows back with the same schema', async () => {
    const file = path.join(dir, 'src.parquet');
    writeParquet(
      file,
      sixColumns([
        ['x', 5n, -1.25, -7n, false, 86_400_000n],
        [null, null, null, null, null, null],
      ]),
    );
    const pq = await InspectedParquet.open(file);
    const out = path.join(dir, 'out.parquet');
    try {
      const rows: unknown[][] = [];
      for await (const r of pq.rawRows()) rows.push(r.physical);
      fs.writeFileSync(out, Buffer.from(pq.encode(rows.reverse())));
    } finally {
      await pq.close();
    }
    expect(await cellsOf(out)).toEqual([...(await cellsOf(file))].reverse());
    expect((await diffFiles(file, out, true)).lines).toEqual([
      'row 0, column s: left "x" right null',
      'row 0, column i: left 5 right null',
      'row 0, column f: left -1.25 right null',
      'row 0, column d: left -0.07 right null',
      'row 0, column b: left false right null',
      'row 0, column t: left 1970-01-02T00:00:00.000Z right null',
      'row 1, column s: left null right "x"',
      'row 1, column i: left null right 5',
      'row 1, column f: left null right -1.25',
      'row 1, column d: left null right -0.07',
      'row 1, column b: left null right false',
      'row 1, column t: left null right 1970-01-02T00:00:00.000Z',
    ]);
  });

  test('errors: missing file, not a Parquet file', async () => {
    await expect(InspectedParquet.open(path.join(dir, 'none.parquet'))).rejects.toThrow(
      /none\.parquet: no such file or directory/,
    );
    const bad = path.join(dir, 'bad.parquet');
    fs.writeFileSync(bad, 'id,name\n1,x\n');
    await expect(InspectedParquet.open(bad)).rejects.toThrow(/bad\.parquet: not a readable Parquet file/);
  });
});
