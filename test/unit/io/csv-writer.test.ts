import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import {
  CsvTableWriter,
  UrlIo,
  formatCsvHeader,
  formatCsvLine,
  type CsvWriteColumn,
} from '../../../src/io/index.js';
import { DateTime, Decimal, type Value } from '../../../src/values/index.js';

// Expected bytes were produced with Go's fmt.Sprintf / time.Format and Capillaries' line rules.
const COLUMNS: CsvWriteColumn[] = [
  { name: 'order_id', type: 'string', header: 'order_id', format: '%s' },
  { name: 'item', type: 'int', header: 'item', format: '%05d' },
  { name: 'total', type: 'decimal2', header: 'total,value', format: '%10s' },
  { name: 'weight', type: 'float', header: 'weight', format: '%.2f' },
  { name: 'ok', type: 'bool', header: 'ok', format: '%t' },
  { name: 'when', type: 'datetime', header: 'when', format: '2006-01-02 15:04:05' },
  { name: 'price', type: 'decimal2', header: 'price', format: '%s' },
];

const ROWS: Value[][] = [
  [
    'abc',
    1n,
    new Decimal('668.54'),
    3.14159,
    true,
    new DateTime(Date.UTC(2018, 5, 14, 2, 37, 56)),
    new Decimal('70.26'),
  ],
  [
    'a,b "q"',
    -5n,
    new Decimal(0),
    1e21,
    false,
    new DateTime(Date.UTC(2017, 9, 2, 10, 56, 33, 123), -3 * 3600, ''),
    new Decimal('-1.5'),
  ],
  ['', 123456n, new Decimal('12345678.9'), 0.5, true, DateTime.zero(), new Decimal('2.345')],
];

const EXPECTED =
  'order_id,item,"total,value",weight,ok,when,price\r\n' +
  'abc,00001,    668.54,3.14,true,2018-06-14 02:37:56,70.26\n' +
  '"a,b "q"",-0005,      0.00,1000000000000000000000.00,false,2017-10-02 07:56:33,-1.50\n' +
  ',123456,12345678.90,0.50,true,0001-01-01 00:00:00,2.35\n';

async function collect(s: PassThrough): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

test('header and lines, byte for byte', () => {
  expect(formatCsvHeader(COLUMNS) + ROWS.map((r) => formatCsvLine(r, COLUMNS)).join('')).toBe(EXPECTED);
});

test('CsvTableWriter writes the same bytes in chunks, header once', async () => {
  const out = new PassThrough();
  const done = collect(out);
  const w = new CsvTableWriter(out, COLUMNS);
  await w.writeRows(ROWS.slice(0, 1));
  await w.writeRows(ROWS.slice(1));
  await w.finish();
  out.end();
  expect(await done).toBe(EXPECTED);
  expect(w.rowsWritten).toBe(3);
});

test('zero rows give a header-only file', async () => {
  const out = new PassThrough();
  const done = collect(out);
  const w = new CsvTableWriter(out, COLUMNS.slice(0, 2));
  await w.finish();
  out.end();
  expect(await done).toBe('order_id,item\r\n');
});

test('TSV: the separator is written verbatim; commas are quoted whatever the separator', () => {
  const cols: CsvWriteColumn[] = [
    { name: 'a', type: 'string', header: 'a b', format: '%s' },
    { name: 'b', type: 'string', header: 'b,c', format: '%s' },
  ];
  expect(formatCsvHeader(cols, '\t')).toBe('a b\t"b,c"\r\n');
  expect(formatCsvLine(['x\ty', 'p,q'], cols, '\t')).toBe('x\ty\t"p,q"\n');
  expect(formatCsvLine(['1', '2'], cols, '||')).toBe('1||2\n');
});

test('decimal2 is rounded half away from zero to 2 places before the format', () => {
  const col: CsvWriteColumn[] = [{ name: 'd', type: 'decimal2', header: 'd', format: '%8s' }];
  expect(formatCsvLine([new Decimal('-2.345')], col)).toBe('   -2.35\n');
  expect(formatCsvLine([new Decimal('999')], col)).toBe('  999.00\n');
});

test('a value of the wrong type is a clear error', () => {
  expect(() =>
    formatCsvLine([5, 1n, new Decimal(1), 1, true, DateTime.zero(), new Decimal(1)], COLUMNS),
  ).toThrow('column order_id is string but got a number value');
  expect(() => formatCsvLine(['a'], COLUMNS)).toThrow('a row has 1 values for 7 columns');
});

test('through openWrite: the file appears only on commit', async () => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'plexus-csvw-'));
  try {
    const io = new UrlIo({ env: {} });
    const url = path.join(dir, 'out_00001.csv');
    const w = await io.openWrite(url);
    const csv = new CsvTableWriter(w.stream, COLUMNS);
    await csv.writeRows(ROWS);
    await csv.finish();
    await expect(fsp.access(url)).rejects.toThrow();
    await w.commit();
    expect(await fsp.readFile(url, 'utf8')).toBe(EXPECTED);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});
