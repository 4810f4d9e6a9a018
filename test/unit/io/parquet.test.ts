import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import zlib from 'node:zlib';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import {
  ParquetTableWriter,
  UrlIo,
  parquetFileInfo,
  readParquetFile,
  readParquetUrl,
  type ParquetCodec,
  type ParquetWriteColumn,
} from '../../../src/io/index.js';
import { DateTime, Decimal, type FieldType, type Value } from '../../../src/values/index.js';

const FIXTURE = path.join(import.meta.dirname, 'fixtures', 'capillaries_types.parquet');

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'plexus-pq-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

async function all(gen: AsyncIterable<Record<string, Value>>): Promise<Record<string, Value>[]> {
  const out: Record<string, Value>[] = [];
  for await (const r of gen) out.push(r);
  return out;
}

function decText(v: Value | undefined): string {
  expect(v).toBeInstanceOf(Decimal);
  return (v as Decimal).toFixed();
}

describe('reading (file written by the Parquet library Capillaries uses)', () => {
  const names = [
    's',
    'i32',
    'i64',
    'f32',
    'f64',
    'b',
    'dec32',
    'dec64',
    'decflba',
    'd',
    'tsmillis',
    'tsmicros',
    'ts96',
  ];

  test('types come from the file schema', async () => {
    const info = await parquetFileInfo(FIXTURE);
    expect(Object.fromEntries(info.columns)).toEqual({
      s: 'string',
      i32: 'int',
      i64: 'int',
      f32: 'float',
      f64: 'float',
      b: 'bool',
      dec32: 'decimal2',
      dec64: 'decimal2',
      decflba: 'decimal2',
      d: 'datetime',
      tsmillis: 'datetime',
      tsmicros: 'datetime',
      ts96: 'datetime',
    });
    expect(info.rows).toBe(3);
    expect(info.unsupported.size).toBe(0);
  });

  test('values, exact decimals with their scale, UTC datetimes, nulls as zero values', async () => {
    const rows = await all(
      readParquetFile(FIXTURE, { columns: names.map((n) => ({ name: `r_${n}`, column: n })), sliceRows: 2 }),
    );
    expect(rows).toHaveLength(3);
    const [a, nul, c] = rows as [Record<string, Value>, Record<string, Value>, Record<string, Value>];
    expect(a.r_s).toBe('héllo');
    expect(a.r_i32).toBe(-7n);
    expect(a.r_i64).toBe(9223372036854775807n);
    expect(a.r_f32).toBe(1.5);
    expect(a.r_f64).toBe(0.1);
    expect(a.r_b).toBe(true);
    expect(decText(a.r_dec32)).toBe('123.45');
    expect(decText(a.r_dec64)).toBe('-1234.567');
    expect(decText(a.r_decflba)).toBe('12345678901234567890.1234');
    expect(a.r_d).toEqual(new DateTime(Date.UTC(2018, 0, 1)));
    expect(a.r_tsmillis).toEqual(new DateTime(1528943876123));
    expect(a.r_tsmicros).toEqual(new DateTime(1528943876123));
    expect(a.r_ts96).toEqual(new DateTime(Date.UTC(2018, 5, 14, 2, 37, 56, 789)));

    expect(nul.r_s).toBe('');
    expect(nul.r_i32).toBe(0n);
    expect(nul.r_f64).toBe(0);
    expect(nul.r_b).toBe(false);
    expect(decText(nul.r_dec64)).toBe('0');
    expect((nul.r_tsmillis as DateTime).isZero()).toBe(true);
    expect((nul.r_ts96 as DateTime).isZero()).toBe(true);

    expect(c.r_i64).toBe(-9223372036854775808n);
    expect(c.r_f32).toBe(-0.25);
    expect(c.r_f64).toBe(-1e300);
    expect(decText(c.r_dec32)).toBe('-0.01');
    expect(decText(c.r_decflba)).toBe('-0.0005');
    expect(c.r_d).toEqual(new DateTime(Date.UTC(1969, 11, 31)));
    expect(c.r_tsmillis).toEqual(new DateTime(-1));
    expect(c.r_tsmicros).toEqual(new DateTime(-1)); // -1500 µs truncated toward zero
    expect(c.r_ts96).toEqual(new DateTime(Date.UTC(1969, 11, 31, 23, 59, 59, 999)));
  });

  test('one column can feed two reader fields; unknown columns are named', async () => {
    const rows = await all(
      readParquetFile(FIXTURE, {
        columns: [
          { name: 'x', column: 'i32' },
          { name: 'y', column: 'i32' },
        ],
      }),
    );
    expect(rows[0]).toEqual({ x: -7n, y: -7n });
    await expect(all(readParquetFile(FIXTURE, { columns: [{ name: 'x', column: 'nope' }] }))).rejects.toThrow(
      /capillaries_types\.parquet: no column "nope" in the file \(it has "s", "i32",/,
    );
  });

  test('not a Parquet file, missing file', async () => {
    const bad = path.join(dir, 'bad.parquet');
    await fsp.writeFile(bad, 'a,b\n1,2\n');
    await expect(all(readParquetFile(bad, { columns: [{ name: 'a', column: 'a' }] }))).rejects.toThrow(
      `${bad}: not a readable Parquet file`,
    );
    const missing = path.join(dir, 'missing.parquet');
    await expect(all(readParquetFile(missing, { columns: [{ name: 'a', column: 'a' }] }))).rejects.toThrow(
      `cannot read ${missing}: no such file or directory`,
    );
  });
});

const COLUMNS: ParquetWriteColumn[] = [
  { name: 'col_string', type: 'string' },
  { name: 'col int', type: 'int' },
  { name: 'col_float', type: 'float' },
  { name: 'col_bool', type: 'bool' },
  { name: 'col_decimal', type: 'decimal2' },
  { name: 'col_datetime', type: 'datetime' },
];

const ROWS: Value[][] = [
  ['naïve, "q"', 9223372036854775807n, 0.1, true, new Decimal('70.26'), new DateTime(1528943876123)],
  ['', 0n, 0, false, new Decimal(0), DateTime.zero()],
  ['x', -9223372036854775808n, -1e300, false, new Decimal('-123456789012.99'), new DateTime(-86_400_000)],
];

async function writeFile(
  file: string,
  rows: Value[][],
  codec?: ParquetCodec,
  rowGroupSize?: number,
): Promise<void> {
  const stream = fs.createWriteStream(file);
  const w = new ParquetTableWriter(stream, COLUMNS, { codec, rowGroupSize });
  await w.writeRows(rows);
  await w.finish();
  await new Promise<void>((resolve, reject) =>
    stream.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
}

describe('writing', () => {
  test.each<ParquetCodec>(['gzip', 'snappy', 'uncompressed'])(
    'round trip of all six types with %s',
    async (codec) => {
      const file = path.join(dir, `out_${codec}.parquet`);
      await writeFile(file, ROWS, codec);

      // schema as written
      const buf = await asyncBufferFromFile(file);
      const meta = await parquetMetadataAsync(buf);
      const cols = meta.schema.slice(1);
      expect(cols.map((c) => [c.name, c.type, c.repetition_type])).toEqual([
        ['col_string', 'BYTE_ARRAY', 'OPTIONAL'],
        ['col int', 'INT64', 'OPTIONAL'],
        ['col_float', 'DOUBLE', 'OPTIONAL'],
        ['col_bool', 'BOOLEAN', 'OPTIONAL'],
        ['col_decimal', 'INT64', 'OPTIONAL'],
        ['col_datetime', 'INT64', 'OPTIONAL'],
      ]);
      expect(cols[0]?.converted_type).toBe('UTF8');
      expect(cols[4]).toMatchObject({ converted_type: 'DECIMAL', scale: 2 });
      expect(cols[5]?.converted_type).toBe('TIMESTAMP_MILLIS');
      expect(meta.row_groups).toHaveLength(1);
      const chunkMeta = meta.row_groups[0]?.columns.map((c) => c.meta_data);
      expect(new Set(chunkMeta?.map((m) => m?.codec))).toEqual(new Set([codec.toUpperCase()]));
      expect(new Set(chunkMeta?.flatMap((m) => m?.encodings ?? []).filter((e) => e !== 'RLE'))).toEqual(
        new Set(['PLAIN']),
      );
      expect(meta.created_by).toBe('plexus');

      // raw physical values: decimal as unscaled int64 (read without annotations by hyparquet → number),
      // zero datetime as null
      const raw = await parquetReadObjects({
        file: buf,
        columns: ['col_datetime'],
        compressors: { GZIP: (input) => new Uint8Array(zlib.gunzipSync(input)) },
      });
      expect(raw[1]?.col_datetime).toBeNull();

      // back through our reader
      const info = await parquetFileInfo(file);
      expect(Object.fromEntries(info.columns)).toEqual({
        col_string: 'string',
        'col int': 'int',
        col_float: 'float',
        col_bool: 'bool',
        col_decimal: 'decimal2',
        col_datetime: 'datetime',
      });
      const back = await all(
        readParquetFile(file, { columns: COLUMNS.map((c) => ({ name: c.name, column: c.name })) }),
      );
      expect(back.map((r) => COLUMNS.map((c) => r[c.name]))).toEqual(ROWS);
    },
  );

  test('decimal2 is written as trunc(x*100)', async () => {
    const file = path.join(dir, 'dec.parquet');
    await writeFile(file, [['a', 1n, 1, true, new Decimal('1.239'), DateTime.zero()]]);
    const back = await all(readParquetFile(file, { columns: [{ name: 'd', column: 'col_decimal' }] }));
    expect(decText(back[0]?.d)).toBe('1.23');
  });

  test('zero rows: a valid empty file', async () => {
    const file = path.join(dir, 'empty.parquet');
    await writeFile(file, []);
    expect((await parquetFileInfo(file)).rows).toBe(0);
    expect(await all(readParquetFile(file, { columns: [{ name: 's', column: 'col_string' }] }))).toEqual([]);
  });

  test('several row groups read back in slices, in order', async () => {
    const file = path.join(dir, 'many.parquet');
    const rows: Value[][] = [];
    for (let i = 0; i < 12_000; i++) {
      rows.push([`s${i}`, BigInt(i), i / 2, i % 2 === 0, new Decimal(i).div(100), new DateTime(i * 1000)]);
    }
    await writeFile(file, rows, 'snappy', 5_000);
    const info = await parquetFileInfo(file);
    expect(info.rowGroups).toBe(3);
    let n = 0;
    for await (const r of readParquetFile(file, {
      columns: [
        { name: 'i', column: 'col int' },
        { name: 'd', column: 'col_decimal' },
      ],
      sliceRows: 2000,
    })) {
      expect(r.i).toBe(BigInt(n));
      expect((r.d as Decimal).equals(new Decimal(n).div(100))).toBe(true);
      n++;
    }
    expect(n).toBe(12_000);
  });

  test('bad values and definitions are clear errors', async () => {
    const stream = fs.createWriteStream(path.join(dir, 'x.parquet'));
    const w = new ParquetTableWriter(stream, COLUMNS);
    await expect(w.writeRows([[1n, 1n, 1, true, new Decimal(1), DateTime.zero()]])).rejects.toThrow(
      'column col_string is string but got a bigint value',
    );
    await expect(w.writeRows([['a']])).rejects.toThrow('a row has 1 values for 6 columns');
    stream.destroy();
    expect(
      () =>
        new ParquetTableWriter(process.stdout, [
          { name: 'a', type: 'int' },
          { name: 'a', type: 'string' },
        ]),
    ).toThrow('Parquet column "a" is defined twice');
    expect(() => new ParquetTableWriter(process.stdout, COLUMNS, { codec: 'lz4' as ParquetCodec })).toThrow(
      'unknown Parquet codec "lz4"',
    );
  });
});

test('unsigned integer columns read as their unsigned values; above int64 max is an error naming the column', async () => {
  const file = path.join(dir, 'unsigned.parquet');
  const opt = { repetition_type: 'OPTIONAL' as const };
  const buf = parquetWriteBuffer({
    schema: [
      { name: 'root', num_children: 4 },
      { ...opt, name: 'u32', type: 'INT32', converted_type: 'UINT_32' },
      { ...opt, name: 'u8', type: 'INT32', logical_type: { type: 'INTEGER', bitWidth: 8, isSigned: false } },
      { ...opt, name: 'u64', type: 'INT64', converted_type: 'UINT_64' },
      { name: 'r64', repetition_type: 'REQUIRED', type: 'INT64', converted_type: 'UINT_64' },
    ],
    columnData: [
      { name: 'u32', data: [4294967295, 0, null, 2147483648] },
      { name: 'u8', data: [255, 0, null, 7] },
      { name: 'u64', data: [9223372036854775807n, 0n, null, 9223372036854775808n] },
      { name: 'r64', data: [1n, 2n, 3n, 18446744073709551615n] },
    ],
  });
  fs.writeFileSync(file, Buffer.from(buf));
  const info = await parquetFileInfo(file);
  expect([...info.columns]).toEqual([
    ['u32', 'int'],
    ['u8', 'int'],
    ['u64', 'int'],
    ['r64', 'int'],
  ]);
  const cols = (names: string[]): { columns: { name: string; column: string }[] } => ({
    columns: names.map((n) => ({ name: n, column: n })),
  });
  const rows = await all(readParquetFile(file, cols(['u32', 'u8'])));
  expect(rows).toEqual([
    { u32: 4294967295n, u8: 255n },
    { u32: 0n, u8: 0n },
    { u32: 0n, u8: 0n },
    { u32: 2147483648n, u8: 7n },
  ]);
  // the first rows of the 64-bit column fit; the fourth does not
  const first = readParquetFile(file, cols(['u64']));
  expect((await first.next()).value).toEqual({ u64: 9223372036854775807n });
  await first.return(undefined);
  await expect(all(readParquetFile(file, cols(['u32', 'u64'])))).rejects.toThrow(
    `${file}, row 3, column "u64": value 9223372036854775808 does not fit a signed 64-bit int`,
  );
  await expect(all(readParquetFile(file, cols(['r64'])))).rejects.toThrow(
    'row 3, column "r64": value 18446744073709551615 does not fit a signed 64-bit int',
  );
});

test('readParquetUrl reads local paths and file:// URLs', async () => {
  const file = path.join(dir, 'u.parquet');
  await writeFile(file, ROWS);
  const io = new UrlIo({ env: {} });
  const a = await all(readParquetUrl(file, { columns: [{ name: 's', column: 'col_string' }] }, io));
  const b = await all(
    readParquetUrl(pathToFileURL(file).href, { columns: [{ name: 's', column: 'col_string' }] }, io),
  );
  expect(a.map((r) => r.s)).toEqual(['naïve, "q"', '', 'x']);
  expect(b).toEqual(a);
  expect(fs.existsSync(file)).toBe(true);
});

test('all field types map to a Parquet type', () => {
  const types: FieldType[] = ['int', 'float', 'decimal2', 'string', 'bool', 'datetime'];
  expect(
    () =>
      new ParquetTableWriter(
        process.stdout,
        types.map((t) => ({ name: t, type: t })),
      ),
  ).not.toThrow();
});
