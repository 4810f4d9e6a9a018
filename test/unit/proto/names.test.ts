import { baseFileName, fieldNames, sanitizeName, tableNameFor } from '../../../src/proto/index.js';

describe('field names', () => {
  test('col_<header>: lower case, other characters become _', () => {
    expect(fieldNames(['Id', 'Product Name', 'price_USD', 'Prix (€)', 'a-b.c'])).toEqual([
      'col_id',
      'col_product_name',
      'col_price_usd',
      'col_prix____',
      'col_a_b_c',
    ]);
  });

  test('headers are trimmed before sanitising; an empty header gives col_%03d', () => {
    expect(fieldNames(['  Name ', '', '   ', 'x'])).toEqual(['col_name', 'col_001', 'col_002', 'col_x']);
  });

  test('without a header: col_000, col_001, ...', () => {
    expect(fieldNames([undefined, undefined, undefined])).toEqual(['col_000', 'col_001', 'col_002']);
    expect(fieldNames(Array.from({ length: 1001 }, () => undefined))[1000]).toBe('col_1000');
  });

  test('names made equal by sanitising get _2, _3', () => {
    expect(fieldNames(['A b', 'a_b', 'A-B', 'col_a_b_2'])).toEqual([
      'col_a_b',
      'col_a_b_2',
      'col_a_b_3',
      'col_col_a_b_2',
    ]);
    expect(fieldNames(['x', 'x', 'x_2'])).toEqual(['col_x', 'col_x_2', 'col_x_2_2']);
  });

  test('sanitizeName', () => {
    expect(sanitizeName('Hello World!')).toBe('hello_world_');
    expect(sanitizeName('ÄÖ')).toBe('__');
  });
});

describe('table names', () => {
  test('the file name without extension, sanitised', () => {
    expect(tableNameFor('products.csv')).toBe('products');
    expect(tableNameFor('My Data.v2.tsv')).toBe('my_data_v2');
    expect(tableNameFor('orders')).toBe('orders');
  });

  test('names Capillaries reserves get a t_ prefix; at most 42 characters; never empty', () => {
    expect(tableNameFor('idx_things.csv')).toBe('t_idx_things');
    expect(tableNameFor('wf_x.parquet')).toBe('t_wf_x');
    expect(tableNameFor('system_log.csv')).toBe('t_system_log');
    expect(tableNameFor(`${'a'.repeat(60)}.csv`)).toHaveLength(42);
    expect(tableNameFor('€€.csv')).toBe('data');
  });

  test('base file names of paths and URLs', () => {
    expect(baseFileName('/data/in/products.csv')).toBe('products.csv');
    expect(baseFileName('s3://bucket/a/b/products.parquet')).toBe('products.parquet');
    expect(baseFileName('https://host/x/products.csv?raw=true#top')).toBe('products.csv');
    expect(baseFileName('sftp://u@h/home/u/f.tsv')).toBe('f.tsv');
    expect(baseFileName('products.csv')).toBe('products.csv');
  });
});
