import { jest } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parquetMetadata, type SchemaElement } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { runCli, type Captured } from './capture.js';

jest.setTimeout(60_000);

const cli = (...args: string[]): Promise<Captured> => runCli('parquet', ...args);

/** An error: the given exit code, one line on stderr, no stack trace, nothing on stdout. */
function expectOneLineError(res: Captured, re: RegExp, code = 1): void {
  expect(res.code).toBe(code);
  expect(res.stdout).toBe('');
  expect(res.stderr).toMatch(re);
  expect(res.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(res.stderr).not.toMatch(/\n\s+at /);
}

const opt = (name: string, e: Omit<SchemaElement, 'name' | 'repetition_type'>): SchemaElement => ({
  name,
  repetition_type: 'OPTIONAL',
  ...e,
});

const SCHEMA: SchemaElement[] = [
  opt('name', { type: 'BYTE_ARRAY', converted_type: 'UTF8' }),
  opt('qty', { type: 'INT64' }),
  opt('ratio', { type: 'DOUBLE' }),
  opt('price', { type: 'INT64', converted_type: 'DECIMAL', scale: 2, precision: 18 }),
  opt('ok', { type: 'BOOLEAN' }),
  opt('at', { type: 'INT64', converted_type: 'TIMESTAMP_MILLIS' }),
];

/** Rows of (name, qty, ratio, price in cents, ok, at in ms); null = missing. */
type Row = [string | null, bigint | null, number | null, bigint | null, boolean | null, bigint | null];

function writeRows(file: string, rows: readonly Row[], rowGroupSize?: number): void {
  const buf = parquetWriteBuffer({
    schema: [{ name: 'root', num_children: SCHEMA.length }, ...SCHEMA],
    columnData: SCHEMA.map((el, c) => ({ name: el.name, data: rows.map((r) => r[c] ?? null) as never[] })),
    rowGroupSize,
  });
  fs.writeFileSync(file, Buffer.from(buf));
}

const ROWS: Row[] = [
  ['plain', 3n, 0.1, 1999n, true, 1_700_000_000_123n],
  ['with, comma', -9223372036854775808n, 1e21, -5n, false, 0n],
  ['say "hi"', 9223372036854775807n, 1e-7, 0n, true, -86_400_000n],
  [null, null, null, null, null, null],
  ['', 0n, -0.5, 100n, false, null],
];

describe('plexus parquet', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-parquet-cli-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('cat', () => {
    test('prints a header and one CSV line per row, every type and missing values', async () => {
      const file = path.join(dir, 'all.parquet');
      writeRows(file, ROWS, 2);
      const res = await cli('cat', file);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(res.stdout).toBe(
        'name,qty,ratio,price,ok,at\n' +
          'plain,3,0.1,19.99,true,2023-11-14T22:13:20.123Z\n' +
          '"with, comma",-9223372036854775808,1e+21,-0.05,false,1970-01-01T00:00:00.000Z\n' +
          '"say ""hi""",9223372036854775807,1e-07,0.00,true,1969-12-31T00:00:00.000Z\n' +
          ',,,,,\n' +
          ',0,-0.5,1.00,false,\n',
      );
    });

    test('succeeds on every Parquet file of the repository', async () => {
      const files = execFileSync('git', ['ls-files', '*.parquet'], { encoding: 'utf8' })
        .split('\n')
        .filter((f) => f !== '');
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) {
        const res = await cli('cat', f);
        expect({ f, code: res.code, stderr: res.stderr }).toEqual({ f, code: 0, stderr: '' });
        expect(res.stdout.split('\n').length).toBeGreaterThan(1);
      }
    });

    test('a column the engine cannot read is printed raw with one warning', async () => {
      const file = path.join(dir, 'time.parquet');
      const buf = parquetWriteBuffer({
        schema: [
          { name: 'root', num_children: 2 },
          opt('id', { type: 'INT32' }),
          opt('tm', { type: 'INT32', converted_type: 'TIME_MILLIS' }),
        ],
        columnData: [
          { name: 'id', data: [1, 2] },
          { name: 'tm', data: [5000, null] },
        ],
      });
      fs.writeFileSync(file, Buffer.from(buf));
      const res = await cli('cat', file);
      expect(res.code).toBe(0);
      expect(res.stdout).toBe('id,tm\n1,5000\n2,\n');
      expect(res.stderr.trimEnd().split('\n')).toEqual([
        expect.stringMatching(/^warning: .*time\.parquet: column "tm" \(TIME.*\) printed as raw values$/),
      ]);
    });

    test('a column whose pages cannot be read: cat warns and goes on, diff fails with exit 2', async () => {
      const buf = parquetWriteBuffer({
        codec: 'UNCOMPRESSED',
        columnData: [
          { name: 'a', data: [1n, 2n], type: 'INT64' },
          { name: 'b', data: ['x', 'y'], type: 'STRING' },
        ],
      });
      const bytes = new Uint8Array(buf);
      const chunk = parquetMetadata(bytes.buffer).row_groups[0]?.columns[1]?.meta_data;
      const offset = Number(chunk?.dictionary_page_offset ?? chunk?.data_page_offset);
      bytes.fill(0xff, offset, offset + 6); // a broken page header
      const file = path.join(dir, 'broken.parquet');
      fs.writeFileSync(file, bytes);
      const res = await cli('cat', file);
      expect(res.code).toBe(0);
      expect(res.stdout).toBe('a,b\n1,\n2,\n');
      expect(res.stderr.trimEnd().split('\n')).toEqual([
        expect.stringMatching(
          /^warning: .*broken\.parquet: column "b" cannot be read from row 0 on \(.+\); its cells are left empty$/,
        ),
      ]);
      expectOneLineError(await cli('diff', file, file), /broken\.parquet: cannot read rows 0-1/, 2);
    });

    test('errors: a missing file, not a Parquet file', async () => {
      expectOneLineError(await cli('cat', path.join(dir, 'none.parquet')), /none\.parquet: no such file/);
      const bad = path.join(dir, 'bad.parquet');
      fs.writeFileSync(bad, 'a,b\n1,2\n');
      expectOneLineError(await cli('cat', bad), /^error: .*bad\.parquet: not a readable Parquet file/);
    });
  });

  describe('diff', () => {
    test('exit 0 when equal (row groups may differ), 1 with the differences, 2 on an error', async () => {
      const a = path.join(dir, 'a.parquet');
      const b = path.join(dir, 'b.parquet');
      const c = path.join(dir, 'c.parquet');
      writeRows(a, ROWS, 2);
      writeRows(b, ROWS);
      const changed = ROWS.map((r) => [...r] as Row);
      (changed[3] as Row)[1] = 0n;
      (changed[0] as Row)[0] = 'Plain';
      writeRows(c, changed.slice(0, 4));
      const same = await cli('diff', a, b);
      expect(same).toEqual({ code: 0, stdout: '', stderr: '' });
      const diff = await cli('diff', a, c);
      expect(diff.code).toBe(1);
      expect(diff.stdout).toBe(
        'row count: left 5 right 4\n' +
          'row 0, column name: left "plain" right "Plain"\n' +
          'row 3, column qty: left null right 0\n' +
          '3 difference(s)\n',
      );
      expectOneLineError(await cli('diff', a, path.join(dir, 'none.parquet')), /no such file/, 2);
      expectOneLineError(await cli('diff', a), /expected two files \(left and right\), got 1/, 2);
      expectOneLineError(await cli('diff', a, b, '--bogus'), /unknown option --bogus/, 2);
      const usage = await cli('diff');
      expect(usage.code).toBe(2);
    });

    test('--identical-schemas and the toolbelt spelling -identical_schemas compare Parquet types', async () => {
      const a = path.join(dir, 'a.parquet');
      const b = path.join(dir, 'b.parquet');
      writeRows(a, ROWS.slice(0, 1));
      const buf = parquetWriteBuffer({
        schema: [
          { name: 'root', num_children: SCHEMA.length },
          ...SCHEMA.slice(0, 3),
          opt('price', { type: 'INT32', converted_type: 'DECIMAL', scale: 2, precision: 9 }),
          ...SCHEMA.slice(4),
        ],
        columnData: SCHEMA.map((el, c) => ({
          name: el.name,
          data: [c === 3 ? 1999n : (ROWS[0] as Row)[c]] as never[],
        })),
      });
      fs.writeFileSync(b, Buffer.from(buf));
      expect((await cli('diff', a, b)).code).toBe(0);
      for (const flag of ['--identical-schemas', '-identical_schemas']) {
        const res = await cli('diff', flag, a, b);
        expect(res.code).toBe(1);
        expect(res.stdout.split('\n')[0]).toBe(
          'column 3 "price": left INT64 DECIMAL(18,2) OPTIONAL right INT32 DECIMAL(9,2) OPTIONAL',
        );
      }
    });

    test('--help names the exit codes', async () => {
      const res = await cli('diff', '--help');
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(
        /Exit status: 0 when the files are equal, 1 when they differ, 2 on an error/,
      );
    });
  });

  describe('sort', () => {
    const unsorted: Row[] = [
      ['b', 2n, 1, 100n, true, 10n],
      ['a', 2n, 2, 200n, false, 20n],
      [null, 1n, 3, null, null, 30n],
      ['c', null, 4, 300n, true, null],
      ['a', 1n, 5, 100n, true, 50n],
    ];

    test('one column ascending; the input is replaced; nulls first', async () => {
      const file = path.join(dir, 'in.parquet');
      const expected = path.join(dir, 'expected.parquet');
      writeRows(file, unsorted);
      writeRows(expected, [unsorted[2], unsorted[1], unsorted[4], unsorted[0], unsorted[3]] as Row[]); // stable
      const res = await cli('sort', file, 'name');
      expect(res.code).toBe(0);
      expect(res.stderr).toMatch(/sorted 5 row\(s\) of .*in\.parquet by name\(asc\) into .*in\.parquet/);
      expect(await cli('diff', '-identical_schemas', file, expected)).toEqual({
        code: 0,
        stdout: '',
        stderr: '',
      });
      expect(fs.readdirSync(dir).sort()).toEqual(['expected.parquet', 'in.parquet']);
    });

    test('several columns with (desc) and (asc), written to -o', async () => {
      const file = path.join(dir, 'in.parquet');
      const out = path.join(dir, 'out.parquet');
      const expected = path.join(dir, 'expected.parquet');
      writeRows(file, unsorted);
      // qty desc (null first), then price asc (null first), then name desc
      writeRows(expected, [unsorted[3], unsorted[0], unsorted[1], unsorted[2], unsorted[4]] as Row[]);
      const before = fs.readFileSync(file);
      const res = await cli('sort', file, 'qty(desc), price(asc),name(desc)', '-o', out);
      expect(res.code).toBe(0);
      expect(fs.readFileSync(file).equals(before)).toBe(true);
      const d = await cli('diff', '--identical-schemas', out, expected);
      expect(d).toEqual({ code: 0, stdout: '', stderr: '' });
      const cat = await cli('cat', out);
      expect(cat.stdout.split('\n').slice(1, 3)).toEqual([
        'c,,4,3.00,true,',
        'b,2,1,1.00,true,1970-01-01T00:00:00.010Z',
      ]);
    });

    test('errors: an unknown column, a missing file, a missing output directory', async () => {
      const file = path.join(dir, 'in.parquet');
      writeRows(file, unsorted);
      expectOneLineError(
        await cli('sort', file, 'name,weight(desc)'),
        /in\.parquet: no column "weight" to sort by \(it has "name", "qty", "ratio", "price", "ok", "at"\)/,
      );
      expectOneLineError(await cli('sort', path.join(dir, 'none.parquet'), 'name'), /no such file/);
      expectOneLineError(
        await cli('sort', file, 'name', '-o', path.join(dir, 'no', 'out.parquet')),
        /directory .*no does not exist/,
      );
    });
  });
});
