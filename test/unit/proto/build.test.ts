import { stringify as toYaml } from 'yaml';
import { parseCsv, type CsvRecord } from '../../../src/io/index.js';
import {
  DEFAULT_PROTO_OUT_DIR,
  buildCsvScript,
  buildParquetScript,
  collectCsvSample,
  protoFromCsv,
  type GeneratedScript,
} from '../../../src/proto/index.js';
import { loadScript, type FileTableNode, type TableFileNode } from '../../../src/script/index.js';
import { UserInputError } from '../../../src/errors/index.js';

async function* recordsOf(text: string, separator = ','): AsyncGenerator<CsvRecord> {
  for (const r of parseCsv(text, { separator, source: 'test.csv' })) yield r;
}

/** Loads the generated script with Plexus's own loader (structure, references, expression types). */
async function load(g: GeneratedScript, format: 'json' | 'yaml' = 'json') {
  const text = format === 'json' ? JSON.stringify(g.script, null, 2) : toYaml(g.script, { lineWidth: 0 });
  return loadScript({ scriptUrl: `proto.${format}`, readText: () => Promise.resolve(text) });
}

const TSV = [
  'Id\tProduct Name\tPrice\tWeight\tIn Stock\tAdded',
  '1\tKeyboard\t49.99\t0.850\ttrue\t2023-01-02 03:04:05',
  '2\t\t199.00\t5.125\tfalse\t2022-12-31 23:59:59',
  '3\tCable\t-3.50\t0.010\ttrue\t2000-02-29 00:00:00',
  '',
].join('\n');

describe('CSV script with a header', () => {
  let g: GeneratedScript;
  beforeAll(async () => {
    g = await protoFromCsv(recordsOf(TSV, '\t'), {
      fileUrl: '/data/products.tsv',
      separator: '\t',
      hdrLineIdx: 0,
    });
  });

  test('read_file: manual file_table, col_hdr columns with the inferred types and formats', () => {
    const read = g.script.nodes.read_file;
    expect(read).toEqual({
      type: 'file_table',
      desc: 'Load products.tsv into table products',
      start_policy: 'manual',
      r: {
        urls: ['/data/products.tsv'],
        csv: { hdr_line_idx: 0, first_data_line_idx: 1, separator: '\t' },
        columns: {
          col_id: { col_type: 'int', csv: { col_hdr: 'Id', col_format: '%d' } },
          col_product_name: { col_type: 'string', csv: { col_hdr: 'Product Name' } },
          col_price: { col_type: 'decimal2', csv: { col_hdr: 'Price', col_format: '%f' } },
          col_weight: { col_type: 'float', csv: { col_hdr: 'Weight', col_format: '%f' } },
          col_in_stock: { col_type: 'bool', csv: { col_hdr: 'In Stock' } },
          col_added: { col_type: 'datetime', csv: { col_hdr: 'Added', col_format: '2006-01-02 15:04:05' } },
        },
      },
      w: {
        name: 'products',
        fields: {
          col_id: { expression: 'r.col_id', type: 'int' },
          col_product_name: { expression: 'r.col_product_name', type: 'string' },
          col_price: { expression: 'r.col_price', type: 'decimal2' },
          col_weight: { expression: 'r.col_weight', type: 'float' },
          col_in_stock: { expression: 'r.col_in_stock', type: 'bool' },
          col_added: { expression: 'r.col_added', type: 'datetime' },
        },
      },
    });
    // column order is the file's
    expect(Object.keys((read as { r: { columns: object } }).r.columns)).toEqual([
      'col_id',
      'col_product_name',
      'col_price',
      'col_weight',
      'col_in_stock',
      'col_added',
    ]);
  });

  test('write_file: table_file with the input header names, order and separator, the generator formats', () => {
    expect(g.script.nodes.write_file).toEqual({
      type: 'table_file',
      desc: 'Write table products to products.tsv',
      r: { table: 'products', expected_batches_total: 1 },
      w: {
        url_template: `${DEFAULT_PROTO_OUT_DIR}/products.tsv`,
        csv: { separator: '\t' },
        columns: [
          { name: 'col_id', expression: 'r.col_id', type: 'int', csv: { header: 'Id', format: '%d' } },
          {
            name: 'col_product_name',
            expression: 'r.col_product_name',
            type: 'string',
            csv: { header: 'Product Name', format: '%s' },
          },
          {
            name: 'col_price',
            expression: 'r.col_price',
            type: 'decimal2',
            csv: { header: 'Price', format: '%s' },
          },
          {
            name: 'col_weight',
            expression: 'r.col_weight',
            type: 'float',
            csv: { header: 'Weight', format: '%.3f' },
          },
          {
            name: 'col_in_stock',
            expression: 'r.col_in_stock',
            type: 'bool',
            csv: { header: 'In Stock', format: '%t' },
          },
          {
            name: 'col_added',
            expression: 'r.col_added',
            type: 'datetime',
            csv: { header: 'Added', format: '2006-01-02 15:04:05' },
          },
        ],
      },
    });
    expect(g.warnings).toEqual([]);
  });

  test('passes Plexus validation, as JSON and as YAML', async () => {
    for (const format of ['json', 'yaml'] as const) {
      const s = await load(g, format);
      expect([...s.nodes.keys()].sort()).toEqual(['read_file', 'write_file']);
      const read = s.nodes.get('read_file') as FileTableNode;
      expect(read.startPolicy).toBe('manual');
      expect(read.w.name).toBe('products');
      const write = s.nodes.get('write_file') as TableFileNode;
      expect(write.startPolicy).toBe('auto');
      expect(s.dependencyPolicies.size).toBe(1);
    }
  });

  test('the stock dependency policy is the default', () => {
    const p = g.script.dependency_policies.current_active_first_stopped_nogo;
    expect(p?.is_default).toBe(true);
    expect(p?.rules).toHaveLength(10);
  });
});

describe('CSV script without a header', () => {
  test('col_%03d fields read by col_idx, no hdr_line_idx, headers = field names; validates', async () => {
    const g = await protoFromCsv(recordsOf('1,a,2024-01-02\n2,b,2024-01-03\n'), {
      fileUrl: '/in/plain.csv',
      outDir: '/out/',
    });
    const read = g.script.nodes.read_file as { r: Record<string, unknown> };
    expect(read.r.csv).toEqual({ first_data_line_idx: 0, separator: ',' });
    expect(read.r.columns).toEqual({
      col_000: { col_type: 'int', csv: { col_idx: 0, col_format: '%d' } },
      col_001: { col_type: 'string', csv: { col_idx: 1 } },
      col_002: { col_type: 'datetime', csv: { col_idx: 2, col_format: '2006-01-02' } },
    });
    const write = g.script.nodes.write_file as { w: { url_template: string; columns: { csv: unknown }[] } };
    expect(write.w.url_template).toBe('/out/plain.csv');
    expect(write.w.columns.map((c) => c.csv)).toEqual([
      { header: 'col_000', format: '%d' },
      { header: 'col_001', format: '%s' },
      { header: 'col_002', format: '2006-01-02 15:04:05' },
    ]);
    await expect(load(g)).resolves.toBeDefined();
  });

  test('a one-column file validates (index mode with a single column)', async () => {
    const g = await protoFromCsv(recordsOf('a\nb\n'), { fileUrl: '/in/tags.csv' });
    await expect(load(g)).resolves.toBeDefined();
  });

  test('first data line index skips leading lines', async () => {
    const g = await protoFromCsv(recordsOf('junk,junk\n1,2\n3,4\n'), {
      fileUrl: '/in/x.csv',
      firstDataLineIdx: 1,
    });
    const cols = (g.script.nodes.read_file as { r: { columns: Record<string, { col_type: string }> } }).r
      .columns;
    expect(Object.values(cols).map((c) => c.col_type)).toEqual(['int', 'int']);
  });
});

describe('sampling', () => {
  test('only the first 100 data lines decide', async () => {
    const lines = ['n'];
    for (let i = 0; i < 150; i++) lines.push(i === 120 ? 'oops' : String(i));
    const g = await protoFromCsv(recordsOf(lines.join('\n')), { fileUrl: '/in/n.csv', hdrLineIdx: 0 });
    const cols = (g.script.nodes.read_file as { r: { columns: Record<string, { col_type: string }> } }).r
      .columns;
    expect(cols.col_n?.col_type).toBe('int');
  });

  test('stops reading once the sample is complete', async () => {
    let pulled = 0;
    async function* endless(): AsyncGenerator<CsvRecord> {
      for (let i = 0; ; i++) {
        pulled++;
        yield { index: i, line: i + 1, fields: [String(i)] };
      }
    }
    const s = await collectCsvSample(endless(), { source: 'x', hdrLineIdx: -1, firstDataLineIdx: 0 });
    expect(s.rows).toHaveLength(100);
    expect(pulled).toBe(100);
  });

  test('the header may come after leading lines; data from the line after it by default', async () => {
    const g = await protoFromCsv(recordsOf('# export,\nid,name\n1,a\n'), {
      fileUrl: '/x.csv',
      hdrLineIdx: 1,
    });
    const read = g.script.nodes.read_file as { r: { csv: unknown } };
    expect(read.r.csv).toEqual({ hdr_line_idx: 1, first_data_line_idx: 2, separator: ',' });
  });
});

describe('warnings', () => {
  test('a header-only file: every column string, with a warning', async () => {
    const g = await protoFromCsv(recordsOf('a,b\n'), { fileUrl: '/x.csv', hdrLineIdx: 0 });
    expect(g.warnings).toEqual(['/x.csv: no data lines from line index 1 on: every column is typed string']);
    await expect(load(g)).resolves.toBeDefined();
  });

  test('a column empty in every sampled line is typed string, with a warning', async () => {
    const g = await protoFromCsv(recordsOf('a,b\n1,\n2, \n'), { fileUrl: '/x.csv', hdrLineIdx: 0 });
    expect(g.warnings).toEqual(['/x.csv: column(s) col_b are empty in the 2 sampled line(s): typed string']);
  });

  test('duplicate header texts: columns are read by index instead', async () => {
    const g = await protoFromCsv(recordsOf('v,v\n1,2\n'), { fileUrl: '/x.csv', hdrLineIdx: 0 });
    const read = g.script.nodes.read_file as { r: { columns: object } };
    expect(read.r.columns).toEqual({
      col_v: { col_type: 'int', csv: { col_idx: 0, col_format: '%d' } },
      col_v_2: { col_type: 'int', csv: { col_idx: 1, col_format: '%d' } },
    });
    expect(g.warnings[0]).toMatch(/header has "v" more than once: columns are read by index/);
    await expect(load(g)).resolves.toBeDefined();
  });

  test('text the loader would take for a parameter reference is reported', async () => {
    const g = await protoFromCsv(recordsOf('{price},b\n1,2\n'), { fileUrl: '/x.csv', hdrLineIdx: 0 });
    expect(g.warnings[0]).toMatch(/header "\{price\}" contains \{price\}, which the script loader reads/);
  });
});

describe('errors', () => {
  const fail = (p: Promise<unknown>): Promise<UserInputError> =>
    p.then(
      () => {
        throw new Error('expected an error');
      },
      (e: unknown) => {
        expect(e).toBeInstanceOf(UserInputError);
        return e as UserInputError;
      },
    );

  test('an empty file', async () => {
    const e = await fail(protoFromCsv(recordsOf('\n\n'), { fileUrl: '/x.csv', source: 'x.csv' }));
    expect(e.message).toBe(
      'x.csv: the file is empty: no lines to infer column types from (blank lines do not count)',
    );
  });

  test('a header line index past the end names the file and its last line', async () => {
    const e = await fail(protoFromCsv(recordsOf('a\nb\n\nc\n'), { fileUrl: '/x.csv', hdrLineIdx: 5 }));
    expect(e.message).toBe(
      '/x.csv: header line index 5 is past the end of the file: it has 3 line(s) (indexes 0-2, the last on line 4; blank lines do not count)',
    );
  });

  test.each([
    ['', /is empty/],
    [';;', /must be one character/],
    ['"', /cannot delimit CSV fields/],
    ['\n', /cannot delimit CSV fields/],
    ['§', /not an ASCII character/],
  ])('separator %j', async (sep, re) => {
    const e = await fail(protoFromCsv(recordsOf('a\n'), { fileUrl: '/x.csv', separator: sep }));
    expect(e.message).toMatch(re);
    expect(e.message).toMatch(/^\/x\.csv: separator /);
  });

  test('line indexes', async () => {
    await expect(
      fail(protoFromCsv(recordsOf('a\n'), { fileUrl: '/x.csv', hdrLineIdx: -2 })),
    ).resolves.toEqual(
      expect.objectContaining({ message: expect.stringMatching(/header line index -2 is not valid/) }),
    );
    await expect(
      fail(protoFromCsv(recordsOf('a\n'), { fileUrl: '/x.csv', firstDataLineIdx: -1 })),
    ).resolves.toEqual(
      expect.objectContaining({ message: expect.stringMatching(/first data line index -1 is not valid/) }),
    );
    await expect(
      fail(protoFromCsv(recordsOf('a\n'), { fileUrl: '/x.csv', hdrLineIdx: 2, firstDataLineIdx: 1 })),
    ).resolves.toEqual(
      expect.objectContaining({
        message:
          '/x.csv: first data line index 1 comes before the header line 2: data lines must follow the header',
      }),
    );
  });

  test('a record with a different field count is reported with its line (by the CSV reader)', async () => {
    await expect(protoFromCsv(recordsOf('a,b\n1\n'), { fileUrl: '/x.csv' })).rejects.toThrow(
      /test\.csv, line 2 \(record 1\): wrong number of fields/,
    );
  });

  test('buildCsvScript: a header that does not match the column count', () => {
    expect(() =>
      buildCsvScript({
        fileUrl: '/x.csv',
        separator: ',',
        hdrLineIdx: 0,
        firstDataLineIdx: 1,
        header: ['a'],
        types: [],
      }),
    ).toThrow(/the header has 1 fields but 0 column types/);
  });
});

describe('Parquet script', () => {
  const columns = new Map([
    ['id', 'int'],
    ['Product Name', 'string'],
    ['price', 'decimal2'],
    ['weight', 'float'],
    ['in_stock', 'bool'],
    ['added', 'datetime'],
  ] as const);

  test('columns from the schema: parquet col_name in, parquet column_name out; validates', async () => {
    const g = buildParquetScript({ fileUrl: 's3://b/k/products.parquet', outDir: 's3://b/out', columns });
    const read = g.script.nodes.read_file as { r: unknown; w: unknown; start_policy: string };
    expect(read.start_policy).toBe('manual');
    expect(read.r).toEqual({
      urls: ['s3://b/k/products.parquet'],
      columns: {
        col_id: { col_type: 'int', parquet: { col_name: 'id' } },
        col_product_name: { col_type: 'string', parquet: { col_name: 'Product Name' } },
        col_price: { col_type: 'decimal2', parquet: { col_name: 'price' } },
        col_weight: { col_type: 'float', parquet: { col_name: 'weight' } },
        col_in_stock: { col_type: 'bool', parquet: { col_name: 'in_stock' } },
        col_added: { col_type: 'datetime', parquet: { col_name: 'added' } },
      },
    });
    expect((read.w as { name: string }).name).toBe('products');
    const write = g.script.nodes.write_file as { w: { url_template: string; columns: unknown[] } };
    expect(write.w.url_template).toBe('s3://b/out/products.parquet');
    expect(write.w.columns[1]).toEqual({
      name: 'col_product_name',
      expression: 'r.col_product_name',
      type: 'string',
      parquet: { column_name: 'Product Name' },
    });
    expect(g.warnings).toEqual([]);
    await expect(load(g)).resolves.toBeDefined();
    await expect(load(g, 'yaml')).resolves.toBeDefined();
  });

  test('unreadable columns are left out with a warning; none readable is an error', () => {
    const g = buildParquetScript({
      fileUrl: '/p.parquet',
      columns: new Map([['a', 'int']]),
      unsupported: new Map([['t', 'TIME columns are not supported']]),
    });
    expect(g.warnings).toEqual(['/p.parquet: column "t" is left out: TIME columns are not supported']);
    expect(() =>
      buildParquetScript({
        fileUrl: '/p.parquet',
        columns: new Map(),
        unsupported: new Map([['t', 'TIME columns are not supported']]),
      }),
    ).toThrow('/p.parquet: the file has no column that can be read ("t": TIME columns are not supported)');
  });
});
