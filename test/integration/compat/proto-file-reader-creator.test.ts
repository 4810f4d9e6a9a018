import { jest } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import {
  ParquetTableWriter,
  parquetFileInfo,
  readCsvRecords,
  readParquetFile,
} from '../../../src/io/index.js';
import { Decimal, goTimeParse, valuesEqual, type FieldType, type Value } from '../../../src/values/index.js';
import { normalizeLines, runCli, type CliResult } from '../capillaries/harness.js';
import { COMPAT_DIR } from './helpers.js';

jest.setTimeout(300_000);

/**
 * The proto_file_reader_creator suite: a script is generated from a data file by the command, `top:
 * col_id(asc)` is added to write_file (the suite injects it with sed: table order is not file order), the
 * script runs with start node read_file and no params file, and the output must equal the input: CSV with
 * `diff -b`, Parquet row by row, typed.
 */

const FIXTURES = path.join(COMPAT_DIR, 'proto');

interface Generated {
  nodes: { write_file: { w: { top?: { order: string } } } } & Record<string, unknown>;
}

function ok(res: CliResult, what: string): void {
  if (res.code !== 0) throw new Error(`${what} exited with ${res.code}\n${res.stdout}\n${res.stderr}`);
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-proto-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * Generates the script for `file`, adds the top order (the suite's sed), runs it with start node read_file
 * and no params file in a fresh state dir; returns the output directory.
 */
async function generateAndRun(
  file: string,
  args: readonly string[],
  opts: { format?: 'json' | 'yaml'; order?: string } = {},
): Promise<string> {
  const format = opts.format ?? 'json';
  const out = path.join(dir, 'out');
  fs.mkdirSync(out, { recursive: true });
  const gen = await runCli([
    'proto-file-reader-creator',
    '--file',
    file,
    '--out-dir',
    out,
    '--format',
    format,
    ...args,
  ]);
  ok(gen, 'proto-file-reader-creator');
  expect(gen.stderr).toBe('');
  const script = (format === 'json' ? JSON.parse(gen.stdout) : parseYaml(gen.stdout)) as Generated;
  script.nodes.write_file.w.top = { order: opts.order ?? 'col_id(asc)' };
  const scriptFile = path.join(dir, `script.${format}`);
  fs.writeFileSync(scriptFile, format === 'json' ? JSON.stringify(script, null, 2) : toYaml(script));
  const run = await runCli([
    'run',
    scriptFile,
    '--keyspace',
    'proto_quicktest',
    '--state-dir',
    path.join(dir, 'state'),
    '--workers',
    '2',
    '--no-progress',
    '--start-nodes',
    'read_file',
  ]);
  ok(run, 'plexus run');
  return out;
}

function expectSameLines(expected: string[], actual: string[]): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      throw new Error(
        `line ${i + 1}: expected ${JSON.stringify(expected[i])}, got ${JSON.stringify(actual[i])}`,
      );
    }
  }
}

describe('proto-file-reader-creator round trips', () => {
  test('tab-separated CSV with a header and all six types: output equals the input (diff -b)', async () => {
    const input = path.join(dir, 'products.tsv');
    fs.copyFileSync(path.join(FIXTURES, 'products.tsv'), input);
    const out = await generateAndRun(input, ['--csv-hdr-line-idx', '0', '--csv-separator', '\t']);
    const produced = path.join(out, 'products.tsv');
    expect(fs.existsSync(produced)).toBe(true);
    const expected = normalizeLines(fs.readFileSync(input, 'utf8'));
    expect(expected).toHaveLength(49);
    expectSameLines(expected, normalizeLines(fs.readFileSync(produced, 'utf8')));
    // the generated types are the six
    const gen = await runCli(['proto-file-reader-creator', '--file', input, '--csv-hdr-line-idx', '0']);
    const cols = (
      JSON.parse(gen.stdout) as {
        nodes: { read_file: { r: { columns: Record<string, { col_type: string }> } } };
      }
    ).nodes.read_file.r.columns;
    expect(Object.entries(cols).map(([k, v]) => `${k}:${v.col_type}`)).toEqual([
      'col_id:int',
      'col_product_name:string',
      'col_price:decimal2',
      'col_weight__kg_:float',
      'col_in_stock:bool',
      'col_added_at:datetime',
    ]);
  });

  test('CSV without a header (--csv-hdr-line-idx -1), YAML script: data lines equal the input', async () => {
    const input = path.join(dir, 'readings.csv');
    fs.copyFileSync(path.join(FIXTURES, 'readings.csv'), input);
    // without a header the first column is col_000
    const out = await generateAndRun(input, ['--csv-hdr-line-idx', '-1'], {
      format: 'yaml',
      order: 'col_000(asc)',
    });
    const produced = normalizeLines(fs.readFileSync(path.join(out, 'readings.csv'), 'utf8'));
    // the writer always writes a header line: the field names
    expect(produced[0]).toBe('col_000,col_001,col_002,col_003,col_004,col_005');
    expectSameLines(normalizeLines(fs.readFileSync(input, 'utf8')), produced.slice(1));
  });

  test('Parquet with all six types: same columns, types and values, row by row', async () => {
    const input = path.join(dir, 'products.parquet');
    const columns: { name: string; type: FieldType }[] = [
      { name: 'id', type: 'int' },
      { name: 'Product Name', type: 'string' },
      { name: 'price', type: 'decimal2' },
      { name: 'weight', type: 'float' },
      { name: 'in_stock', type: 'bool' },
      { name: 'added', type: 'datetime' },
    ];
    // the rows of the TSV fixture, typed
    const rows: Value[][] = [];
    const tsv = fs.createReadStream(path.join(FIXTURES, 'products.tsv'));
    for await (const rec of readCsvRecords(tsv, { separator: '\t' })) {
      if (rec.index === 0) continue;
      const [id, name, price, weight, stock, added] = rec.fields as [
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      rows.push([
        BigInt(id),
        name,
        new Decimal(price),
        Number(weight),
        stock === 'true',
        goTimeParse('2006-01-02 15:04:05', added),
      ]);
    }
    expect(rows).toHaveLength(48);
    const stream = fs.createWriteStream(input);
    const writer = new ParquetTableWriter(stream, columns);
    // written in reverse id order: the output (ordered by col_id) must still match row by row after sorting
    await writer.writeRows([...rows].reverse());
    await writer.finish();
    await new Promise<void>((resolve, reject) =>
      stream.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );

    const out = await generateAndRun(input, []);
    const produced = path.join(out, 'products.parquet');
    const inInfo = await parquetFileInfo(input);
    const outInfo = await parquetFileInfo(produced);
    expect([...outInfo.columns]).toEqual([...inInfo.columns]);
    expect([...inInfo.columns.values()]).toEqual(columns.map((c) => c.type));
    expect(outInfo.rows).toBe(48);

    const request = columns.map((c) => ({ name: c.name, column: c.name }));
    const read = async (f: string): Promise<Record<string, Value>[]> => {
      const all: Record<string, Value>[] = [];
      for await (const r of readParquetFile(f, { columns: request })) all.push(r);
      return all;
    };
    const inRows = (await read(input)).sort((a, b) => Number((a.id as bigint) - (b.id as bigint)));
    const outRows = await read(produced);
    expect(outRows).toHaveLength(inRows.length);
    for (let i = 0; i < inRows.length; i++) {
      for (const c of columns) {
        const a = inRows[i]?.[c.name] as Value;
        const b = outRows[i]?.[c.name] as Value;
        if (!valuesEqual(a, b)) {
          throw new Error(`row ${i}, column ${c.name}: input ${String(a)}, output ${String(b)}`);
        }
      }
    }
  });
});

describe('proto-file-reader-creator errors (the real process)', () => {
  test.each([
    [
      'a missing file',
      (d: string) => ['--file', path.join(d, 'none.csv')],
      /^error: cannot read .*none\.csv: no such file/,
    ],
    [
      'a header line index past the end',
      (d: string) => {
        fs.writeFileSync(path.join(d, 'short.csv'), 'a,b\n1,2\n');
        return ['--file', path.join(d, 'short.csv'), '--csv-hdr-line-idx', '9'];
      },
      /^error: .*short\.csv: header line index 9 is past the end of the file: it has 2 line\(s\)/,
    ],
    [
      'an unreadable Parquet file',
      (d: string) => {
        fs.writeFileSync(path.join(d, 'bad.parquet'), 'PAR1 not really');
        return ['--file', path.join(d, 'bad.parquet')];
      },
      /^error: .*bad\.parquet: not a readable Parquet file/,
    ],
  ])('%s: exit 1, one line on stderr, no stack trace', async (_what, argsOf, re) => {
    const res = await runCli(['proto-file-reader-creator', ...argsOf(dir)]);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(re);
    expect(res.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
