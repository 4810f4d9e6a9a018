import { ITEMS_CSV_0, shopNodes } from './fixture.js';
import { Sandbox, show } from './helpers.js';

const readItems = shopNodes()['read_items'] as { w: Record<string, unknown> };

const NODES = {
  read_items: { ...readItems, w: { ...readItems.w, indexes: {} } },
  file_items: {
    type: 'table_file',
    r: { table: 'items' },
    w: {
      url_template: '{dir}/out/items_{run_id}.parquet',
      parquet: { codec: 'snappy' },
      top: { order: 'order_id,qty' },
      columns: [
        { name: 'order_id', expression: 'r.order_id', type: 'string', parquet: { column_name: 'order id' } },
        { name: 'qty', expression: 'r.qty', type: 'int', parquet: { column_name: 'qty' } },
        { name: 'price', expression: 'r.price', type: 'decimal2', parquet: { column_name: 'price' } },
        {
          name: 'when',
          expression: 'time.Date(2024, time.March, int.iif(r.qty > 1, 2, 1), 10, 0, 0, 0, time.UTC)',
          type: 'datetime',
          parquet: { column_name: 'when' },
        },
      ],
    },
  },
  read_parquet: {
    type: 'file_table',
    r: {
      urls: ['{dir}/out/items_00001.parquet'],
      columns: {
        col_order_id: { parquet: { col_name: 'order id' }, col_type: 'string' },
        col_qty: { parquet: { col_name: 'qty' }, col_type: 'int' },
        col_price: { parquet: { col_name: 'price' }, col_type: 'decimal2' },
        col_when: { parquet: { col_name: 'when' }, col_type: 'datetime' },
      },
    },
    w: {
      name: 'items_again',
      fields: {
        order_id: { expression: 'r.col_order_id', type: 'string' },
        qty: { expression: 'r.col_qty', type: 'int' },
        price: { expression: 'r.col_price', type: 'decimal2' },
        when: { expression: 'r.col_when', type: 'datetime' },
      },
    },
  },
};

describe('Parquet files', () => {
  let sb: Sandbox;

  beforeEach(async () => {
    sb = new Sandbox();
    sb.file('items_0.csv', ITEMS_CSV_0);
    sb.file('items_1.csv', 'o3,3,12.50\n');
    sb.file('out/.keep', '');
    await sb.load(NODES);
  });

  afterEach(async () => {
    await sb.close();
  });

  test('table_file writes Parquet that file_table reads back with the same values', async () => {
    await sb.run('read_items');
    const [written] = await sb.run('file_items');
    expect(written!.filesWritten[0]).toBe(`${sb.dir}/out/items_00001.parquet`);
    expect(written!.rowsOut).toBe(4);
    const [read] = await sb.run('read_parquet');
    expect(read!.rowsOut).toBe(4);
    expect(show(await sb.rows('items_again')).sort()).toEqual([
      'order_id=o1 qty=1 price=12.5 when=2024-03-01T10:00:00.000Z',
      'order_id=o1 qty=2 price=3.2 when=2024-03-02T10:00:00.000Z',
      'order_id=o2 qty=1 price=18 when=2024-03-01T10:00:00.000Z',
      'order_id=o3 qty=3 price=12.5 when=2024-03-02T10:00:00.000Z',
    ]);
  });

  test('a Parquet column that is not in the file is named in the error', async () => {
    await sb.run('read_items');
    await sb.run('file_items');
    const nodes = structuredClone(NODES) as unknown as Record<
      string,
      { r: { columns: Record<string, unknown> } }
    >;
    nodes['read_parquet']!.r.columns['col_extra'] = { parquet: { col_name: 'nope' }, col_type: 'string' };
    await sb.load(nodes);
    const err = (await sb.run('read_parquet').catch((e: unknown) => e)) as Error;
    expect(err.message).toContain('node read_parquet');
    expect(err.message).toContain('items_00001.parquet');
    expect(err.message).toContain('"nope"');
  });
});
