import { jest } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { runCli, type Captured } from './capture.js';
import { ParquetTableWriter } from '../../../src/io/index.js';
import { DateTime, Decimal } from '../../../src/values/index.js';

jest.setTimeout(60_000);

const cli = (...args: string[]): Promise<Captured> => runCli('proto-file-reader-creator', ...args);

interface Script {
  nodes: {
    read_file: { r: { urls: string[]; csv?: Record<string, unknown>; columns: Record<string, unknown> } };
    write_file: { w: { url_template: string; csv?: { separator: string } } };
  };
}

/** An error: exit code 1, one line on stderr, no stack trace, nothing on stdout. */
function expectOneLineError(res: Captured, re: RegExp): void {
  expect(res.code).toBe(1);
  expect(res.stdout).toBe('');
  expect(res.stderr).toMatch(re);
  expect(res.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(res.stderr).not.toMatch(/\n\s+at /);
}

describe('plexus proto-file-reader-creator', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-proto-cli-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('prints a JSON script; the file path becomes absolute; default output directory', async () => {
    fs.writeFileSync(path.join(dir, 'orders.csv'), 'id,total\n1,2.50\n');
    const cwd = process.cwd();
    process.chdir(dir);
    let res: Captured;
    try {
      res = await cli('--file', 'orders.csv', '--csv-hdr-line-idx', '0');
    } finally {
      process.chdir(cwd);
    }
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const s = JSON.parse(res.stdout) as Script;
    expect(s.nodes.read_file.r.urls).toEqual([path.join(fs.realpathSync(dir), 'orders.csv')]);
    expect(s.nodes.read_file.r.csv).toEqual({ hdr_line_idx: 0, first_data_line_idx: 1, separator: ',' });
    expect(s.nodes.write_file.w.url_template).toBe(
      '/tmp/capi_out/proto_file_reader_creator_quicktest/orders.csv',
    );
  });

  test('--format yaml, --out-dir, and a tab separator given as \\t; .tsv defaults to a tab', async () => {
    fs.writeFileSync(path.join(dir, 'a.txt'), 'x\ty\n1\t2\n');
    const res = await cli(
      '--file',
      path.join(dir, 'a.txt'),
      '--csv-separator',
      '\\t',
      '--out-dir',
      path.join(dir, 'out'),
      '--format',
      'yaml',
    );
    expect(res.code).toBe(0);
    const s = parseYaml(res.stdout) as Script;
    expect(s.nodes.read_file.r.csv).toEqual({ first_data_line_idx: 0, separator: '\t' });
    expect(s.nodes.write_file.w).toMatchObject({
      url_template: path.join(dir, 'out', 'a.txt'),
      csv: { separator: '\t' },
    });

    fs.writeFileSync(path.join(dir, 'b.tsv'), 'x\ty\n1\t2\n');
    const tsv = JSON.parse((await cli('--file', path.join(dir, 'b.tsv'))).stdout) as Script;
    expect(tsv.nodes.read_file.r.csv?.separator).toBe('\t');
    expect(Object.keys(tsv.nodes.read_file.r.columns)).toEqual(['col_000', 'col_001']);
  });

  test('--csv-hdr-line-idx -1 and --csv-first-line-idx given as separate words', async () => {
    fs.writeFileSync(path.join(dir, 'n.csv'), 'skip,me\n1,2\n');
    const res = await cli(
      '--file',
      path.join(dir, 'n.csv'),
      '--csv-hdr-line-idx',
      '-1',
      '--csv-first-line-idx',
      '1',
    );
    expect(res.code).toBe(0);
    const s = JSON.parse(res.stdout) as Script;
    expect(s.nodes.read_file.r.csv).toEqual({ first_data_line_idx: 1, separator: ',' });
  });

  test('a Parquet file: types from its schema (by extension or --file-type)', async () => {
    const file = path.join(dir, 'p.parquet');
    const stream = fs.createWriteStream(file);
    const w = new ParquetTableWriter(stream, [
      { name: 'id', type: 'int' },
      { name: 'amount', type: 'decimal2' },
      { name: 'when', type: 'datetime' },
    ]);
    await w.writeRows([[1n, new Decimal('2.50'), new DateTime(0)]]);
    await w.finish();
    await new Promise<void>((resolve) => stream.end(resolve));
    fs.copyFileSync(file, path.join(dir, 'p.bin'));
    for (const args of [
      ['--file', file],
      ['--file', path.join(dir, 'p.bin'), '--file-type', 'parquet'],
    ]) {
      const res = await cli(...args);
      expect(res.code).toBe(0);
      const s = JSON.parse(res.stdout) as Script;
      expect(s.nodes.read_file.r.columns).toEqual({
        col_id: { col_type: 'int', parquet: { col_name: 'id' } },
        col_amount: { col_type: 'decimal2', parquet: { col_name: 'amount' } },
        col_when: { col_type: 'datetime', parquet: { col_name: 'when' } },
      });
    }
  });

  test('warnings go to stderr, the script to stdout', async () => {
    fs.writeFileSync(path.join(dir, 'h.csv'), 'a,b\n');
    const res = await cli('--file', path.join(dir, 'h.csv'), '--csv-hdr-line-idx', '0');
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(
      /^warning: .*h\.csv: no data lines from line index 1 on: every column is typed string\n$/,
    );
    expect(() => JSON.parse(res.stdout) as unknown).not.toThrow();
  });

  describe('errors: one line on stderr naming the file, exit 1', () => {
    test('missing file', async () => {
      expectOneLineError(
        await cli('--file', path.join(dir, 'none.csv')),
        /^error: cannot read .*none\.csv: no such file/,
      );
    });

    test('empty file', async () => {
      fs.writeFileSync(path.join(dir, 'e.csv'), '\n\n');
      expectOneLineError(await cli('--file', path.join(dir, 'e.csv')), /^error: .*e\.csv: the file is empty/);
    });

    test('header line index past the end', async () => {
      fs.writeFileSync(path.join(dir, 'h.csv'), 'a\nb\n');
      expectOneLineError(
        await cli('--file', path.join(dir, 'h.csv'), '--csv-hdr-line-idx', '4'),
        /^error: .*h\.csv: header line index 4 is past the end of the file: it has 2 line\(s\)/,
      );
    });

    test('bad separator', async () => {
      fs.writeFileSync(path.join(dir, 's.csv'), 'a\n');
      expectOneLineError(
        await cli('--file', path.join(dir, 's.csv'), '--csv-separator', '::'),
        /^error: .*s\.csv: separator "::" must be one character/,
      );
    });

    test('unreadable Parquet', async () => {
      fs.writeFileSync(path.join(dir, 'bad.parquet'), 'not parquet at all');
      expectOneLineError(
        await cli('--file', path.join(dir, 'bad.parquet')),
        /^error: .*bad\.parquet: not a readable Parquet file/,
      );
    });

    test('a record with the wrong number of fields names the line', async () => {
      fs.writeFileSync(path.join(dir, 'f.csv'), 'a,b\n1,2\n3\n');
      expectOneLineError(
        await cli('--file', path.join(dir, 'f.csv')),
        /^error: .*f\.csv, line 3 \(record 2\): wrong number of fields/,
      );
    });

    test('unknown extension, bad --file-type, --format and line index', async () => {
      fs.writeFileSync(path.join(dir, 'x.dat'), 'a\n');
      expectOneLineError(
        await cli('--file', path.join(dir, 'x.dat')),
        /cannot tell the file type from the extension "\.dat": give --file-type csv or parquet/,
      );
      expectOneLineError(
        await cli('--file', path.join(dir, 'x.dat'), '--file-type', 'xlsx'),
        /--file-type xlsx: use csv or parquet/,
      );
      expectOneLineError(
        await cli('--file', path.join(dir, 'x.dat'), '--file-type', 'csv', '--format', 'xml'),
        /--format xml: use json or yaml/,
      );
      expectOneLineError(
        await cli('--file', path.join(dir, 'x.dat'), '--file-type', 'csv', '--csv-hdr-line-idx', 'one'),
        /--csv-hdr-line-idx one: expected a whole number/,
      );
    });
  });
});
