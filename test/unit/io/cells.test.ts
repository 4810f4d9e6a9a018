import { Readable } from 'node:stream';
import { UserInputError } from '../../../src/errors/index.js';
import { CsvTableReader, compileCellParser, readCsvTable, type CsvRow } from '../../../src/io/index.js';
import { DateTime, Decimal, type FieldType, type Value } from '../../../src/values/index.js';

function parse(type: FieldType, text: string, format?: string, defaultValue?: string): Value {
  return compileCellParser({ name: 'c', type, format, defaultValue }, 'f.csv')(text);
}

function dec(v: Value): string {
  expect(v).toBeInstanceOf(Decimal);
  return (v as Decimal).toFixed();
}

describe('cell parsing per type (§3.1)', () => {
  test('string: raw text, empty → default or ""', () => {
    expect(parse('string', '  a b ')).toBe('  a b ');
    expect(parse('string', '')).toBe('');
    expect(parse('string', '   ', undefined, 'dflt')).toBe('dflt');
    expect(parse('string', '', undefined, 'dflt')).toBe('dflt');
  });

  test('bool: Go ParseBool, empty → default or false', () => {
    expect(parse('bool', 'T')).toBe(true);
    expect(parse('bool', ' false ')).toBe(false);
    expect(parse('bool', '')).toBe(false);
    expect(parse('bool', '', undefined, 'true')).toBe(true);
    expect(() => parse('bool', 'yes')).toThrow('strconv.ParseBool: parsing "yes": invalid syntax');
  });

  test('int: strict ParseInt without format, Sscanf with format (trailing text ignored)', () => {
    expect(parse('int', '42')).toBe(42n);
    expect(parse('int', ' -7 ')).toBe(-7n);
    expect(parse('int', '9223372036854775807')).toBe(9223372036854775807n);
    expect(parse('int', '')).toBe(0n);
    expect(parse('int', '', undefined, '15')).toBe(15n);
    expect(() => parse('int', '12abc')).toThrow('strconv.ParseInt: parsing "12abc": invalid syntax');
    expect(() => parse('int', '1.0')).toThrow('invalid syntax');
    expect(parse('int', '12abc', '%d')).toBe(12n);
    expect(parse('int', 'item 00012', 'item %d')).toBe(12n);
    expect(() => parse('int', 'x12', '%d')).toThrow('expected integer');
  });

  test('float: ParseFloat without format, Sscanf %f with format', () => {
    expect(parse('float', '1.5')).toBe(1.5);
    expect(parse('float', '1e3')).toBe(1000);
    expect(parse('float', '')).toBe(0);
    expect(parse('float', '', undefined, '2.25')).toBe(2.25);
    expect(parse('float', '3.5kg', '%f')).toBe(3.5);
    expect(() => parse('float', '3.5kg')).toThrow('strconv.ParseFloat: parsing "3.5kg": invalid syntax');
  });

  test('decimal2: decimal parse rounded to 2 places half away from zero; Sscanf via float', () => {
    expect(dec(parse('decimal2', '70.26'))).toBe('70.26');
    expect(dec(parse('decimal2', '1.005'))).toBe('1.01');
    expect(dec(parse('decimal2', '-1.005'))).toBe('-1.01');
    expect(dec(parse('decimal2', '12345678901234567890.125'))).toBe('12345678901234567890.13');
    expect(dec(parse('decimal2', ''))).toBe('0');
    expect(dec(parse('decimal2', '', undefined, '9.999'))).toBe('10');
    // with a format: Sscanf into a float64, decimal from the float's shortest text, then Round(2)
    expect(dec(parse('decimal2', '59.6 EUR', '%f'))).toBe('59.6');
    expect(dec(parse('decimal2', '0.125', '%f'))).toBe('0.13');
    expect(() => parse('decimal2', 'abc')).toThrow(UserInputError);
  });

  test('datetime: Go layout required; empty → default parsed with the layout, or the zero time', () => {
    const layout = '2006-01-02 15:04:05';
    expect(parse('datetime', '2017-10-02 10:56:33', layout)).toEqual(
      new DateTime(Date.UTC(2017, 9, 2, 10, 56, 33)),
    );
    const z = parse('datetime', '', layout) as DateTime;
    expect(z.isZero()).toBe(true);
    expect(parse('datetime', ' ', layout, '1980-02-03 04:05:06')).toEqual(
      new DateTime(Date.UTC(1980, 1, 3, 4, 5, 6)),
    );
    expect(() => parse('datetime', '2017-10-02', layout)).toThrow(/parsing time "2017-10-02"/);
  });

  test('column definitions are checked up front, naming file and column', () => {
    expect(() => compileCellParser({ name: 'd', type: 'datetime' }, 'in/a.csv')).toThrow(
      'in/a.csv: column d (datetime): a datetime column needs a format',
    );
    expect(() => compileCellParser({ name: 's', type: 'string', format: '%s' }, 'in/a.csv')).toThrow(
      'in/a.csv: column s (string): a format ("%s") is not allowed for string columns',
    );
    expect(() => compileCellParser({ name: 'b', type: 'bool', format: '%t' }, 'in/a.csv')).toThrow(
      /not allowed/,
    );
    expect(() => compileCellParser({ name: 'i', type: 'int', format: '%f' }, 'in/a.csv')).toThrow(
      'in/a.csv: column i (int): format "%f": bad verb \'%f\' for integer',
    );
    expect(() => compileCellParser({ name: 'i', type: 'int', defaultValue: 'x' }, 'in/a.csv')).toThrow(
      'in/a.csv: column i (int): default value "x" is not valid: strconv.ParseInt: parsing "x": invalid syntax',
    );
  });
});

async function rows(text: string, opts: Parameters<typeof readCsvTable>[1]): Promise<CsvRow[]> {
  const out: CsvRow[] = [];
  for await (const r of readCsvTable(Readable.from([Buffer.from(text)]), opts)) out.push(r);
  return out;
}

describe('readCsvTable', () => {
  const csv = 'junk line\n\nid,name,price,when\n1,"a, b",1.5,2020-01-02\n2,c,,2020-01-03\n';

  test('header mode: columns by header name, header record and earlier records skipped', async () => {
    const r = await rows(csv, {
      source: 'in/x.csv',
      hdrLineIdx: 1,
      firstDataLineIdx: 2,
      columns: [
        { name: 'name', type: 'string', header: 'name' },
        { name: 'id', type: 'int', header: 'id' },
        { name: 'price', type: 'decimal2', header: 'price', defaultValue: '0.5' },
        { name: 'when', type: 'datetime', header: 'when', format: '2006-01-02' },
      ],
    }).catch((e: unknown) => e);
    // the junk line has 1 field: the field count of the first record is enforced (Go semantics)
    expect(r).toBeInstanceOf(UserInputError);
    expect((r as Error).message).toBe(
      'in/x.csv, line 3 (record 1): wrong number of fields: expected 1 like the first record, found 4',
    );

    const good = await rows(csv.replace('junk line', 'junk,line,x,y'), {
      source: 'in/x.csv',
      hdrLineIdx: 1,
      firstDataLineIdx: 2,
      columns: [
        { name: 'name', type: 'string', header: 'name' },
        { name: 'id', type: 'int', header: 'id' },
        { name: 'price', type: 'decimal2', header: 'price', defaultValue: '0.5' },
        { name: 'when', type: 'datetime', header: 'when', format: '2006-01-02' },
      ],
    });
    expect(good.map((x) => [x.index, x.line, x.values.name, x.values.id, dec(x.values.price!)])).toEqual([
      [2, 4, 'a, b', 1n, '1.5'],
      [3, 5, 'c', 2n, '0.5'],
    ]);
  });

  test('index mode with first data line; TSV', async () => {
    const r = await rows('h1\th2\n7\tx\n8\ty\n', {
      source: 'in/t.tsv',
      separator: '\t',
      firstDataLineIdx: 1,
      columns: [
        { name: 'b', type: 'string', idx: 1 },
        { name: 'a', type: 'int', idx: 0 },
      ],
    });
    expect(r.map((x) => x.values)).toEqual([
      { b: 'x', a: 7n },
      { b: 'y', a: 8n },
    ]);
  });

  test('errors name file, line, column and the bad text', async () => {
    await expect(
      rows('id\n1\nx2\n', {
        source: 'in/bad.csv',
        firstDataLineIdx: 1,
        columns: [{ name: 'id', type: 'int' }],
      }),
    ).rejects.toThrow(
      'in/bad.csv, line 3, column id: cannot read "x2" as int: strconv.ParseInt: parsing "x2": invalid syntax',
    );
    await expect(
      rows('a,b\n', { source: 'in/h.csv', columns: [{ name: 'z', type: 'string', header: 'zz' }] }),
    ).rejects.toThrow('in/h.csv, line 1: header record 0 has no column for z (header "zz")');
    await expect(
      rows('a,b\n1,2\n', { source: 'in/i.csv', columns: [{ name: 'z', type: 'string', idx: 5 }] }),
    ).rejects.toThrow('in/i.csv, line 1, column z: column index 5 is beyond the 2 fields of the record');
    await expect(
      rows('', { source: 'in/e.csv', hdrLineIdx: 0, columns: [{ name: 'z', type: 'string', header: 'z' }] }),
    ).rejects.toThrow('in/e.csv: the header record 0 was not found');
    expect(
      () =>
        new CsvTableReader({
          source: 'in/m.csv',
          columns: [
            { name: 'a', type: 'string', header: 'a' },
            { name: 'b', type: 'string', idx: 1 },
          ],
        }),
    ).toThrow('in/m.csv: column b has no header name while other columns are addressed by header');
  });

  test('rows in the shape of the lookup suite input (index columns, %d, Go layout, %f decimals)', async () => {
    const text =
      'order_id,order_item_id,product_id,seller_id,shipping_limit_date,price,freight_value\n' +
      '7c04b11f46de97f00fb668d2e2050588,00002,00d1152ee863097d59d554ff15b10cc3,4c8b7d28178ef0a0370e54c96edcfe76,2018-11-08 03:37:24,57.31,34.03\n' +
      '2a87ee465a20546232d8a58f18d5a1fe,00001,7f414f78920ebf3d3179cd4bcc041f9c,68cfd02ad7f09de267d7ff6e85095511,2016-01-09 23:25:24,18.53,28.5\n';
    const r = await rows(text, {
      source: 'olist_order_items_dataset.csv',
      hdrLineIdx: 0,
      firstDataLineIdx: 1,
      columns: [
        { name: 'col_order_id', type: 'string', idx: 0 },
        { name: 'col_order_item_id', type: 'int', idx: 1, format: '%d' },
        { name: 'col_shipping_limit_date', type: 'datetime', idx: 4, format: '2006-01-02 15:04:05' },
        { name: 'col_price', type: 'decimal2', idx: 5, format: '%f' },
        { name: 'col_freight_value', type: 'decimal2', idx: 6, format: '%f' },
      ],
    });
    expect(
      r.map((x) => [x.values.col_order_item_id, dec(x.values.col_price!), dec(x.values.col_freight_value!)]),
    ).toEqual([
      [2n, '57.31', '34.03'],
      [1n, '18.53', '28.5'],
    ]);
    expect(r[1]!.values.col_shipping_limit_date).toEqual(new DateTime(Date.UTC(2016, 0, 9, 23, 25, 24)));
    expect(r[0]!.values.col_order_id).toBe('7c04b11f46de97f00fb668d2e2050588');
  });
});
